"""byway.audit: the audit-log table, entries committed with the action or not at all, paging, no secrets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byway.audit import AUDIT_TABLE, MAX_PAGE, audit_entries, audit_table, record_audit
from byway.auth import ANONYMOUS_PRINCIPAL, Principal
from byway.db import PluginDatabase, utcnow

ADMIN = Principal(kind="user", user_id="u-admin", roles=frozenset({"student", "admin"}))
SERVICE = Principal(kind="service", service="ecommerce")


@pytest.fixture
async def audited(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[PluginDatabase, Table]]:
    url = database_url.replace("{plugin}", "auditlog") if database_url else f"sqlite+aiosqlite:///{tmp_path}/a.db"
    db = PluginDatabase("auditlog", url)
    await db.open(create_database=True)
    metadata = MetaData()
    table = audit_table(metadata)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield db, table
    finally:
        await db.close()


async def count(session: AsyncSession, table: Table) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def test_table_has_the_documented_columns() -> None:
    table = audit_table(MetaData())
    assert table.name == AUDIT_TABLE
    assert [c.name for c in table.columns] == [
        "id",
        "at",
        "actor_kind",
        "actor_id",
        "action",
        "target",
        "details",
        "client_address",
    ]
    assert table.c.id.primary_key and not table.c.at.nullable
    assert any(ix.columns.keys() == ["at"] for ix in table.indexes)


async def test_entry_commits_with_the_action_or_not_at_all(audited: tuple[PluginDatabase, Table]) -> None:
    db, table = audited
    async with db.sessions() as session:
        await session.begin()
        await record_audit(session, table, principal=ADMIN, action="orders.refund", target="o1")
        await session.rollback()  # the action failed: its entry goes with it
    async with db.sessions() as session:
        assert await count(session, table) == 0
    async with db.sessions() as session:
        async with session.begin():
            entry = await record_audit(
                session,
                table,
                principal=ADMIN,
                action="users.set_role",
                target="ada@example.org",
                details={"role": "admin", "removed": False},
                client_address="203.0.113.9",
            )
    async with db.sessions() as session:
        [row] = await audit_entries(session, table)
    assert row["id"] == entry
    assert (row["actorKind"], row["actorId"], row["action"], row["target"]) == (
        "user",
        "u-admin",
        "users.set_role",
        "ada@example.org",
    )
    assert json.loads(row["details"]) == {"role": "admin", "removed": False}
    assert row["clientAddress"] == "203.0.113.9"
    assert row["at"].endswith("+00:00")


async def test_actor_kinds_service_anonymous_and_cli(audited: tuple[PluginDatabase, Table]) -> None:
    db, table = audited
    async with db.sessions() as session, session.begin():
        await record_audit(session, table, principal=SERVICE, action="a.service")
        await record_audit(session, table, principal=ANONYMOUS_PRINCIPAL, action="a.anon")
        await record_audit(session, table, principal="root", action="a.cli")
    async with db.sessions() as session:
        rows = {r["action"]: (r["actorKind"], r["actorId"]) for r in await audit_entries(session, table)}
    assert rows == {"a.service": ("service", "ecommerce"), "a.anon": ("anonymous", None), "a.cli": ("cli", "root")}


@pytest.mark.parametrize(
    "details",
    [{"password": "x"}, {"newToken": "x"}, {"nested": {"client_secret": "x"}}, {"list": [{"Authorization": "b"}]}],
)
async def test_secrets_in_details_are_refused_and_nothing_written(
    audited: tuple[PluginDatabase, Table], details: dict[str, object]
) -> None:
    db, table = audited
    async with db.sessions() as session:
        with pytest.raises(ValueError, match="secrets"):
            await record_audit(session, table, principal=ADMIN, action="x", details=details)
        assert await count(session, table) == 0


async def test_entries_are_newest_first_and_page_with_after(audited: tuple[PluginDatabase, Table]) -> None:
    db, table = audited
    ids = []
    async with db.sessions() as session, session.begin():
        for i in range(7):
            ids.append(await record_audit(session, table, principal=ADMIN, action=f"step.{i}"))
    # Spread the timestamps so the order is by time (ids are random).
    start = utcnow()
    async with db.sessions() as session, session.begin():
        for i, entry in enumerate(ids):
            await session.execute(update(table).where(table.c.id == entry).values(at=start + timedelta(seconds=i)))
    async with db.sessions() as session:
        page1 = await audit_entries(session, table, first=3)
        page2 = await audit_entries(session, table, first=3, after=page1[-1]["id"])
        page3 = await audit_entries(session, table, first=3, after=page2[-1]["id"])
        assert await audit_entries(session, table, first=3, after="unknown") == []
        assert await audit_entries(session, table, first=-5) == []
        # GraphQL's explicit `first: null` (found by the long fuzz run: it was INTERNAL)
        assert len(await audit_entries(session, table, first=None)) == 7
        assert len(await audit_entries(session, table, first=MAX_PAGE * 10)) == 7
    seen = [r["action"] for r in page1 + page2 + page3]
    assert seen == [f"step.{i}" for i in reversed(range(7))]


async def test_long_values_are_cut_to_their_columns(audited: tuple[PluginDatabase, Table]) -> None:
    db, table = audited
    async with db.sessions() as session, session.begin():
        await record_audit(session, table, principal=ADMIN, action="a", target="t" * 500, client_address="c" * 300)
    async with db.sessions() as session:
        [row] = await audit_entries(session, table)
    assert len(row["target"]) == 200 and len(row["clientAddress"]) == 64
