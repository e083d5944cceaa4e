"""SQLite driven on the event loop's own thread, with a worker thread only when it must wait.

aiosqlite runs every statement on a helper thread: each one costs two thread hand-offs (a queue
put, a wake-up, the GIL going back and forth), about 0.3 to 0.5 ms on a busy machine, for a lookup
that ``sqlite3`` answers in ~25 µs. Byway's statements are short index lookups on a local file, so
this driver runs them inline on the loop's thread (the standard ``sqlite3`` module), behind the
same SQLAlchemy aiosqlite dialect (it is given as the dialect's ``async_creator``).

Waiting is never done inline: the connection's busy timeout is 0, so a statement that would wait
for another connection's write lock fails at once with ``SQLITE_BUSY``; it is then run again on a
worker thread with the full busy timeout, while the loop serves other requests (including the
one that holds the lock and must commit to release it). The results are the same as
aiosqlite's: the same ``sqlite3`` connection semantics, the same exceptions.

Only what SQLAlchemy's aiosqlite dialect uses of an aiosqlite connection is implemented.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: Primary result codes that mean "another connection holds a lock": worth waiting for.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def is_busy(exc: BaseException | None) -> bool:
    """True when ``exc`` is SQLite's "another connection holds a lock" (worth waiting for)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    return "locked" in str(exc).lower()


@contextmanager
def waiting_for_locks(conn: Any, busy_ms: int) -> Iterator[None]:
    """Inside the block ``conn`` (a ``sqlite3`` connection) waits up to ``busy_ms`` for a lock (on
    a worker thread, never on the loop); its busy timeout is 0 again after it."""
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    try:
        yield
    finally:
        conn.execute("PRAGMA busy_timeout = 0")


class InlineSQLiteConnection:
    """The subset of ``aiosqlite.Connection`` SQLAlchemy's aiosqlite dialect uses, run inline."""

    def __init__(self, conn: sqlite3.Connection, busy_timeout: float) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._busy_ms = int(busy_timeout * 1000)
        # The dialect sets ``isolation_level`` through aiosqlite's request queue (``_tx``).
        self._tx = _ImmediateQueue()

    @property
    def _connection(self) -> sqlite3.Connection | None:
        # The dialect checks ``adapted._connection._connection`` before commit/rollback.
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._raw().isolation_level

    def _raw(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` inline; when SQLite answers busy, again on a worker thread that may wait."""
        try:
            return func(*args)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or self._busy_ms <= 0:
                raise
        return await asyncio.to_thread(self._waiting, func, *args)

    def _waiting(self, func: Callable[..., T], *args: Any) -> T:
        with waiting_for_locks(self._raw(), self._busy_ms):
            return func(*args)

    def cursor(self) -> InlineSQLiteCursor:
        return InlineSQLiteCursor(self, self._raw().cursor())

    async def commit(self) -> None:
        await self.run(self._raw().commit)

    async def rollback(self) -> None:
        self._raw().rollback()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def stop(self) -> None:
        """Close at once (the dialect's forced termination)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._raw().create_function(*args, **kwargs)


class InlineSQLiteCursor:
    """The subset of ``aiosqlite.Cursor`` SQLAlchemy uses (also its own async context manager)."""

    def __init__(self, owner: InlineSQLiteConnection, cursor: sqlite3.Cursor) -> None:
        self._owner = owner
        self._cursor = cursor

    async def __aenter__(self) -> InlineSQLiteCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> InlineSQLiteCursor:
        await self._owner.run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineSQLiteCursor:
        await self._owner.run(self._cursor.executemany, sql, list(parameters))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _ImmediateQueue:
    """Stands in for aiosqlite's request queue: runs ``(future, function)`` at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)


def inline_creator(database: str, *, busy_timeout: float, uri: bool = False) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine`` opening ``database`` with this driver."""

    async def connect() -> InlineSQLiteConnection:
        conn = sqlite3.connect(database, timeout=0, check_same_thread=False, uri=uri)
        return InlineSQLiteConnection(conn, busy_timeout)

    return connect
