"""byway.db.Reader: read-only blocks on a plugin's database, cheaper than a session.

On inline SQLite a reader is a plain sqlite3 connection used on the loop's thread; a statement
that meets a lock runs again on a worker thread while the loop goes on. On PostgreSQL each
statement runs on a connection of the readers' own pool, in autocommit; with aiosqlite it is an
AsyncConnection. Either way it sees committed data only.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import tests.plugins.notes as notes
from byway.db import READERS_POOL, SESSIONS_POOL, PluginDatabase, Reader
from byway.metrics import Metrics
from byway.settings import Settings
from byway.testing import running_app
from tests.databases import WAYS, count_pings, driven, open_tables, server_states

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String(50), unique=True))


async def opened(url: str, driver: str = "inline", ping_after_idle: float = 10.0) -> PluginDatabase:
    return await open_tables(metadata, url, driver, ping_after_idle=ping_after_idle)


@pytest.fixture(params=WAYS)
async def db(request: pytest.FixtureRequest, tmp_path: Path, postgres_up: bool) -> AsyncIterator[PluginDatabase]:
    """The same database driven three ways: inline SQLite, aiosqlite, and PostgreSQL."""
    async with driven(request.param, tmp_path, postgres_up, "reader", opened) as database:
        yield database


async def test_a_reader_reads_what_is_committed_and_nothing_pending(db: PluginDatabase) -> None:
    async with db.sessions() as session:
        await session.execute(insert(items), [{"name": "a"}, {"name": "b"}])
        await session.commit()
        await session.execute(insert(items).values(name="pending"))  # not committed
        async with db.reader() as reader:
            assert isinstance(reader, Reader)
            names = (await reader.execute(select(items.c.name).order_by(items.c.id))).scalars().all()
            count = await reader.scalar(select(text("count(*)")).select_from(items))
            assert reader.get_bind().dialect.name == ("sqlite" if db.is_sqlite else "postgresql")
        await session.rollback()
    assert names == ["a", "b"] and count == 2


async def test_an_error_in_a_reader_block_gives_its_connection_back(db: PluginDatabase) -> None:
    engines = db.sync_engines
    pool = engines[-1].pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    # SQLite: the block holds its connection; PostgreSQL: each statement gives it back at once.
    held = 1 if db.is_sqlite else 0
    with pytest.raises(ZeroDivisionError):
        async with db.reader() as reader:
            await reader.execute(select(items.c.id))
            assert pool.checkedout() == before + held  # type: ignore[attr-defined]
            1 / 0  # noqa: B018
    assert pool.checkedout() == before  # type: ignore[attr-defined]
    with pytest.raises(Exception, match=r"no such table|does not exist"):
        async with db.reader() as reader:
            await reader.execute(text("SELECT * FROM missing_table"))
    assert pool.checkedout() == before  # type: ignore[attr-defined]
    async with db.reader() as reader:  # and the next block works
        assert (await reader.execute(select(items.c.id))).all() == []


async def test_an_inline_reader_waits_for_a_lock_on_a_worker_thread_while_the_loop_runs(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = await opened(f"sqlite:///{path}")
    try:
        async with db.sessions() as session:
            await session.execute(insert(items).values(name="before"))
            await session.commit()
        # Another process's connection takes the database for itself (WAL readers are refused
        # too): first every connection of ours is closed, so the reader must also open one.
        await db.engine.dispose()
        for engine in db.sync_engines[1:]:
            engine.dispose()
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO items (name) VALUES ('during')")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        async def read() -> list[str]:
            async with db.reader() as reader:
                return list((await reader.execute(select(items.c.name).order_by(items.c.id))).scalars())

        ticking = asyncio.create_task(ticker())
        reading = asyncio.create_task(read())
        await asyncio.sleep(0.3)
        assert not reading.done()  # it waits for the lock, on a worker thread ...
        ticks_while_waiting = ticks
        holder.execute("COMMIT")
        holder.execute("PRAGMA locking_mode=NORMAL")
        holder.execute("SELECT 1")  # the exclusive lock is released at the next access
        holder.close()
        names = await asyncio.wait_for(reading, 10)
        ticking.cancel()
        assert ticks_while_waiting >= 20  # ... while the loop kept running
        assert names == ["before", "during"]
        async with db.reader() as reader:  # the connection's busy timeout is back to 0
            assert (await reader.scalar(text("PRAGMA busy_timeout"))) == 0
    finally:
        await db.close()


async def test_ctx_reader_is_a_db_span_and_reads_the_plugins_database(byway_settings: Settings) -> None:
    async with running_app([notes], byway_settings) as app:
        token = app.token("u1")
        await app.gql("notes", 'mutation { addNote(text: "hi") { id } }', token=token)
        runtime = app.host.plugins["notes"]
        exporter = InMemorySpanExporter()
        app.host.tracing.add_exporter(exporter)
        async with runtime.reader() as reader:
            rows = (await reader.execute(text("SELECT text FROM notes"))).scalars().all()
        assert rows == ["hi"]
        assert [s.name for s in exporter.get_finished_spans() if s.name.startswith("db ")] == ["db notes"]


async def test_an_inline_reader_statement_that_meets_a_lock_runs_again_on_a_worker_thread(tmp_path: Path) -> None:
    """WAL readers meet a lock rarely (another connection's recovery or exclusive mode): the first
    attempt is refused here by the database engine's event, as SQLite would refuse it."""
    import threading

    from sqlalchemy import event

    db = await opened(f"sqlite:///{tmp_path / 'busy.db'}")
    seen: list[tuple[str, int]] = []

    def before(conn: object, cursor: sqlite3.Cursor, statement: str, *_: object) -> None:
        timeout = cursor.connection.execute("PRAGMA busy_timeout").fetchone()[0]
        seen.append((threading.current_thread().name, timeout))
        if len(seen) == 1:
            refused = sqlite3.OperationalError("database is locked")
            refused.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
            raise refused

    try:
        async with db.sessions() as session:
            await session.execute(insert(items).values(name="x"))
            await session.commit()
        engine = db.sync_engines[-1]
        event.listen(engine, "before_cursor_execute", before)
        async with db.reader() as reader:
            names = (await reader.execute(select(items.c.name))).scalars().all()
            event.remove(engine, "before_cursor_execute", before)
            assert await reader.scalar(text("PRAGMA busy_timeout")) == 0
        assert names == ["x"]
        (first_thread, first_timeout), (second_thread, second_timeout) = seen
        assert first_thread == threading.main_thread().name and first_timeout == 0
        assert second_thread != threading.main_thread().name and second_timeout == 30_000
    finally:
        await db.close()


# --- PostgreSQL: the readers' own engine (autocommit, a pool of its own) -------------------------


async def test_a_postgres_reader_runs_in_autocommit_and_leaves_its_connection_idle(
    postgres: tuple[str, AsyncEngine],
) -> None:
    url, admin = postgres
    db = await opened(url)
    readers = db.sync_engines[-1]
    seen: list[tuple[bool, Any]] = []

    def before(conn: Any, *_: Any) -> None:
        driver = conn.connection.driver_connection
        seen.append((driver.autocommit, driver.info.transaction_status.name))

    event.listen(readers, "before_cursor_execute", before)
    try:
        async with db.reader() as reader:
            pid = await reader.scalar(text("SELECT pg_backend_pid()"))
            # Autocommit: the statement is its own transaction, nothing began before it.
            in_transaction = await reader.scalar(
                text("SELECT xact_start = query_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            )
        assert seen == [(True, "IDLE"), (True, "IDLE")]
        assert in_transaction is True
        assert (await server_states(admin, db))[pid] == "idle"  # not "idle in transaction"
    finally:
        await db.close()


async def test_a_postgres_reader_that_begins_a_transaction_or_fails_leaves_none_open(
    postgres: tuple[str, AsyncEngine],
) -> None:
    """Read connections go back to the pool without a rollback: one that is in a transaction all
    the same (a reader ran BEGIN, then a statement failed inside it) is rolled back first."""
    url, admin = postgres
    db = await opened(url)
    try:
        with pytest.raises(Exception, match="does not exist"):
            async with db.reader() as reader:
                await reader.execute(text("SELECT * FROM missing_table"))
        async with db.reader() as reader:  # the next block works, on the same connection
            assert (await reader.execute(select(items.c.id))).all() == []
        states = await server_states(admin, db)
        assert "idle in transaction" not in states.values() and "idle in transaction (aborted)" not in states.values()

        async with db.reader() as reader:
            await reader.execute(text("BEGIN"))
        assert set((await server_states(admin, db)).values()) <= {"idle"}
        with pytest.raises(Exception, match="does not exist"):
            async with db.reader() as reader:
                await reader.execute(text("BEGIN"))  # every statement takes a connection ...
                await reader.execute(text("SELECT * FROM missing_table"))  # ... the same one here
        assert set((await server_states(admin, db)).values()) <= {"idle"}
        async with db.sessions() as session:  # a committed write is seen by the next reader
            await session.execute(insert(items).values(name="after"))
            await session.commit()
        async with db.reader() as reader:
            assert (await reader.execute(select(items.c.name))).scalars().all() == ["after"]
    finally:
        await db.close()


async def test_a_postgres_reader_replaces_a_connection_the_server_dropped(
    postgres: tuple[str, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, admin = postgres
    pings = count_pings(monkeypatch)

    async def terminate(db: PluginDatabase) -> None:
        async with admin.connect() as conn:
            await conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": db.url.database},
            )

    async def read(db: PluginDatabase) -> Any:
        async with db.reader() as reader:
            return await reader.scalar(text("SELECT count(*) FROM items"))

    db = await opened(url, ping_after_idle=0)  # ping any connection idle in the pool
    try:
        assert await read(db) == 0
        await terminate(db)
        assert await read(db) == 0  # pinged, found dead, replaced: the reader did not fail
        assert pings
    finally:
        await db.close()
    # Without the ping (idle for less than an hour), the first reader meets the dead connection:
    # the ping above is what replaced it.
    db = await opened(url, ping_after_idle=3600)
    try:
        assert await read(db) == 0
        await terminate(db)
        with pytest.raises(Exception, match=r"terminat|closed|connection"):
            await read(db)
        assert await read(db) == 0  # the dead connection was discarded
    finally:
        await db.close()


async def test_postgres_readers_use_their_own_pool_within_the_plugins_budget(
    postgres: tuple[str, AsyncEngine],
) -> None:
    url, _admin = postgres
    db = await opened(url)
    sessions, readers = db.sync_engines
    assert sessions is not readers
    taken = {"sessions": 0, "readers": 0, "readers at once": 0}
    in_use = 0

    def sessions_checkout(*_: Any) -> None:
        taken["sessions"] += 1

    def readers_checkout(*_: Any) -> None:
        nonlocal in_use
        in_use += 1
        taken["readers"] += 1
        taken["readers at once"] = max(taken["readers at once"], in_use)

    def readers_checkin(*_: Any) -> None:
        nonlocal in_use
        in_use -= 1

    def readers_connect(*_: Any) -> None:
        taken["readers' new connections"] += 1

    taken["readers' new connections"] = 0
    event.listen(sessions, "checkout", sessions_checkout)
    event.listen(readers, "checkout", readers_checkout)
    event.listen(readers, "checkin", readers_checkin)
    event.listen(readers, "connect", readers_connect)

    async def read() -> Any:
        async with db.reader() as reader:
            return await reader.scalar(text("SELECT count(*) FROM items, pg_sleep(0.05)"))

    try:
        # More readers at once than the readers' pool may open: they wait for a connection.
        assert await asyncio.gather(*(read() for _ in range(12))) == [0] * 12
        assert taken["sessions"] == 0 and sessions.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert taken["readers"] == 12
        assert 1 < taken["readers at once"] <= sum(READERS_POOL)
        # The connections opened stay in the pool: a second wave connects no more (no overflow
        # connection closed on its return and opened again).
        opened_once = taken["readers' new connections"]
        assert opened_once <= sum(READERS_POOL)
        assert await asyncio.gather(*(read() for _ in range(12))) == [0] * 12
        assert taken["readers' new connections"] == opened_once
        # Sessions' pool and readers' pool: at most 15 connections together (SQLAlchemy's default
        # for one pool, before readers had theirs).
        pools = [sessions.pool, readers.pool]
        assert [(p.size(), p._max_overflow) for p in pools] == [SESSIONS_POOL, READERS_POOL]  # type: ignore[attr-defined]
        assert sum(SESSIONS_POOL) + sum(READERS_POOL) == 15
    finally:
        await db.close()


async def test_a_postgres_reader_refuses_to_stream(postgres: tuple[str, AsyncEngine]) -> None:
    """Rows are fetched with the statement, whose connection goes back at once: a server-side
    cursor would need it later (PostgreSQL refuses one in autocommit)."""
    url, _admin = postgres
    db = await opened(url)
    try:
        with pytest.raises(Exception, match="DECLARE CURSOR can only be used in transaction blocks"):
            async with db.reader() as reader:
                await reader.execute(select(items.c.id).execution_options(stream_results=True))
        assert db.sync_engines[-1].pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.close()


async def test_the_pool_metrics_count_the_readers_pool(
    postgres: tuple[str, AsyncEngine], byway_settings: Settings
) -> None:
    url, _admin = postgres
    db = await opened(url)
    metrics = Metrics(byway_settings)
    metrics.watch_pool("t", db.engine, *db.sync_engines[1:])
    in_use = metrics.pool_in_use.labels("t")
    seen: list[float] = []

    def during(*_: Any) -> None:
        seen.append(in_use._value.get())  # type: ignore[attr-defined]

    event.listen(db.sync_engines[-1], "before_cursor_execute", during)
    try:
        async with db.reader() as reader:
            await reader.execute(select(items.c.id))
        assert seen == [1] and in_use._value.get() == 0  # type: ignore[attr-defined]
        assert metrics.pool_size.labels("t")._value.get() == SESSIONS_POOL[0] + READERS_POOL[0]  # type: ignore[attr-defined]
    finally:
        await db.close()
