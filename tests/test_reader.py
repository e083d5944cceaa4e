"""byway.db.Reader: read-only blocks on a plugin's database, cheaper than a session.

On inline SQLite a reader is a plain sqlite3 connection used on the loop's thread; a statement
that meets a lock runs again on a worker thread while the loop goes on. Elsewhere (aiosqlite,
PostgreSQL) it is an AsyncConnection. Either way it sees committed data only.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text

import tests.plugins.notes as notes
from byway.db import PluginDatabase, Reader
from byway.settings import Settings
from byway.testing import POSTGRES_ADMIN_URL, drop_postgres_databases, postgres_available, running_app

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String(50), unique=True))


async def opened(url: str, driver: str = "inline") -> PluginDatabase:
    db = PluginDatabase("t", url, sqlite_driver=driver)
    await db.open(create_database=True)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    return db


@pytest.fixture(scope="module")
def postgres_up() -> bool:
    return postgres_available()


@pytest.fixture(params=["inline", "aiosqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path, postgres_up: bool) -> AsyncIterator[PluginDatabase]:
    """The same database driven three ways: inline SQLite, aiosqlite, and PostgreSQL."""
    if request.param != "postgres":
        database = await opened(f"sqlite:///{tmp_path / 'reader.db'}", request.param)
        yield database
        await database.close()
        return
    if not postgres_up:
        if os.environ.get("BYWAY_TEST_POSTGRES") == "required":
            pytest.fail("PostgreSQL is required (BYWAY_TEST_POSTGRES=required) but not reachable")
        pytest.skip("PostgreSQL not reachable")
    prefix = f"byway_t{uuid.uuid4().hex[:10]}_"
    database = await opened(f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{prefix}reader")
    try:
        yield database
    finally:
        await database.close()
        await drop_postgres_databases(prefix)


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
    with pytest.raises(ZeroDivisionError):
        async with db.reader() as reader:
            await reader.execute(select(items.c.id))
            assert pool.checkedout() == before + 1  # type: ignore[attr-defined]
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
