"""One test database driven three ways (inline SQLite, aiosqlite, PostgreSQL), for the tests of
readers and prepared statements."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

import byway.db
from byway.db import PluginDatabase
from byway.testing import POSTGRES_ADMIN_URL, drop_postgres_databases

#: The ways, as fixture parameters.
WAYS = ["inline", "aiosqlite", "postgres"]


async def open_tables(
    metadata: MetaData,
    url: str,
    driver: str = "inline",
    *,
    ping_after_idle: float = 10.0,
    rows: tuple[Table, list[dict[str, object]]] | None = None,
) -> PluginDatabase:
    """A database at ``url`` with ``metadata``'s tables made afresh (and ``rows`` inserted)."""
    db = PluginDatabase("t", url, sqlite_driver=driver, ping_after_idle=ping_after_idle)
    await db.open(create_database=True)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        if rows is not None:
            await conn.execute(rows[0].insert(), rows[1])
    return db


@asynccontextmanager
async def driven(
    way: str, tmp_path: Path, postgres_up: bool, name: str, opened: Callable[[str, str], Awaitable[PluginDatabase]]
) -> AsyncIterator[PluginDatabase]:
    """The database ``name`` made by ``opened(url, sqlite_driver)``, driven ``way``; closed (and a
    PostgreSQL one dropped) afterwards. PostgreSQL skips when unreachable, or fails the test where
    it is required (``BYWAY_TEST_POSTGRES=required``)."""
    if way != "postgres":
        database = await opened(f"sqlite:///{tmp_path / f'{name}.db'}", way)
        try:
            yield database
        finally:
            await database.close()
        return
    if not postgres_up:
        if os.environ.get("BYWAY_TEST_POSTGRES") == "required":
            pytest.fail("PostgreSQL is required (BYWAY_TEST_POSTGRES=required) but not reachable")
        pytest.skip("PostgreSQL not reachable")
    prefix = f"byway_t{uuid.uuid4().hex[:10]}_"
    database = await opened(f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{prefix}{name}", "inline")
    try:
        yield database
    finally:
        await database.close()
        await drop_postgres_databases(prefix)


def count_pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets an item each time a pooled connection is pinged (``byway.db.ping``)."""
    pings: list[int] = []
    real = byway.db.ping

    def counting(conn: object) -> None:
        pings.append(1)
        real(conn)

    monkeypatch.setattr(byway.db, "ping", counting)
    return pings


async def server_states(admin: AsyncEngine, db: PluginDatabase) -> dict[int, str]:
    """``{pid: state}`` of the server's connections to ``db``'s database (pg_stat_activity)."""
    async with admin.connect() as conn:
        rows = await conn.execute(
            text("SELECT pid, state FROM pg_stat_activity WHERE datname = :name"), {"name": db.url.database}
        )
        return {pid: state for pid, state in rows}


async def end_session(admin: AsyncEngine, pid: int) -> None:
    """End a server session (as a restart or an idle timeout would) and wait until the server has."""
    async with admin.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(50):
            if (
                await conn.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            ).first() is None:
                return
            await asyncio.sleep(0.02)
