"""The inline SQLite driver (byway.sqlite_inline): same results as aiosqlite, no waiting on the loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import OperationalError

from byway.db import PluginDatabase
from byway.settings import ConfigurationError, Settings, load_settings
from byway.sqlite_inline import InlineSQLiteConnection

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String(50), unique=True))


async def open_db(tmp_path: Path, driver: str) -> PluginDatabase:
    db = PluginDatabase("t", f"sqlite:///{tmp_path / f'{driver}.db'}", sqlite_driver=driver)
    await db.open(create_database=True)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return db


@pytest.fixture
async def inline_db(tmp_path: Path) -> AsyncIterator[PluginDatabase]:
    db = await open_db(tmp_path, "inline")
    yield db
    await db.close()


async def exercise(db: PluginDatabase) -> list[object]:
    """The same operations give the same answers on both drivers."""
    seen: list[object] = []
    async with db.sessions() as session:
        await session.execute(insert(items), [{"name": "a"}, {"name": "b"}])  # executemany
        row = (await session.execute(insert(items).values(name="c").returning(items.c.id, items.c.name))).one()
        seen.append(tuple(row))
        await session.commit()
    async with db.sessions() as session:
        await session.execute(insert(items).values(name="rolled back"))
        await session.rollback()
    async with db.sessions() as session:
        seen.append([tuple(r) for r in (await session.execute(select(items).order_by(items.c.id))).all()])
        seen.append((await session.execute(text("PRAGMA journal_mode"))).scalar())
        seen.append((await session.execute(text("PRAGMA foreign_keys"))).scalar())
        with pytest.raises(Exception) as duplicate:
            await session.execute(insert(items).values(name="a"))
        seen.append(type(duplicate.value).__name__)
    return seen


async def test_inline_answers_like_aiosqlite(tmp_path: Path) -> None:
    answers = {}
    for driver in ("inline", "aiosqlite"):
        db = await open_db(tmp_path, driver)
        try:
            answers[driver] = await exercise(db)
        finally:
            await db.close()
    assert answers["inline"] == answers["aiosqlite"]
    assert answers["inline"][0] == (3, "c")
    assert answers["inline"][1] == [(1, "a"), (2, "b"), (3, "c")]
    assert answers["inline"][2:] == ["wal", 1, "IntegrityError"]


async def test_inline_is_the_default_and_runs_on_the_loop_thread(inline_db: PluginDatabase) -> None:
    async with inline_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, InlineSQLiteConnection)
        # The connection waits for no lock inline: its busy timeout is 0.
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 0


async def test_a_writer_waits_for_the_lock_on_a_worker_thread_while_the_loop_runs(inline_db: PluginDatabase) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    ticking = asyncio.create_task(ticker())
    async with inline_db.sessions() as holder, inline_db.sessions() as waiter:
        await holder.execute(insert(items).values(name="first"))  # holds the write lock, not committed

        async def second_writer() -> float:
            await waiter.execute(insert(items).values(name="second"))
            await waiter.commit()
            return time.monotonic()

        waiting = asyncio.create_task(second_writer())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the lock ...
        ticks_while_waiting = ticks
        committed = time.monotonic()
        await holder.commit()  # ... which the loop (not blocked) releases here
        finished = await asyncio.wait_for(waiting, 10)
    stop.set()
    await ticking
    assert ticks_while_waiting >= 20  # the loop kept running while the second writer waited
    assert finished >= committed
    async with inline_db.sessions() as session:
        names = (await session.execute(select(items.c.name).order_by(items.c.id))).scalars().all()
    assert names == ["first", "second"]


async def test_a_writer_gives_up_after_the_busy_timeout(
    inline_db: PluginDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inline_db.sessions() as holder, inline_db.sessions() as waiter:
        await holder.execute(insert(items).values(name="held"))
        raw = await (await waiter.connection()).get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, InlineSQLiteConnection)
        monkeypatch.setattr(driver, "_busy_ms", 200)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            await waiter.execute(insert(items).values(name="late"))
        assert 0.15 <= time.monotonic() - started < 5
        await holder.commit()
    async with inline_db.sessions() as session:
        assert (await session.execute(select(items.c.name))).scalars().all() == ["held"]


def test_the_driver_is_a_setting(tmp_path: Path) -> None:
    assert Settings().sqlite_driver == "inline"
    env = {"BYWAY_SQLITE_DRIVER": "aiosqlite", "BYWAY_DATA_DIR": str(tmp_path)}
    assert load_settings(env, config_path=None).sqlite_driver == "aiosqlite"
    with pytest.raises(ConfigurationError, match="BYWAY_SQLITE_DRIVER"):
        load_settings({"BYWAY_SQLITE_DRIVER": "threads"})
    with pytest.raises(ValueError, match="sqlite_driver"):
        PluginDatabase("t", "sqlite:///x.db", sqlite_driver="threads")
