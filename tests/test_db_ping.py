"""Pooled PostgreSQL connections are pinged only after sitting idle, and a dropped one is replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from byway.db import PluginDatabase
from byway.testing import POSTGRES_ADMIN_URL
from tests.databases import count_pings


@pytest.fixture
async def postgres_url(database_url: str) -> AsyncIterator[str]:
    if not database_url:
        pytest.skip("pooled server connections: PostgreSQL only")
    yield database_url.replace("{plugin}", "pingtest")


async def open_db(url: str, ping_after_idle: float) -> PluginDatabase:
    db = PluginDatabase("pingtest", url, ping_after_idle=ping_after_idle)
    await db.open(create_database=True)
    return db


async def select_one(db: PluginDatabase) -> Any:
    async with db.sessions() as session:
        return (await session.execute(text("SELECT 1"))).scalar()


async def test_a_connection_in_steady_use_is_not_pinged(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = count_pings(monkeypatch)
    db = await open_db(postgres_url, ping_after_idle=3600)
    try:
        for _ in range(5):
            assert await select_one(db) == 1
    finally:
        await db.close()
    assert pings == []


async def test_an_idle_connection_is_pinged_and_a_dropped_one_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = count_pings(monkeypatch)
    db = await open_db(postgres_url, ping_after_idle=0)
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        assert await select_one(db) == 1
        assert pings == []  # a new connection is not pinged
        assert await select_one(db) == 1
        assert len(pings) == 1  # reused after sitting idle: pinged first
        # The server drops every connection of the database (a restart, a failover, an idle timeout).
        name = db.url.database
        async with admin.connect() as conn:
            await conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
        assert await select_one(db) == 1  # the dead connection was replaced, the request did not fail
        assert len(pings) >= 2
    finally:
        await admin.dispose()
        await db.close()


async def test_a_pinged_connection_is_idle_so_a_reader_can_take_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ping's SELECT must not leave a connection in a transaction: a session's is rolled
    back after it; the readers' own connections are in autocommit, pinged the same way."""
    pings = count_pings(monkeypatch)
    db = await open_db(postgres_url, ping_after_idle=0)
    try:
        assert await select_one(db) == 1
        for _ in range(3):
            async with db.reader() as reader:  # pinged first (idle for more than 0 s)
                assert await reader.scalar(text("SELECT 1")) == 1
                assert await reader.scalar(text("SHOW transaction_isolation")) is not None
        assert await select_one(db) == 1  # and a session after a reader runs in a transaction again
        assert len(pings) >= 3
    finally:
        await db.close()
