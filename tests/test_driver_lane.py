"""The readers' driver lane on PostgreSQL: prepared reads awaited on psycopg itself.

A :class:`byway.Prepared` read on PostgreSQL runs on a connection the lane keeps out of the
readers' pool (at most ``DRIVER_LANE`` of it), awaited on the event loop without SQLAlchemy's
greenlet bridge. These tests watch what the server and the pool see: which backend answered,
how many connections the lane holds, what happens when the server drops one, when a read is
cancelled, when one sat idle, and when the database closes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Column as C
from sqlalchemy import Float, Integer, MetaData, String, Table, bindparam, func, insert, literal_column, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

import byway
import byway.db
from byway.db import DRIVER_LANE, READERS_POOL, PluginDatabase
from byway.prepared import Prepared
from tests.databases import end_session, open_tables, server_states

metadata = MetaData()
names = Table("names", metadata, C("id", Integer, primary_key=True), C("name", String(50)))
#: Values psycopg's array format must carry as they are: quotes, backslashes, braces, commas,
#: the word NULL, spaces, non-ASCII.
ODD = ['say "hi"', "back\\slash", "{braced}", "a,b", "NULL", " spaced ", "ü ñ 名"]

NAMED = Prepared(select(names.c.name).where(byway.one_of(names.c.name, "names")).order_by(names.c.id))
BACKEND = Prepared(select(func.pg_backend_pid()))
SLEEP = Prepared(select(literal_column("1", Integer)).select_from(func.pg_sleep(bindparam("seconds", type_=Float))))
MILLION_TIMES = Prepared(select(bindparam("x", type_=Integer) * literal_column("1000000", Integer)))
DIVIDE = Prepared(select(literal_column("1", Integer) / bindparam("by", type_=Integer)))


async def opened(url: str, ping_after_idle: float = 10.0) -> PluginDatabase:
    return await open_tables(
        metadata,
        url,
        ping_after_idle=ping_after_idle,
        rows=(names, [{"id": n, "name": name} for n, name in enumerate([*ODD, "plain"])]),
    )


@pytest.fixture
async def lane_db(postgres: tuple[str, AsyncEngine]) -> AsyncIterator[tuple[PluginDatabase, AsyncEngine]]:
    """A new PostgreSQL database with the names table (closed afterwards), and the admin engine."""
    url, admin = postgres
    db = await opened(url)
    try:
        yield db, admin
    finally:
        await db.close()


@pytest.fixture
def through_the_pool(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets an item for each prepared read that went through the readers' pool
    (SQLAlchemy's path) instead of the lane."""
    taken: list[int] = []
    real = byway.db._scalars_on_its_own

    def counting(*args: Any) -> Any:
        taken.append(1)
        return real(*args)

    monkeypatch.setattr(byway.db, "_scalars_on_its_own", counting)
    return taken


async def read(db: PluginDatabase, statement: Prepared, params: dict[str, Any] | None = None) -> list[Any]:
    async with db.reader() as reader:
        return await reader.scalars(statement, params)


def checked_out(db: PluginDatabase) -> int:
    return db.sync_engines[-1].pool.checkedout()  # type: ignore[attr-defined,no-any-return]


async def test_prepared_reads_run_on_one_lane_connection_with_the_same_values(
    lane_db: tuple[PluginDatabase, AsyncEngine], through_the_pool: list[int]
) -> None:
    db, admin = lane_db
    for _ in range(10):
        assert await read(db, NAMED, {"names": [*ODD[::-1], "missing"]}) == ODD
    assert await read(db, NAMED, {"names": []}) == []
    pids = {(await read(db, BACKEND))[0] for _ in range(5)}
    assert len(pids) == 1  # one backend answered every read
    assert through_the_pool == []
    assert checked_out(db) == 1  # the lane keeps its connection out of the readers' pool
    assert (await server_states(admin, db))[pids.pop()] == "idle"  # autocommit: no transaction left
    async with db.sessions() as session:  # what a session commits, the next read sees
        await session.execute(insert(names).values(id=100, name="later"))
        await session.commit()
    assert await read(db, NAMED, {"names": ["later"]}) == ["later"]


async def test_a_lane_connection_keeps_one_cursor_for_its_reads_until_it_is_replaced(
    lane_db: tuple[PluginDatabase, AsyncEngine], through_the_pool: list[int]
) -> None:
    """A read reuses its lane connection's cursor (a new cursor per read costs the loop ~20 µs);
    a connection the server dropped is replaced, and the new one gets a cursor of its own."""
    db, admin = lane_db
    lane = db._server_reader._lane  # type: ignore[union-attr]
    [pid] = await read(db, BACKEND)
    [(pooled, _since)] = lane._idle
    cursor = pooled.info[byway.db._LANE_CURSOR]
    assert cursor.connection is pooled.driver_connection
    assert await read(db, NAMED, {"names": ["plain"]}) == ["plain"]
    assert await read(db, BACKEND) == [pid]
    assert pooled.info[byway.db._LANE_CURSOR] is cursor and not cursor.closed
    await end_session(admin, pid)
    assert await read(db, NAMED, {"names": ["plain"]}) == ["plain"]  # through the pool, no error
    [new_pid] = await read(db, BACKEND)
    [(replacement, _since)] = lane._idle
    fresh = replacement.info[byway.db._LANE_CURSOR]
    assert new_pid != pid and fresh is not cursor and fresh.connection is replacement.driver_connection
    assert through_the_pool == [1]


async def test_concurrent_reads_wait_for_the_lane_within_the_readers_pool(
    lane_db: tuple[PluginDatabase, AsyncEngine], through_the_pool: list[int]
) -> None:
    db, _admin = lane_db
    started = time.monotonic()
    assert await asyncio.gather(*(read(db, SLEEP, {"seconds": 0.05}) for _ in range(8))) == [[1]] * 8
    elapsed = time.monotonic() - started
    assert through_the_pool == []  # they waited for a lane connection
    assert checked_out(db) == DRIVER_LANE < READERS_POOL[0]  # the rest of the pool serves other reads
    assert elapsed >= 8 / DRIVER_LANE * 0.05 * 0.9
    async with db.reader() as reader:  # a statement through SQLAlchemy takes one of the others
        assert (await reader.execute(select(func.count()).select_from(names))).scalar() == len(ODD) + 1


async def test_a_lane_connection_the_server_dropped_is_replaced_and_the_read_answers(
    lane_db: tuple[PluginDatabase, AsyncEngine], through_the_pool: list[int]
) -> None:
    db, admin = lane_db
    [pid] = await read(db, BACKEND)
    await end_session(admin, pid)
    assert await read(db, NAMED, {"names": ["plain"]}) == ["plain"]  # through the pool, no error
    assert through_the_pool == [1]
    [new_pid] = await read(db, BACKEND)  # the lane has a new connection
    assert new_pid != pid and through_the_pool == [1]
    assert checked_out(db) == 1  # the dead one was invalidated, not kept


async def test_a_cancelled_read_leaves_its_lane_connection_usable(
    lane_db: tuple[PluginDatabase, AsyncEngine], through_the_pool: list[int]
) -> None:
    """A read cancelled mid-statement (a request's timeout): psycopg cancels the query on the
    server, and the connection goes back to the lane idle, not inside a transaction."""
    db, admin = lane_db
    [pid] = await read(db, BACKEND)
    task = asyncio.create_task(read(db, SLEEP, {"seconds": 5}))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2  # the server's statement was cancelled, not waited for
    assert await read(db, BACKEND) == [pid]  # the same connection serves the next read
    assert (await server_states(admin, db))[pid] == "idle"
    assert through_the_pool == []


async def test_a_statement_the_driver_refuses_gets_sqlalchemys_error_and_the_lane_goes_on(
    lane_db: tuple[PluginDatabase, AsyncEngine], through_the_pool: list[int]
) -> None:
    db, _admin = lane_db
    [pid] = await read(db, BACKEND)
    with pytest.raises(DBAPIError, match="integer out of range"):
        await read(db, MILLION_TIMES, {"x": 1_000_000})
    with pytest.raises(StatementError):  # not a list: refused by one_of's type, as SQLAlchemy says
        await read(db, NAMED, {"names": "plain"})
    assert await read(db, MILLION_TIMES, {"x": 2}) == [2_000_000]
    assert await read(db, BACKEND) == [pid]
    assert len(through_the_pool) == 2  # the two refused ones, run again through SQLAlchemy
    # A numeric or float result, whose processor needs the cursor's type code: SQLAlchemy runs it.
    assert [float(value) for value in await read(db, DIVIDE, {"by": 2})] == [0.5]
    assert len(through_the_pool) == 3


async def test_a_lane_connection_idle_for_long_is_pinged_before_use(
    postgres: tuple[str, AsyncEngine], through_the_pool: list[int]
) -> None:
    """As the pool pings a connection that sat idle for longer than ``ping_after_idle``, the lane
    pings its own: one the server dropped meanwhile is replaced before the read, which answers
    through the lane."""
    url, admin = postgres
    db = await opened(url, ping_after_idle=0.2)
    try:
        [pid] = await read(db, BACKEND)
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.3)
        [new_pid] = await read(db, BACKEND)
        assert new_pid != pid
        assert await read(db, NAMED, {"names": ["plain"]}) == ["plain"]
        assert through_the_pool == []  # pinged, found dead, replaced: no read fell back
        assert checked_out(db) == 1
    finally:
        await db.close()


async def test_without_the_idle_allowance_there_is_no_lane(
    postgres: tuple[str, AsyncEngine], through_the_pool: list[int]
) -> None:
    """``ping_after_idle=0`` (ping before every use) leaves prepared reads to the pool, which pings."""
    url, _admin = postgres
    db = await opened(url, ping_after_idle=0)
    try:
        assert await read(db, NAMED, {"names": ["plain"]}) == ["plain"]
        assert through_the_pool == [1] and checked_out(db) == 0
    finally:
        await db.close()


async def test_closing_the_database_closes_the_lanes_connections(postgres: tuple[str, AsyncEngine]) -> None:
    url, admin = postgres
    db = await opened(url)
    await asyncio.gather(*(read(db, SLEEP, {"seconds": 0.02}) for _ in range(4)))
    assert len(await server_states(admin, db)) >= DRIVER_LANE
    await db.close()
    for _ in range(50):
        if not await server_states(admin, db):
            break
        await asyncio.sleep(0.02)
    assert await server_states(admin, db) == {}


async def test_a_read_cancelled_while_it_waits_for_the_lane_leaves_the_lane_whole(
    lane_db: tuple[PluginDatabase, AsyncEngine], through_the_pool: list[int]
) -> None:
    db, _admin = lane_db
    busy = [asyncio.create_task(read(db, SLEEP, {"seconds": 0.3})) for _ in range(DRIVER_LANE)]
    await asyncio.sleep(0.1)
    waiting = asyncio.create_task(read(db, BACKEND))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await asyncio.gather(*busy) == [[1]] * DRIVER_LANE
    assert await asyncio.gather(*(read(db, SLEEP, {"seconds": 0.02}) for _ in range(6))) == [[1]] * 6
    assert checked_out(db) == DRIVER_LANE and through_the_pool == []


class _Driver:
    closed = broken = False
    pgconn = SimpleNamespace(transaction_status=0)


class _Pooled:
    def __init__(self) -> None:
        self.driver_connection = _Driver()
        self.invalidated = False

    def invalidate(self) -> None:
        self.invalidated = True


def fake_lane(size: int) -> tuple[Any, list[_Pooled]]:
    """A lane over a stand-in engine whose pool always has room (the waiting logic alone)."""
    made: list[_Pooled] = []

    def raw_connection() -> _Pooled:
        made.append(_Pooled())
        return made[-1]

    engine = SimpleNamespace(
        pool=SimpleNamespace(checkedout=lambda: len(made), size=lambda: 5),
        raw_connection=raw_connection,
        dialect=SimpleNamespace(loaded_dbapi=SimpleNamespace(Error=OSError)),
    )
    return byway.db._DriverLane(engine, size, idle_after=60), made  # type: ignore[arg-type]


async def test_a_reader_woken_for_a_connection_then_cancelled_passes_its_turn_on() -> None:
    lane, made = fake_lane(1)
    held = await lane._take()
    first = asyncio.create_task(lane._take())
    second = asyncio.create_task(lane._take())
    await asyncio.sleep(0)  # both wait: the lane's one connection is taken
    assert not first.done() and not second.done()
    lane._put_back(held)  # wakes the first ...
    first.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1) is held  # the turn went on to the second
    assert len(made) == 1


async def test_a_broken_connection_frees_its_place_in_the_lane_for_a_waiting_reader() -> None:
    lane, made = fake_lane(1)
    held = await lane._take()
    waiting = asyncio.create_task(lane._take())
    await asyncio.sleep(0)
    held.driver_connection.broken = True
    lane._put_back(held)
    replacement = await asyncio.wait_for(waiting, 1)
    assert held.invalidated and replacement is made[1] and not replacement.invalidated
