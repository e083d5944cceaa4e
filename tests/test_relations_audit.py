"""``relations.audit`` and ``byway audit``, on the test-only pair ``audit-holder`` -> ``audit-owner``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ariadne import QueryType
from click.testing import CliRunner, Result

import byway
from byway import relations
from byway.cli import build_cli
from byway.declarations import GraphQLApi, PluginInfo, Relation
from byway.host import Host
from byway.plugins import PluginError
from byway.relations import RelationReport
from byway.settings import Settings
from byway.testing import FailingTransport, free_port, running_app
from tests.plugins.audit_pair import THINGS_EXIST, Holder, Owner, add_pins, held_thing_ids

THING = "audit-holder.Pin.thingId"


def by_source(reports: list[RelationReport]) -> dict[str, RelationReport]:
    return {report.relation.source: report for report in reports}


async def test_reports_exactly_the_dangling_ids(settings: Settings, database_url: str) -> None:
    owner = Owner({"a", "b", "c"})
    async with running_app([Holder(), owner], settings.with_overrides(database_url=database_url)) as app:
        await add_pins(app.host.plugins["audit-holder"], ["a", "b", "b", None, "gone-2", "gone-1"])
        with app.host.observe_calls() as calls:
            reports = by_source(await relations.audit(app.host))

    thing = reports[THING]
    assert (thing.checked, thing.dangling, thing.skipped, thing.error) == (4, ["gone-1", "gone-2"], None, None)
    assert not thing.clean
    # One lookup, as the holder's service, for the distinct non-null ids.
    assert sorted(owner.calls[0]) == ["a", "b", "gone-1", "gone-2"] and len(owner.calls) == 1
    assert [(c.caller, c.target, c.operation, c.as_kind) for c in calls] == [
        ("audit-holder", "audit-owner", "ThingsExist", "service")
    ]
    assert reports["audit-holder.Pin.labelId"].skipped == relations.NO_AUDIT
    assert reports["audit-holder.Pin.ghostId"].skipped == relations.TARGET_NOT_LOADED
    assert reports["audit-holder.Pin.ghostId"].clean


async def test_clean_when_every_id_exists(settings: Settings) -> None:
    async with running_app([Holder(), Owner({"a", "b"})], settings) as app:
        await add_pins(app.host.plugins["audit-holder"], ["a", "b", None])
        reports = await relations.audit(app.host)
    assert all(r.clean for r in reports)
    assert by_source(reports)[THING].checked == 2


async def test_ids_are_sent_in_chunks(settings: Settings) -> None:
    owner = Owner({"id-1", "id-3"})
    async with running_app([Holder(), owner], settings) as app:
        await add_pins(app.host.plugins["audit-holder"], [f"id-{n}" for n in range(5)])
        report = by_source(await relations.audit(app.host, chunk=2))[THING]
    assert [len(call) for call in owner.calls] == [2, 2, 1]
    assert (report.checked, report.dangling) == (5, ["id-0", "id-2", "id-4"])


async def test_no_ids_means_no_call(settings: Settings) -> None:
    owner = Owner()
    async with running_app([Holder(), owner], settings) as app:
        report = by_source(await relations.audit(app.host))[THING]
    assert (report.checked, report.dangling, report.error, owner.calls) == (0, [], None, [])


@pytest.mark.parametrize("chunk", [0, 501])
async def test_chunk_must_fit_the_lookups(settings: Settings, chunk: int) -> None:
    async with running_app([Holder(), Owner()], settings) as app:
        with pytest.raises(ValueError, match="chunk"):
            await relations.audit(app.host, chunk=chunk)


async def test_unreachable_target_is_reported_not_raised(settings: Settings) -> None:
    async with running_app([Holder(), Owner({"a"})], settings) as app:
        await add_pins(app.host.plugins["audit-holder"], ["a", "b"])
        host = app.host
        with host.override_transport("audit-owner", FailingTransport(host.transport_for("audit-owner"))) as down:
            reports = by_source(await relations.audit(host))
    thing = reports[THING]
    assert thing.error is not None and thing.error.startswith("UPSTREAM_UNAVAILABLE: ")
    assert (thing.checked, thing.dangling, thing.clean) == (0, [], False)
    assert down.attempts == 1 + settings.client_retries
    assert reports["audit-holder.Pin.ghostId"].skipped == relations.TARGET_NOT_LOADED  # the others still ran


@pytest.mark.parametrize(("mode", "prefix"), [("refuse", "FORBIDDEN: "), ("misaligned", "INVALID_RESPONSE: ")])
async def test_a_bad_answer_is_reported(settings: Settings, mode: str, prefix: str) -> None:
    owner = Owner({"a"}, mode=mode)
    async with running_app([Holder(), owner], settings) as app:
        await add_pins(app.host.plugins["audit-holder"], ["a", "b", "c"])
        report = by_source(await relations.audit(app.host, chunk=2))[THING]
    assert report.error is not None and report.error.startswith(prefix)
    assert (report.checked, report.dangling) == (0, [])
    assert len(owner.calls) == 1  # stopped at the first bad answer


async def test_failing_held_ids_is_reported(settings: Settings) -> None:
    async def broken(plugin: Any) -> list[str]:
        raise RuntimeError("disk on fire")

    class BrokenHolder:
        @byway.hookimpl
        def byway_register_plugin(self) -> PluginInfo:
            return PluginInfo(name="broken-holder")

        @byway.hookimpl
        def byway_register_relations(self) -> list[Relation]:
            return [Relation("broken-holder.Pin.thingId", "audit-owner.Thing", held_ids=broken, exists=THINGS_EXIST)]

    async with running_app([BrokenHolder(), Owner()], settings) as app:
        [report] = await relations.audit(app.host)
    assert report.error == "INTERNAL: broken-holder.Pin.thingId: held_ids failed: RuntimeError"


class NoLookupOwner:
    """An ``audit-owner`` whose schema lacks ``thingsByIds``."""

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="audit-owner")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()
        query.set_field("thing", lambda *_: None)
        return GraphQLApi("type Thing { id: ID! } type Query { thing(id: ID!): Thing }", [query])


def test_exists_documents_are_validated_like_operations(settings: Settings) -> None:
    host = Host(settings, [Holder(), NoLookupOwner()], load_entrypoints=False)
    assert THINGS_EXIST in [op.document for op in host.operations["audit-holder"]]
    with pytest.raises(PluginError, match="'audit-holder' sends an operation that 'audit-owner' no longer accepts"):
        host.validate_operations()
    Host(settings, [Holder(), Owner()], load_entrypoints=False).validate_operations()


def test_a_malformed_exists_document_fails_start_up_naming_the_plugin(settings: Settings) -> None:
    class Sloppy:
        @byway.hookimpl
        def byway_register_plugin(self) -> PluginInfo:
            return PluginInfo(name="sloppy")

        @byway.hookimpl
        def byway_register_relations(self) -> list[Relation]:
            doc = "query ($id: ID!) { thingsByIds(ids: [$id]) { id } }"
            return [Relation("sloppy.Pin.thingId", "audit-owner.Thing", held_ids=held_thing_ids, exists=doc)]

    with pytest.raises(PluginError, match=r"plugin 'sloppy'.*\$ids: \[ID!\]!"):
        Host(settings, [Sloppy(), Owner()], load_entrypoints=False)


# --- byway audit ------------------------------------------------------------------------------


def invoke(host: Host, *args: str) -> Result:
    return CliRunner().invoke(build_cli(host), list(args), catch_exceptions=False)


def seeded_host(settings: Settings, owner: Owner, thing_ids: list[str | None]) -> Host:
    """A host of the pair whose holder already stores pins for ``thing_ids``."""
    host = Host(settings, [Holder(), owner], load_entrypoints=False)

    async def seed() -> None:
        await host.open()
        try:
            await add_pins(host.plugins["audit-holder"], thing_ids)
        finally:
            await host.close()

    asyncio.run(seed())
    return host


def test_audit_command_clean(settings: Settings) -> None:
    result = invoke(seeded_host(settings, Owner({"a", "b"}), ["a", "b", None]), "audit")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "audit-holder.Pin.thingId -> audit-owner.Thing: 2 checked, 0 dangling",
        "audit-holder.Pin.labelId -> audit-owner.Label: skipped (no audit declared)",
        "audit-holder.Pin.ghostId -> ghost.Ghost: skipped (target not loaded)",
    ]


def test_audit_command_lists_dangling_ids_and_exits_1(settings: Settings) -> None:
    missing = [f"gone-{n:02d}" for n in range(23)]
    result = invoke(seeded_host(settings, Owner({"a"}), ["a", *missing]), "audit")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "audit-holder.Pin.thingId -> audit-owner.Thing: 24 checked, 23 dangling"
    assert lines[1:22] == [f"    gone-{n:02d}" for n in range(20)] + ["    ... and 3 more"]


def test_audit_command_json(settings: Settings) -> None:
    result = invoke(seeded_host(settings, Owner({"a"}), ["a", "b"]), "audit", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["clean"] is False
    assert report["relations"][0] == {
        "source": THING,
        "target": "audit-owner.Thing",
        "checked": 2,
        "dangling": ["b"],
        "skipped": None,
        "error": None,
    }
    assert [r["skipped"] for r in report["relations"][1:]] == ["no audit declared", "target not loaded"]

    empty = seeded_host(settings.with_overrides(data_dir=settings.data_dir / "empty"), Owner(), [])
    clean = invoke(empty, "audit", "--json")
    assert clean.exit_code == 0 and json.loads(clean.output)["clean"] is True


def test_audit_command_reports_an_unreachable_target_and_exits_2(settings: Settings) -> None:
    # The owner is not loaded here but configured at its own URL, where nothing listens.
    remote = settings.with_overrides(plugin_urls={"audit-owner": f"http://127.0.0.1:{free_port()}"}, client_retries=0)
    host = Host(remote, [Holder()], load_entrypoints=False)

    async def seed() -> None:
        await host.open()
        await add_pins(host.plugins["audit-holder"], ["a"])
        await host.close()

    asyncio.run(seed())
    result = invoke(host, "audit")
    assert result.exit_code == 2
    assert result.output.splitlines()[0].startswith(
        "audit-holder.Pin.thingId -> audit-owner.Thing: 0 checked, 0 dangling; not finished: UPSTREAM_UNAVAILABLE: "
    )


def test_audit_command_calls_loaded_plugins_in_process_unless_they_have_their_own_url(settings: Settings) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    # BYWAY_TRANSPORT=http points at this process's server, which does not run during a command.
    http = settings.with_overrides(transport="http", self_url=nobody, client_retries=0)
    result = invoke(seeded_host(http, Owner({"a"}), ["a", "b"]), "audit")
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "audit-holder.Pin.thingId -> audit-owner.Thing: 2 checked, 1 dangling",
        "    b",
    ]
    # A plugin configured with its own URL is asked there, even when it is installed here too.
    elsewhere = settings.with_overrides(
        data_dir=settings.data_dir / "elsewhere", plugin_urls={"audit-owner": nobody}, client_retries=0
    )
    owner = Owner({"a"})
    result = invoke(seeded_host(elsewhere, owner, ["a"]), "audit")
    assert result.exit_code == 2 and "UPSTREAM_UNAVAILABLE" in result.output
    assert owner.calls == []


def test_relations_command_names_the_audit_lookup(settings: Settings) -> None:
    result = invoke(Host(settings, [Holder(), Owner()], load_entrypoints=False), "relations")
    assert result.output.splitlines() == [
        "audit-holder.Pin.thingId -> audit-owner.Thing  [on write: must exist; on delete: restrict]",
        "    enforced by: tests",
        "    audited by: audit-owner.thingsByIds",
        "audit-holder.Pin.labelId -> audit-owner.Label  [on write: must exist; on delete: restrict]",
        "    enforced by: tests",
        "audit-holder.Pin.ghostId -> ghost.Ghost  [on write: must exist; on delete: restrict]",
        "    enforced by: -",
        "    audited by: ghost.ghostsByIds",
    ]
