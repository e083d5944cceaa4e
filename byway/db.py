"""One SQLAlchemy async engine per plugin, opened and disposed by the host; and the small
database helpers every plugin needs, so that none writes its own: :func:`new_id`, :func:`utcnow`,
the :class:`UTCDateTime` column type, :func:`iso_utc`, :func:`insert_for` and :func:`one_of`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sqlite3
import sys
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ColumnElement, DateTime, Dialect, Executable, String, bindparam, event, select, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, Result, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlalchemy.util import greenlet_spawn

from byway.prepared import Prepared, statement_of
from byway.security import secure_file
from byway.sqlite_inline import inline_creator, is_busy, waiting_for_locks

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime

log = logging.getLogger("byway.db")

#: How long a SQLite connection waits for another writer before failing (seconds).
SQLITE_BUSY_TIMEOUT = 30

#: What :func:`insert_for` returns: ``sqlalchemy.dialects.sqlite.insert`` or ``postgresql.insert``.
DialectInsert = Callable[[Any], sqlite.Insert] | Callable[[Any], postgresql.Insert]


def new_id() -> str:
    """A new opaque id for a primary key: 32 lowercase hex digits of a random UUID (uuid4)."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} refused: give it a time zone (use byway.db.utcnow())")
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` as ISO-8601 in UTC for GraphQL output, e.g. ``2025-01-31T09:30:00.123456+00:00``.

    Raises ``ValueError`` for a naive datetime: its zone is unknown. Columns of type
    :class:`UTCDateTime` are always read back aware.
    """
    return _aware_utc(moment).isoformat()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column stored in UTC and always read back timezone-aware in UTC.

    Its schema type is ``DateTime(timezone=True)``: ``timestamptz`` on PostgreSQL; on SQLite, which
    has no time zones, naive UTC text (which sorts chronologically, so comparisons work in SQL).
    Writing a naive datetime raises ``ValueError`` (wrapped in SQLAlchemy's ``StatementError`` when
    a statement is executed); aware ones are converted to UTC. Reading attaches UTC to SQLite's
    naive values and converts PostgreSQL's (in the session's time zone) to UTC, so the same code
    sees the same values on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value to send: UTC; for SQLite without its zone (SQLite would drop it unconverted)."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, not {type(value).__name__}")
        moment = _aware_utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value read: aware, in UTC (a naive value from SQLite was stored in UTC)."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_for(bound: AsyncSession | AsyncConnection | Session | Connection | Reader) -> DialectInsert:
    """The ``insert`` construct of the dialect ``bound`` (a session or connection) talks to.

    Both have ``on_conflict_do_nothing`` for idempotent ``INSERT ... ON CONFLICT DO NOTHING
    RETURNING`` (let the unique index decide, never read-then-insert)::

        stmt = insert_for(session)(users).values(...).on_conflict_do_nothing(index_elements=["email"])

    Raises ``ValueError`` for a dialect other than SQLite and PostgreSQL (the two Byway supports).
    """
    dialect = (bound.get_bind() if isinstance(bound, AsyncSession | Session | Reader) else bound).dialect.name
    if dialect == "sqlite":
        return sqlite.insert
    if dialect == "postgresql":
        return postgresql.insert
    raise ValueError(f"byway supports SQLite and PostgreSQL databases, not {dialect!r}")


_STR = frozenset({str})


class _TextList(TypeDecorator[list[str]]):
    """A list of strings bound as ONE parameter: a JSON array on SQLite, a ``text[]`` on PostgreSQL."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """``text[]`` on PostgreSQL, text (the JSON) elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(String()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """The values as strings: a list on PostgreSQL, their JSON array on SQLite."""
        if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
            raise TypeError(f"one_of needs a list of strings, not {type(value).__name__}")
        if type(value) is list and set(map(type, value)) <= _STR:  # ids already, the usual case: no copy
            values = value
        else:
            values = [str(item) for item in value]
        return values if dialect.name == "postgresql" else json.dumps(values)


class _OneOf(ColumnElement[bool]):
    """``column IN (values of a list parameter)``: see :func:`one_of`."""

    __visit_name__ = "byway_one_of"
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], values: ColumnElement[Any]) -> None:
        self.column = column
        self.values = values


@compiles(_OneOf)
def _one_of_sqlite(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"


@compiles(_OneOf, "postgresql")
def _one_of_postgresql(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} = ANY({values})"


def one_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column IN (...)`` for a list of text values (ids) bound at execution as ONE parameter.

    ``column.in_(ids)`` renders a parameter per value, every time it runs: for 50 ids that costs
    more than the query. ``one_of(column, "ids")`` is one statement, compiled and cached once, whose
    parameter ``ids`` takes any number of values (``json_each`` on SQLite, ``= ANY`` on
    PostgreSQL)::

        IN_COURSES = select(enrollments.c.course_id).where(byway.one_of(enrollments.c.course_id, "ids"))
        rows = await session.execute(IN_COURSES, {"ids": course_ids})

    An empty list matches nothing. A value that is not a list, set or tuple (a lone string, a
    generator) is refused when the statement runs: SQLAlchemy's ``StatementError`` caused by a
    ``TypeError``.
    """
    return _OneOf(column, bindparam(name, type_=_TextList()))


def held_ids(column: ColumnElement[Any]) -> Callable[[PluginRuntime], Awaitable[list[str]]]:
    """A :attr:`byway.Relation.held_ids` reading ``column``: its distinct non-null values, as text.

    ``Relation(source="reviews.Review.courseId", ..., held_ids=byway.held_ids(reviews.c.course_id),
    exists=COURSES_EXIST)``: ``byway audit`` calls it with the source plugin's runtime, and it
    reads only that plugin's own database.
    """

    async def read(plugin: PluginRuntime) -> list[str]:
        async with plugin.sessions() as session:
            values = (await session.execute(select(column).where(column.is_not(None)).distinct())).scalars()
            return [str(value) for value in values]

    read.__qualname__ = read.__name__ = f"held_ids({column})"
    return read


def async_url(url: str | URL) -> URL:
    """The URL with an async driver: ``sqlite`` → aiosqlite, ``postgresql`` → psycopg (async)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL as text with its password hidden (for logs and ``byway plugins``)."""
    return make_url(url).render_as_string(hide_password=True)


#: How SQLite is driven: ``inline`` (sqlite3 on the event loop's thread, a worker thread only to
#: wait for a lock; see :mod:`byway.sqlite_inline`) or ``aiosqlite`` (every statement on a thread).
SQLITE_DRIVERS = ("inline", "aiosqlite")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, *, busy_timeout: bool = True) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; busy_timeout makes writers queue instead of
    # failing with "database is locked" when many requests write at once (the inline driver
    # keeps it at 0 and waits on a worker thread instead).
    cursor.execute("PRAGMA journal_mode=WAL")
    if busy_timeout:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _inline_pragmas(dbapi_conn: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_conn, record, busy_timeout=False)


def _inline_read_engine(url: URL, echo: bool) -> Engine:
    """The synchronous engine of an inline SQLite database's readers: plain ``sqlite3``
    connections (busy timeout 0, usable from a worker thread for the wait), a pool that never
    makes the loop wait for a connection (overflow without limit; idle extras are closed)."""
    database = url.database or ":memory:"
    uri = str(url.query.get("uri", "")).lower() in {"true", "1"}

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(database, timeout=0, check_same_thread=False, uri=uri)

    engine = create_sync_engine(
        "sqlite+pysqlite://",
        creator=connect,
        poolclass=QueuePool,
        pool_size=5,
        max_overflow=-1,
        echo=echo,
        hide_parameters=True,
    )
    event.listen(engine, "connect", _read_pragmas)
    return engine


def _read_pragmas(dbapi_conn: Any, record: Any) -> None:
    """The inline pragmas; on a worker thread (:func:`_connect_waiting`) waiting for locks first."""
    if not getattr(_connecting, "wait", False):
        _inline_pragmas(dbapi_conn, record)
        return
    with waiting_for_locks(dbapi_conn, SQLITE_BUSY_TIMEOUT * 1000):
        _inline_pragmas(dbapi_conn, record)


#: Default of :attr:`PluginDatabase.ping_after_idle` (``Settings.database_ping_after_idle_seconds``).
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "byway_idle_since"


def _mark_idle(_dbapi_conn: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def ping(dbapi_conn: Any) -> None:
    """``SELECT 1`` on a pooled DBAPI connection (raises when the server dropped it), then a
    rollback: a sessions' connection is handed out idle, not inside the transaction the ping
    began (a no-op without a round trip on the readers' autocommit connections)."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("SELECT 1")
    finally:
        cursor.close()
    dbapi_conn.rollback()


def _ping_if_idle(after: float, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Before handing out a server connection that sat idle in the pool for more than ``after``
    seconds, ping it; a dead one is replaced by a fresh connection (SQLAlchemy retries the checkout
    on ``DisconnectionError``). A connection in steady use is not pinged: ``pool_pre_ping`` would
    add a round trip to every session, the largest cost of a short request on PostgreSQL.
    """
    since = record.info.get(_IDLE_SINCE)
    if since is None or time.monotonic() - since <= after:
        return
    try:
        ping(dbapi_conn)
    except Exception as exc:
        log.info("pooled connection of a plugin database was dropped by the server; reconnecting: %s", exc)
        raise DisconnectionError() from exc


#: The connections one plugin may hold on a database server (PostgreSQL), as ``(kept, overflow)``
#: per pool (and per worker process): the sessions' pool and the readers' pool together may open at
#: most 15, SQLAlchemy's default for the single pool there was before readers had theirs (5 plugins:
#: at most 75 of PostgreSQL's default ``max_connections=100``). A reader holds a connection only
#: while its statement runs, so 5 serve many concurrent requests; they have no overflow because an
#: overflow connection is closed when it comes back while the pool is full, so a load that often
#: needs one more connects again and again (measured: 150 to 200 new server connections per plugin
#: in 8 s of 16 concurrent catalogue pages with one shared pool of 5 + 10). A block that finds its
#: pool at the limit waits for a connection (SQLAlchemy's ``pool_timeout``, 30 s); it never
#: borrows from the other pool.
SESSIONS_POOL = (5, 5)
READERS_POOL = (5, 0)
#: Of the readers' pool, how many connections :class:`~byway.prepared.Prepared` reads on
#: PostgreSQL keep out for the driver itself (:class:`_DriverLane`); the others serve the
#: readers' other statements. It stays within the plugin's 15 connections.
DRIVER_LANE = 2


_PQ_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE (psycopg is imported only with a PostgreSQL database)


def _end_stray_transaction(dbapi_conn: Any, _record: Any, state: Any) -> None:
    """Pool ``reset`` listener of the readers' engine (psycopg), whose connections are in
    autocommit and so are returned without a rollback: one that is in a transaction all the same
    (a reader ran ``BEGIN``, which autocommit does not refuse) is rolled back, so no read
    connection goes back to the pool, or to the next reader, inside a transaction. A synchronous
    attribute read (no round trip) in the usual case."""
    if state.asyncio_safe and dbapi_conn.driver_connection.pgconn.transaction_status != _PQ_IDLE:
        dbapi_conn.rollback()


class Reader(ABC):
    """Read-only access to a plugin's database for one block, cheaper than a session.

    ``async with plugin.reader() as db`` (or ``ctx.reader()`` in a resolver), then
    ``await db.execute(statement, params)`` / ``await db.scalar(...)``. For resolvers that only
    read, on the hot path of a page: a session is an ORM unit of work (identity map, transaction
    bookkeeping, events) run through SQLAlchemy's greenlet bridge, about 0.2 ms of overhead per
    use; a reader is a Core connection. On SQLite with the inline driver it is a plain ``sqlite3``
    connection used on the event loop's thread (a statement that meets a lock runs again on a
    worker thread that may wait, as :mod:`byway.sqlite_inline` does). On PostgreSQL each statement
    runs on a connection of the readers' own pool (autocommit: no ``BEGIN``, no ``ROLLBACK``),
    taken and given back around the statement in one step; with aiosqlite it is an
    ``AsyncConnection`` for the block.

    A reader never writes and never commits; it sees what is committed (not a session's pending
    writes), and leaves no transaction open. Read each result inside the block. Store functions
    that serve both take :data:`Readable` (a session or a reader).
    """

    @abstractmethod
    async def execute(self, statement: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
        """Run a statement; its result."""

    async def scalar(self, statement: Executable, params: dict[str, Any] | None = None) -> Any:
        """Run a statement; the first column of its first row (None without rows)."""
        return (await self.execute(statement, params)).scalar()

    async def scalars(self, statement: Prepared | Executable, params: dict[str, Any] | None = None) -> list[Any]:
        """Run a statement; the first column of every row (a :class:`~byway.prepared.Prepared`
        one on the database driver directly where it can: see :mod:`byway.prepared`)."""
        return list((await self.execute(statement_of(statement), params)).scalars().all())

    @abstractmethod
    def get_bind(self) -> Connection | Engine:
        """The connection or engine (``.dialect.name`` tells SQLite from PostgreSQL), as a session's ``get_bind()``."""


#: What store functions that only read accept: a session or a :class:`Reader`.
Readable = AsyncSession | Reader


class _ConnectionReader(Reader):
    """A reader on an ``AsyncConnection`` (PostgreSQL, aiosqlite)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def execute(self, statement: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
        return await self._connection.execute(statement, params)

    def get_bind(self) -> Connection:
        return self._connection.sync_connection  # type: ignore[return-value]


def _execute_on_its_own(engine: Engine, statement: Executable, params: dict[str, Any] | None) -> Result[Any]:
    """Take a connection, run the statement, give the connection back (in one greenlet hop)."""
    with engine.connect() as connection:
        return connection.execute(statement, params)


class _ServerReader(Reader):
    """A reader on a server database (PostgreSQL): each statement runs on a connection of the
    readers' engine (autocommit), taken and given back around it in one greenlet hop, where an
    ``AsyncConnection`` takes three (connect, execute, close). The driver fetches the rows with
    the statement, so the result is read after the connection went back (a server-side cursor,
    ``stream_results``, is refused by PostgreSQL outside a transaction). Stateless: one per
    database.
    """

    __slots__ = ("_engine", "_lane")

    def __init__(self, engine: Engine, lane: _DriverLane | None = None) -> None:
        self._engine = engine
        self._lane = lane

    async def execute(self, statement: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
        return await greenlet_spawn(_execute_on_its_own, self._engine, statement, params)

    async def scalars(self, statement: Prepared | Executable, params: dict[str, Any] | None = None) -> list[Any]:
        if isinstance(statement, Prepared):
            values = None if self._lane is None else await self._lane.scalars(statement, params)
            if values is None:
                values = await greenlet_spawn(_scalars_on_its_own, self._engine, statement, params)
            return values
        return await super().scalars(statement, params)

    def get_bind(self) -> Engine:
        return self._engine

    async def close(self) -> None:
        """Give the driver lane's connections back (before the readers' engine is disposed)."""
        if self._lane is not None:
            await self._lane.close()


class _DriverLane:
    """Connections of the readers' pool kept out for :class:`~byway.prepared.Prepared` reads on
    PostgreSQL, whose statements are awaited on psycopg's ``AsyncConnection`` itself.

    Through the pool, a read takes a ``Connection`` and gives it back in a greenlet hop, and the
    statement crosses SQLAlchemy's adapter and its greenlet switches: measured here, 1.03 ms of CPU
    per read of the 50-id enrollment join against 0.43 ms on the lane (docs/performance.md).

    The lane holds at most :data:`DRIVER_LANE` connections, taken from the readers' pool when a
    read finds none idle (and the pool has one to spare); each serves one statement at a time.
    When all are busy, a read waits for one: a prepared read is short, and through the pool it
    would cost the event loop more CPU than the wait. A read goes through the pool only when the
    lane has nothing to wait for (the pool is taken by other readers) or when SQLAlchemy must run
    the statement (see :mod:`byway.prepared`); a statement the driver refuses runs again through
    SQLAlchemy, which reports its error. A connection that sat idle for longer than the database's
    ``ping_after_idle`` is pinged first, as the pool's checkout does (:func:`_ping_if_idle`); one
    the server dropped, or that the driver leaves broken or inside a transaction, is invalidated.
    A cancelled read leaves its connection idle: psycopg cancels the statement on the server.
    Connections are taken through the pool, so its events (connect, reset) and its limit apply.
    """

    __slots__ = ("_closed", "_dead", "_engine", "_idle", "_idle_after", "_out", "_size", "_waiters")

    def __init__(self, engine: Engine, size: int, idle_after: float) -> None:
        self._engine = engine
        self._size = size if idle_after > 0 else 0  # always pinged: every read through the pool
        self._idle_after = idle_after
        self._idle: list[tuple[Any, float]] = []  # (pooled connection, when it was put back)
        self._out = 0  # connections the lane holds, idle or in use
        self._dead: list[Any] = []  # to invalidate (from a coroutine that may await)
        self._waiters: deque[asyncio.Future[None]] = deque()  # reads waiting for a lane connection
        self._closed = False

    async def scalars(self, prepared: Prepared, params: dict[str, Any] | None) -> list[Any] | None:
        """The statement's first column through a lane connection; None when the read must go
        through the pool (no connection to spare, SQLAlchemy must run it, the driver failed)."""
        call = prepared.driver_call(self._engine, params)
        if call is None:
            return None  # SQLAlchemy must run it: no connection to take for it
        pooled = await self._take()
        if pooled is None:
            return None
        try:
            return await call.scalars_async(_lane_cursor(pooled), self._engine.dialect.loaded_dbapi.Error)
        finally:
            self._put_back(pooled)
            if self._closed:
                await self._bury()

    async def _take(self) -> Any:
        while True:
            if self._dead:
                await self._bury()
            while self._idle:
                pooled, since = self._idle.pop()
                if time.monotonic() - since <= self._idle_after or await self._answers(pooled):
                    return pooled
                self._dead.append(pooled)  # idle for long, and the server dropped it
                await self._bury()
            if self._closed or self._size == 0:
                return None
            pool = self._engine.pool
            if self._out < self._size and pool.checkedout() < pool.size():  # type: ignore[attr-defined]
                self._out += 1
                try:
                    return await greenlet_spawn(self._engine.raw_connection)
                except BaseException as exc:
                    self._out -= 1
                    self._wake()
                    if isinstance(exc, Exception):  # the server is down, say: the pool's read reports it
                        return None
                    raise
            if self._out == 0:
                return None  # the pool has none to spare and the lane none to wait for
            # Every lane connection is in use: wait for one (a prepared read is short, and through
            # the pool it would cost the loop more CPU than the wait).
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif not waiter.cancelled():
                    self._wake()  # it was woken, then cancelled: pass the turn on
                raise

    async def _answers(self, pooled: Any) -> bool:
        """Ping a lane connection that sat idle for longer than the allowance (as the pool's
        checkout pings its own, :func:`_ping_if_idle`)."""
        try:
            await pooled.driver_connection.execute("SELECT 1")
        except self._engine.dialect.loaded_dbapi.Error as exc:
            log.info("lane connection of a plugin database was dropped by the server; reconnecting: %s", exc)
            return False
        except BaseException:  # cancelled: the connection goes back (or is buried) as after a read
            self._put_back(pooled)
            raise
        return True

    def _put_back(self, pooled: Any) -> None:
        driver = pooled.driver_connection
        usable = driver is not None and not (driver.closed or driver.broken)
        if self._closed or not usable or driver.pgconn.transaction_status != _PQ_IDLE:
            self._dead.append(pooled)
        else:
            self._idle.append((pooled, time.monotonic()))
        self._wake()

    def _wake(self) -> None:
        """Wake the first reader waiting for a lane connection (it takes it, or grows the lane)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _bury(self) -> None:
        while self._dead:  # one at a time: a cancelled bury leaves the others listed
            pooled = self._dead.pop()
            self._out -= 1
            self._wake()  # a waiting read may take the freed place
            await greenlet_spawn(pooled.invalidate)

    async def close(self) -> None:
        """Give the idle connections back to the pool (those in use are invalidated when their
        statement ends)."""
        self._closed = True
        while self._waiters:  # they go through the pool
            self._wake()
        idle, self._idle = self._idle, []
        self._out -= len(idle)
        for pooled, _since in idle:
            await greenlet_spawn(pooled.close)
        await self._bury()


#: Where a lane connection keeps its cursor (in the pool's record of the connection).
_LANE_CURSOR = "byway.lane_cursor"


def _lane_cursor(pooled: Any) -> Any:
    """The cursor the lane's reads use on ``pooled``, made once per driver connection: a new
    cursor per read (``AsyncConnection.execute``) builds its adaptation context each time and
    costs ~20 µs more of the loop's CPU (measured here, docs/performance.md)."""
    driver = pooled.driver_connection
    cursor = pooled.info.get(_LANE_CURSOR)
    if cursor is None or cursor.connection is not driver:
        cursor = pooled.info[_LANE_CURSOR] = driver.cursor()
    return cursor


def _scalars_on_its_own(engine: Engine, prepared: Prepared, params: dict[str, Any] | None) -> list[Any]:
    """A prepared statement's first column through the driver (SQLAlchemy when it must), on a
    connection taken and given back in the reader's one greenlet hop."""
    with engine.connect() as connection:
        values = prepared.driver_scalars(engine, connection.connection.dbapi_connection, params)
        if values is not None:
            return values
        return list(connection.execute(prepared.statement, params).scalars().all())


class _InlineReader(Reader):
    """A reader of an inline SQLite database, used on the event loop's thread.

    A statement through SQLAlchemy runs on a connection of the readers' pool, taken at the
    block's first such statement (a :class:`~byway.prepared.Prepared` one needs none: it runs on
    this thread's driver connection of the database, see :meth:`PluginDatabase.driver_connection`).
    The connections' busy timeout is 0: a statement that would wait for a lock fails at once
    (WAL readers rarely meet one: a checkpoint, a recovery) and is run again on a worker thread
    with the full busy timeout, so the loop never waits.
    """

    __slots__ = ("_connection", "_database")

    def __init__(self, database: PluginDatabase) -> None:
        self._database = database
        self._connection: Connection | None = None

    async def _pooled(self) -> Connection:
        if self._connection is None:
            engine = self._database._read_engine
            assert engine is not None
            try:
                self._connection = engine.connect()
            except OperationalError as exc:  # a new connection's pragmas met a lock
                if not is_busy(exc.orig):
                    raise
                self._connection = await asyncio.to_thread(_connect_waiting, engine)
        return self._connection

    async def execute(self, statement: Executable, params: dict[str, Any] | None = None) -> Result[Any]:
        connection = await self._pooled()
        try:
            return connection.execute(statement, params)
        except OperationalError as exc:
            if not is_busy(exc.orig):
                raise
        return await asyncio.to_thread(_waiting, connection, statement, params)

    async def scalars(self, statement: Prepared | Executable, params: dict[str, Any] | None = None) -> list[Any]:
        if isinstance(statement, Prepared):
            driver = self._database.driver_connection()
            values = None if driver is None else statement.driver_scalars(self.get_bind(), driver, params)
            if values is not None:
                return values
        return await super().scalars(statement, params)

    def get_bind(self) -> Engine:
        engine = self._database._read_engine
        assert engine is not None
        return engine

    def close(self) -> None:
        """Give the pooled connection back, if the block took one."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


def _waiting(connection: Connection, statement: Executable, params: dict[str, Any] | None) -> Result[Any]:
    """Run a statement on a worker thread, waiting for locks (the inline busy timeout is 0)."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with waiting_for_locks(raw, SQLITE_BUSY_TIMEOUT * 1000):
        return connection.execute(statement, params)


class _ReaderBlock:
    """``async with database.reader() as db``: a plain class, the hot path of every page."""

    __slots__ = ("_around", "_async_connection", "_database", "_inline")

    def __init__(self, database: PluginDatabase, around: AbstractContextManager[Any] | None) -> None:
        self._database = database
        self._around = around
        self._inline: _InlineReader | None = None
        self._async_connection: AsyncConnection | None = None

    async def __aenter__(self) -> Reader:
        if self._around is not None:
            self._around.__enter__()
        try:
            if self._database._read_engine is not None:
                self._inline = _InlineReader(self._database)
                return self._inline
            server_reader = self._database._server_reader
            if server_reader is not None:  # each statement takes (and gives back) a connection
                return server_reader
            self._async_connection = await self._database.engine.connect()
            return _ConnectionReader(self._async_connection)
        except BaseException:
            if self._around is not None:
                self._around.__exit__(*sys.exc_info())
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._inline is not None:
                inline, self._inline = self._inline, None
                inline.close()
            elif self._async_connection is not None:
                async_connection, self._async_connection = self._async_connection, None
                await async_connection.close()
        finally:
            if self._around is not None:
                self._around.__exit__(kind, exc, tb)


_connecting = threading.local()


def _connect_waiting(engine: Engine) -> Connection:
    """``engine.connect()`` on a worker thread, a new connection's pragmas waiting for locks."""
    _connecting.wait = True
    try:
        return engine.connect()
    finally:
        _connecting.wait = False


class PluginDatabase:
    """A plugin's database: its URL, engine and session factory."""

    def __init__(
        self,
        plugin: str,
        url: str | URL,
        *,
        echo: bool = False,
        sqlite_driver: str = "inline",
        ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    ) -> None:
        if sqlite_driver not in SQLITE_DRIVERS:
            raise ValueError(f"sqlite_driver must be one of {', '.join(SQLITE_DRIVERS)}, not {sqlite_driver!r}")
        self.plugin = plugin
        self.url = async_url(url)
        self.echo = echo
        self.sqlite_driver = sqlite_driver
        #: A pooled server connection idle longer than this is pinged before use (0: always).
        self.ping_after_idle = ping_after_idle
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        #: The synchronous engine of readers (inline SQLite only).
        self._read_engine: Engine | None = None
        #: Each event loop thread's driver connection for prepared reads (inline SQLite files only).
        self._drivers: dict[int, sqlite3.Connection] = {}
        #: The readers' engine on a server database (PostgreSQL): autocommit, a pool of its own.
        self._server_read_engine: AsyncEngine | None = None
        self._server_reader: _ServerReader | None = None
        #: ``(device, inode)`` of the SQLite file when it was opened: readiness checks it is still that file.
        self.file_identity: tuple[int, int] | None = None

    @property
    def is_sqlite(self) -> bool:
        """True for a SQLite database (batch migrations, file in the data directory)."""
        return self.url.get_backend_name() == "sqlite"

    @property
    def reads_wait(self) -> bool:
        """Whether a read waits for its answer (a database server, or aiosqlite's thread) with the
        event loop free to run other tasks meanwhile; False on SQLite's inline driver, whose reads
        run on the event loop's thread. Work started before a read overlaps with it only when True."""
        return not (self.is_sqlite and self.sqlite_driver == "inline")

    @property
    def sqlite_path(self) -> str | None:
        """The file of a SQLite database (None for Postgres, in-memory and URI databases)."""
        database = self.url.database if self.is_sqlite else None
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return database

    @property
    def engine(self) -> AsyncEngine:
        """The open engine; :meth:`open` must have been awaited."""
        if self._engine is None:
            raise RuntimeError(f"database of plugin {self.plugin!r} is not open")
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory (``async with db.sessions() as session``)."""
        if self._sessions is None:
            raise RuntimeError(f"database of plugin {self.plugin!r} is not open")
        return self._sessions

    @property
    def sync_engines(self) -> list[Engine]:
        """Every SQLAlchemy engine of this database (the async engine's ``sync_engine`` and, on
        inline SQLite and PostgreSQL, the readers' engine): attach engine events to all of them
        (statement counters, pool metrics)."""
        engines = [self.engine.sync_engine]
        if self._read_engine is not None:
            engines.append(self._read_engine)
        if self._server_read_engine is not None:
            engines.append(self._server_read_engine.sync_engine)
        return engines

    def reader(self, around: AbstractContextManager[Any] | None = None) -> AbstractAsyncContextManager[Reader]:
        """A :class:`Reader` for one block, inside ``around`` (e.g. a tracing span) when given.

        Its connection goes back to the pool at the end of the block (on PostgreSQL, at the end
        of each statement)."""
        return _ReaderBlock(self, around)

    async def open(self, *, create_database: bool = False) -> None:
        """Create the engines; with ``create_database``, create a missing SQLite directory or Postgres database.

        On PostgreSQL the readers have an engine of their own, in autocommit at the engine level
        (no per-use switch and reset), whose connections go back to the pool without a rollback
        (they hold no transaction; :func:`_end_stray_transaction`); both pools together stay
        within one plugin's connection budget (:data:`SESSIONS_POOL`, :data:`READERS_POOL`).
        """
        if self._engine is not None:
            return
        if create_database:
            try:
                await self._create_database()
            except Exception as exc:
                # An unreachable server must not stop the process: /readyz reports it (503) and
                # migrations fail with the plugin's name.
                log.warning("cannot check or create the database of plugin %s: %s", self.plugin, exc)
        # hide_parameters: an error (and echo) never writes the statement's values (emails, names) to logs.
        # No pool_pre_ping (a round trip before every use): _ping_if_idle pings only connections
        # that sat idle long enough for the server to have dropped them.
        kwargs: dict[str, Any] = {"echo": self.echo, "hide_parameters": True}
        inline = self.is_sqlite and self.sqlite_driver == "inline"
        if inline:
            database = self.url.database or ":memory:"
            uri = str(self.url.query.get("uri", "")).lower() in {"true", "1"}
            kwargs["async_creator"] = inline_creator(database, busy_timeout=SQLITE_BUSY_TIMEOUT, uri=uri)
        elif self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
        if self.sqlite_path is not None:
            # Owner-only: the file holds password hashes and personal data.
            self.file_identity = secure_file(self.sqlite_path, make_dirs=create_database)
        if not self.is_sqlite:
            kwargs["pool_size"], kwargs["max_overflow"] = SESSIONS_POOL
        engine = create_async_engine(self.url, **kwargs)
        if inline:
            self._read_engine = _inline_read_engine(self.url, self.echo)
        if self.is_sqlite:
            event.listen(engine.sync_engine, "connect", _inline_pragmas if inline else _sqlite_pragmas)
        else:
            kwargs["pool_size"], kwargs["max_overflow"] = READERS_POOL
            if self.url.get_driver_name() == "psycopg":  # no rollback on return: see _end_stray_transaction
                kwargs.update(pool_reset_on_return=None, skip_autocommit_rollback=True)
            readers = create_async_engine(self.url, isolation_level="AUTOCOMMIT", **kwargs)
            if self.url.get_driver_name() == "psycopg":
                event.listen(readers.sync_engine, "reset", _end_stray_transaction)
            ping_if_idle = functools.partial(_ping_if_idle, self.ping_after_idle)
            for each in (engine, readers):
                event.listen(each.sync_engine, "checkin", _mark_idle)
                event.listen(each.sync_engine, "checkout", ping_if_idle)
            self._server_read_engine = readers
            lane = None
            if self.url.get_driver_name() == "psycopg":
                lane = _DriverLane(readers.sync_engine, DRIVER_LANE, self.ping_after_idle)
            self._server_reader = _ServerReader(readers.sync_engine, lane)
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def driver_connection(self) -> sqlite3.Connection | None:
        """This thread's own ``sqlite3`` connection to an inline SQLite file, for the statements a
        reader runs on the driver directly (:class:`~byway.prepared.Prepared`): such a statement
        runs and is fetched in one synchronous step, so no other task can use the connection
        meanwhile, and it needs no connection of the pool. Opened with the readers' pragmas (busy
        timeout 0); None when there is none (not an inline SQLite file, or opening met a lock)."""
        ident = threading.get_ident()
        connection = self._drivers.get(ident)
        if connection is not None:
            return connection
        engine, path = self._read_engine, self.sqlite_path
        if engine is None or path is None:
            return None
        uri = str(self.url.query.get("uri", "")).lower() in {"true", "1"}
        connection = sqlite3.connect(path, timeout=0, check_same_thread=False, uri=uri)
        try:
            prepare = engine.dialect.on_connect()
            if prepare is not None:
                prepare(connection)
            _inline_pragmas(connection, None)
        except sqlite3.OperationalError as exc:
            connection.close()
            if is_busy(exc):
                return None  # the pool's connection (and its wait on a worker thread) serves this read
            raise
        self._drivers[ident] = connection
        return connection

    async def close(self) -> None:
        """Dispose the engines and their pools (and close the driver connections)."""
        drivers, self._drivers = self._drivers, {}
        for connection in drivers.values():
            connection.close()
        if self._engine is not None:
            await self._engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()
        if self._server_reader is not None:
            await self._server_reader.close()
        if self._server_read_engine is not None:
            await self._server_read_engine.dispose()
        self._engine = None
        self._sessions = None
        self._read_engine = None
        self._server_read_engine = None
        self._server_reader = None

    async def _create_database(self) -> None:
        if self.is_sqlite:
            if self.sqlite_path is not None:
                Path(self.sqlite_path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            return
        if self.url.get_backend_name() != "postgresql" or not self.url.database:
            return
        admin = create_async_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                exists = await conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": self.url.database}
                )
                if not exists:
                    quoted = self.url.database.replace('"', '""')
                    log.info("creating database %s for plugin %s", self.url.database, self.plugin)
                    try:
                        await conn.execute(text(f'CREATE DATABASE "{quoted}"'))
                    except Exception:  # another process may have created it meanwhile
                        exists = await conn.scalar(
                            text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": self.url.database},
                        )
                        if not exists:
                            raise
        finally:
            await admin.dispose()
