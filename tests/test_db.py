"""The database helpers plugins share: ids, UTC timestamps (on SQLite and Postgres), dialect inserts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, create_mock_engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from byway.db import PluginDatabase, UTCDateTime, insert_for, iso_utc, new_id, utcnow
from byway.settings import Settings

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=True),
)

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.fixture
async def db(byway_settings: Settings, database_url: str) -> AsyncIterator[PluginDatabase]:
    """A fresh database (SQLite file or Postgres) holding the ``events`` table."""
    settings = byway_settings.with_overrides(database_url=database_url)
    database = PluginDatabase("dbtest", settings.database_url_for("dbtest"))
    await database.open(create_database=True)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield database
    finally:
        await database.close()


def test_new_id_is_32_hex_digits_and_unique() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)


def test_utcnow_is_aware_utc() -> None:
    before = datetime.now(UTC)
    moment = utcnow()
    assert moment.tzinfo is UTC
    assert before <= moment <= datetime.now(UTC)


def test_iso_utc_formats_in_utc_with_offset() -> None:
    assert iso_utc(datetime(2025, 1, 31, 9, 30, 0, 123456, tzinfo=UTC)) == "2025-01-31T09:30:00.123456+00:00"
    assert iso_utc(datetime(2025, 1, 31, 9, 30, tzinfo=UTC)) == "2025-01-31T09:30:00+00:00"
    assert iso_utc(datetime(2025, 1, 1, 1, 30, tzinfo=PLUS_TWO)) == "2024-12-31T23:30:00+00:00"


def test_iso_utc_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        iso_utc(datetime(2025, 1, 31, 9, 30))


def test_utc_datetime_schema_type_is_datetime_with_time_zone() -> None:
    column_type = UTCDateTime()
    assert column_type.cache_ok is True
    assert column_type.impl_instance.timezone is True
    assert "TIMESTAMP WITH TIME ZONE" in str(CreateTable(events).compile(dialect=postgresql.dialect()))
    assert "at DATETIME" in str(CreateTable(events).compile(dialect=sqlite.dialect()))


def test_utc_datetime_refuses_naive_and_non_datetimes() -> None:
    column_type = UTCDateTime()
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        with pytest.raises(ValueError, match="naive datetime"):
            column_type.process_bind_param(datetime(2025, 1, 31, 9, 30), dialect)
        with pytest.raises(TypeError, match="needs a datetime"):
            column_type.process_bind_param(cast(Any, "2025-01-31 09:30:00"), dialect)
        assert column_type.process_bind_param(None, dialect) is None


def test_utc_datetime_binds_utc() -> None:
    column_type = UTCDateTime()
    moment = datetime(2025, 1, 31, 11, 30, tzinfo=PLUS_TWO)
    assert column_type.process_bind_param(moment, sqlite.dialect()) == datetime(2025, 1, 31, 9, 30)
    bound = column_type.process_bind_param(moment, postgresql.dialect())
    assert bound == moment and bound is not None and bound.tzinfo is UTC


async def test_utc_datetime_round_trip(db: PluginDatabase) -> None:
    utc = datetime(2025, 1, 31, 9, 30, 0, 123456, tzinfo=UTC)
    other_zone = datetime(2025, 1, 31, 12, 0, tzinfo=PLUS_TWO)  # 10:00 UTC
    async with db.sessions() as session:
        if not db.is_sqlite:  # Postgres hands timestamptz back in the session's zone: make it not UTC
            await session.execute(text("SET TIME ZONE 'Asia/Kolkata'"))
        await session.execute(
            events.insert(),
            [{"name": "utc", "at": utc}, {"name": "other", "at": other_zone}, {"name": "none", "at": None}],
        )
        await session.commit()
        if not db.is_sqlite:
            await session.execute(text("SET TIME ZONE 'Asia/Kolkata'"))
        rows = {row.name: row.at for row in (await session.execute(select(events)))}
        later = (await session.execute(select(events.c.name).where(events.c.at > utc))).scalars().all()
        stored = (await session.execute(text("SELECT at FROM events WHERE name = 'other'"))).scalar_one()
    assert rows == {"utc": utc, "other": other_zone, "none": None}
    for value in (rows["utc"], rows["other"]):
        assert value is not None and value.tzinfo is UTC
    assert rows["other"] is not None and rows["other"].hour == 10
    assert later == ["other"]  # compared in SQL, in UTC
    if db.is_sqlite:
        assert stored == "2025-01-31 10:00:00.000000"  # naive UTC text, as plain DateTime stored it


async def test_utc_datetime_refuses_naive_on_write(db: PluginDatabase) -> None:
    async with db.sessions() as session:
        with pytest.raises(StatementError) as refused:
            await session.execute(events.insert().values(name="naive", at=datetime(2025, 1, 31, 9, 30)))
        assert isinstance(refused.value.orig, ValueError)
        await session.rollback()
        assert (await session.execute(select(events))).all() == []


async def test_insert_for_picks_the_dialect_and_ignores_conflicts(db: PluginDatabase) -> None:
    expected = sqlite.insert if db.is_sqlite else postgresql.insert
    async with db.engine.connect() as conn:
        assert insert_for(conn) is expected
    async with db.sessions() as session:
        assert insert_for(session) is expected

        def upsert() -> Any:
            return (
                insert_for(session)(events)
                .values(name="once", at=utcnow())
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(events.c.id)
            )

        first = await session.scalar(upsert())
        second = await session.scalar(upsert())
        await session.commit()
        assert first is not None and second is None
        assert (await session.execute(select(events.c.id))).scalars().all() == [first]


def test_insert_for_accepts_sync_sessions_and_connections() -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert insert_for(conn) is sqlite.insert
        with Session(engine) as session:
            assert insert_for(session) is sqlite.insert
    finally:
        engine.dispose()


def test_insert_for_refuses_other_dialects() -> None:
    mysql = cast(Connection, create_mock_engine("mysql://", lambda *args, **kwargs: None))
    with pytest.raises(ValueError, match="not 'mysql'"):
        insert_for(mysql)


async def test_one_of_matches_a_list_bound_as_one_parameter(db: PluginDatabase) -> None:
    from byway.db import one_of

    named = select(events.c.name).where(one_of(events.c.name, "names")).order_by(events.c.name)
    async with db.sessions() as session:
        await session.execute(
            events.insert(), [{"name": n} for n in ("a", "b", "c", "d", 'q"uote', "back\\slash", "{b,c}")]
        )
        await session.commit()
        for names, expected in (
            (["b", "d", "zz"], ["b", "d"]),
            (["a", "a", "a"], ["a"]),
            ([], []),
            ((n for n in ()), None),  # a generator is refused, not silently empty
            ("abc", None),  # a lone string is not a list of names
            ([f"n{i}" for i in range(500)] + ["c"], ["c"]),
            (["x'); DROP TABLE events; --"], []),
            # Text the bound list (JSON on SQLite, an array on PostgreSQL) must carry as it is.
            (['q"uote', "back\\slash", "{b,c}", "NULL", " a ", "", "é,ü"], ["back\\slash", 'q"uote', "{b,c}"]),
        ):
            if expected is None:
                with pytest.raises(StatementError) as refused:
                    await session.execute(named, {"names": names})
                assert isinstance(refused.value.orig, TypeError)
                await session.rollback()
                continue
            assert (await session.execute(named, {"names": names})).scalars().all() == expected
    # One parameter whatever the number of values: the compiled statement is the same.
    dialect = db.engine.dialect
    assert len(named.compile(dialect=dialect).params) == 1
    sql = str(named.compile(dialect=dialect))
    assert ("json_each" in sql) if db.is_sqlite else ("= ANY" in sql)
