"""byway.Prepared / byway.scalars: on inline SQLite a reader fetches a prepared statement's rows
through the driver, with the same values SQLAlchemy gives; everywhere else SQLAlchemy runs it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, bindparam, event, select
from sqlalchemy.exc import OperationalError, StatementError

import byway
from byway.db import PluginDatabase, UTCDateTime
from byway.prepared import Prepared
from tests.databases import WAYS, driven, open_tables

metadata = MetaData()
rows = Table(
    "rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("flag", Boolean),
    Column("at", UTCDateTime()),
)
AT = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
DATA = [
    {"id": 1, "name": "ada", "flag": True, "at": AT},
    {"id": 2, "name": "bob", "flag": False, "at": None},
    {"id": 3, "name": None, "flag": None, "at": AT},
]

BY_NAMES = Prepared(select(rows.c.id).where(byway.one_of(rows.c.name, "names")).order_by(rows.c.id))
FLAGS = Prepared(select(rows.c.flag).where(rows.c.id >= bindparam("low")).order_by(rows.c.id))
TIMES = Prepared(select(rows.c.at).where(rows.c.name != bindparam("not_name")).order_by(rows.c.id))
EXPANDING = Prepared(select(rows.c.id).where(rows.c.id.in_(bindparam("ids", expanding=True))).order_by(rows.c.id))
LITERAL = Prepared(select(rows.c.id).where(rows.c.name == "ada"))
CASES: list[tuple[Prepared, dict[str, Any], list[Any]]] = [
    (BY_NAMES, {"names": ["bob", "ada", "eve"]}, [1, 2]),
    (FLAGS, {"low": 1}, [True, False, None]),
    (TIMES, {"not_name": "bob"}, [AT]),
    (EXPANDING, {"ids": [2, 3]}, [2, 3]),
    (LITERAL, {}, [1]),
]


async def opened(url: str, driver: str = "inline") -> PluginDatabase:
    return await open_tables(metadata, url, driver, rows=(rows, DATA))


@pytest.fixture(params=WAYS)
async def db(request: pytest.FixtureRequest, tmp_path: Path, postgres_up: bool) -> AsyncIterator[PluginDatabase]:
    """The same database driven three ways: inline SQLite, aiosqlite, and PostgreSQL."""
    async with driven(request.param, tmp_path, postgres_up, "prepared", opened) as database:
        yield database


@pytest.mark.parametrize(("statement", "params", "expected"), CASES)
async def test_prepared_statements_give_sqlalchemys_values_everywhere(
    db: PluginDatabase, statement: Prepared, params: dict[str, Any], expected: list[Any]
) -> None:
    """Readers and sessions, inline SQLite, aiosqlite and PostgreSQL: the same values (a
    timezone-aware datetime through UTCDateTime's processors, booleans, nulls)."""
    async with db.reader() as reader:
        assert await reader.scalars(statement, params) == expected
        assert await byway.scalars(reader, statement, params) == expected
        plain = (await reader.execute(statement.statement, params)).scalars().all()
        assert plain == expected
    async with db.sessions() as session:
        assert await byway.scalars(session, statement, params) == expected


async def test_on_inline_sqlite_the_driver_answers_without_sqlalchemy(tmp_path: Path) -> None:
    db = await opened(f"sqlite:///{tmp_path / 'driver.db'}")
    try:
        engine, driver = db.sync_engines[-1], db.driver_connection()
        assert driver is not None
        for statement, params, expected in CASES:
            driven = statement.driver_scalars(engine, driver, params)
            if statement is EXPANDING:  # rendered per call by SQLAlchemy: not for the driver
                assert driven is None
            else:
                assert driven == expected
    finally:
        await db.close()


async def test_statement_listeners_see_every_prepared_statement(tmp_path: Path) -> None:
    """A before_cursor_execute listener (the statement counters) makes SQLAlchemy run it."""
    db = await opened(f"sqlite:///{tmp_path / 'counted.db'}")
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    try:
        engine = db.sync_engines[-1]
        event.listen(engine, "before_cursor_execute", count)
        try:
            async with db.reader() as reader:
                assert await reader.scalars(BY_NAMES, {"names": ["ada"]}) == [1]
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(seen) == 1 and "json_each" in seen[0]
        async with db.reader() as reader:
            assert await reader.scalars(BY_NAMES, {"names": ["bob"]}) == [2]
        assert len(seen) == 1  # no listener: the driver ran it, unseen
    finally:
        await db.close()


async def test_bad_parameters_get_sqlalchemys_errors(tmp_path: Path) -> None:
    db = await opened(f"sqlite:///{tmp_path / 'bad.db'}")
    try:
        async with db.reader() as reader:
            with pytest.raises(StatementError, match="low"):
                await reader.scalars(FLAGS, {})
            with pytest.raises(StatementError):
                await reader.scalars(BY_NAMES, {"names": "not a list"})
            assert await reader.scalars(FLAGS, {"low": 3}) == [None]  # the connection still works
    finally:
        await db.close()


async def test_a_failing_statement_is_reported_by_sqlalchemy(tmp_path: Path) -> None:
    """The driver's own error is never raised: SQLAlchemy runs the statement again and reports it
    (as it also waits for a lock the driver met: ``Reader.execute``)."""
    db = await opened(f"sqlite:///{tmp_path / 'gone.db'}")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
        driver = db.driver_connection()
        assert driver is not None and FLAGS.driver_scalars(db.sync_engines[-1], driver, {"low": 1}) is None
        async with db.reader() as reader:
            with pytest.raises(OperationalError, match="no such table"):
                await reader.scalars(FLAGS, {"low": 1})
    finally:
        await db.close()


async def test_prepared_reads_take_no_pooled_connection_and_each_thread_has_its_own(tmp_path: Path) -> None:
    db = await opened(f"sqlite:///{tmp_path / 'threads.db'}")
    try:
        pool = db.sync_engines[-1].pool
        async with db.reader() as reader:
            assert await reader.scalars(FLAGS, {"low": 2}) == [False, None]
            assert pool.checkedout() == 0  # type: ignore[attr-defined]  # the driver connection served it
            assert (await reader.execute(select(rows.c.id).where(rows.c.id == 1))).scalar() == 1
            assert pool.checkedout() == 1  # type: ignore[attr-defined]  # SQLAlchemy's statement took one
        assert pool.checkedout() == 0  # type: ignore[attr-defined]  # and gave it back with the block

        async def read_elsewhere() -> tuple[list[Any], Any]:
            async with db.reader() as reader:
                return await reader.scalars(FLAGS, {"low": 1}), db.driver_connection()

        here = db.driver_connection()
        values, there = await asyncio.to_thread(asyncio.run, read_elsewhere())
        assert values == [True, False, None]
        assert here is not None and there is not None and there is not here
        assert db.driver_connection() is here
    finally:
        await db.close()
    with pytest.raises(sqlite3.ProgrammingError):  # closed with the database
        here.execute("SELECT 1")


async def test_an_in_memory_database_has_no_driver_connection() -> None:
    db = PluginDatabase("t", "sqlite://")
    await db.open()
    try:
        assert db.driver_connection() is None
    finally:
        await db.close()


async def test_on_postgresql_the_driver_answers_too(db: PluginDatabase) -> None:
    """On PostgreSQL a reader runs a prepared statement on psycopg itself (through SQLAlchemy's
    adapter, in its greenlet hop): the same values."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's readers")
    from sqlalchemy.util import greenlet_spawn

    engine = db.sync_engines[-1]

    def through_the_driver() -> list[list[Any] | None]:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            return [statement.driver_scalars(engine, raw, params) for statement, params, _ in CASES]

    driven = await greenlet_spawn(through_the_driver)
    for (statement, _, expected), values in zip(CASES, driven, strict=True):
        assert values is None if statement is EXPANDING else values == expected
