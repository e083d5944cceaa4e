"""GET /metrics: what requests and cross-plugin calls count, who may read it, plugins' own metrics."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import tests.plugins.gauges as gauges
import tests.plugins.notes as notes
import tests.plugins.relay as relay
from byway.metrics import PluginMetrics, metric_prefix
from byway.settings import Settings
from byway.testing import TEST_JWT_SECRET, FailingTransport, error_codes, running_app, scrape_metrics

RELAY_NOTES = "{ relayNotes }"
ADD = 'mutation Add { addNote(text: "hello") { id } }'
BOOM = "query Boom { boom }"


async def test_a_request_and_its_cross_plugin_call_are_counted(byway_settings: Settings) -> None:
    async with running_app([notes, relay], byway_settings) as app:
        token = app.token("u1")
        assert "errors" not in await app.gql("notes", ADD, token=token)
        body = await app.gql("relay", RELAY_NOTES, token=token)
        assert body["data"] == {"relayNotes": ["hello"]}
        transport = app.host.transport_for("notes").name
        samples = await scrape_metrics(app.client)

    ok = {"status": "200", "outcome": "ok"}
    # Labelled by the first root field, never the query text or a client-chosen name.
    assert samples.value("byway_http_requests_total", plugin="relay", operation="relayNotes", **ok) == 1
    assert samples.value("byway_http_requests_total", plugin="notes", operation="addNote", **ok) == 1
    assert samples.value("byway_http_request_duration_seconds_count", plugin="relay", operation="relayNotes") == 1
    call = {"caller": "relay", "target": "notes", "operation": "RelayMyNotes", "transport": transport}
    assert samples.value("byway_cross_plugin_calls_total", outcome="ok", **call) == 1
    assert samples.value("byway_cross_plugin_call_duration_seconds_count", **call) == 1
    assert samples.value("byway_cross_plugin_retries_total", **call) == 0
    # notes' database connections all went back to the pool; its size is known.
    assert samples.value("byway_db_pool_connections_in_use", plugin="notes") == 0
    assert samples.labelsets("byway_db_pool_size") == [{"plugin": "notes"}]
    assert samples.value("byway_build_info") == 1


async def test_graphql_errors_are_counted_by_plugin_and_code(byway_settings: Settings) -> None:
    async with running_app([notes, relay], byway_settings) as app:
        assert error_codes(await app.gql("notes", ADD)) == ["UNAUTHENTICATED"]
        assert error_codes(await app.gql("notes", BOOM)) == ["INTERNAL"]
        assert error_codes(await app.gql("notes", "{ nope }")) == ["BAD_USER_INPUT"]
        samples = await scrape_metrics(app.client)
    assert samples.value("byway_graphql_errors_total", plugin="notes", code="UNAUTHENTICATED") == 1
    assert samples.value("byway_graphql_errors_total", plugin="notes", code="INTERNAL") == 1
    assert samples.value("byway_graphql_errors_total", plugin="notes", code="BAD_USER_INPUT") == 1
    assert (
        samples.value("byway_http_requests_total", plugin="notes", operation="addNote", outcome="UNAUTHENTICATED") == 1
    )
    assert samples.value("byway_http_requests_total", plugin="notes", operation="invalid", status="400") == 1


async def test_retries_and_upstream_unavailable_are_counted(byway_settings: Settings) -> None:
    async with running_app([notes, relay], byway_settings.with_overrides(client_retries=2)) as app:
        host = app.host
        with host.override_transport("notes", FailingTransport(host.transport_for("notes"))):
            body = await app.gql("relay", RELAY_NOTES, token=app.token("u1"))
        assert error_codes(body) == ["UPSTREAM_UNAVAILABLE"]
        samples = await scrape_metrics(app.client)
    call = {"caller": "relay", "target": "notes", "operation": "RelayMyNotes", "transport": "http"}
    assert samples.value("byway_cross_plugin_calls_total", outcome="UPSTREAM_UNAVAILABLE", **call) == 1
    assert samples.value("byway_cross_plugin_upstream_unavailable_total", **call) == 1
    assert samples.value("byway_cross_plugin_retries_total", **call) == 2
    assert samples.value("byway_http_requests_total", plugin="relay", outcome="UPSTREAM_UNAVAILABLE") == 1


async def test_a_plugins_own_metrics_and_scrape_callback(byway_settings: Settings) -> None:
    settings = byway_settings.with_overrides(plugins={"gauges": {"backlog": 7}})
    async with running_app([gauges], settings) as app:
        assert (await app.gql("gauges", '{ bump(kind: "a") }'))["data"] == {"bump": 1}
        assert (await app.gql("gauges", '{ bump(kind: "a") }'))["data"] == {"bump": 2}
        samples = await scrape_metrics(app.client)
        metrics = app.host.plugins["gauges"].metrics
        with pytest.raises(ValueError, match="another type"):
            metrics.gauge("bumps", "same name, other type")
    assert samples.value("byway_gauges_bumps_total", kind="a") == 2
    assert samples.value("byway_gauges_backlog") == 7
    assert samples.value("byway_metrics_collect_errors_total") == 0


@pytest.mark.parametrize("mode", ["fail", "slow"])
async def test_a_failing_or_slow_callback_is_counted_and_the_scrape_still_answers(
    byway_settings: Settings, mode: str
) -> None:
    settings = byway_settings.with_overrides(plugins={"gauges": {"callback": mode}}, metrics_scrape_timeout_seconds=0.2)
    async with running_app([gauges, notes], settings) as app:
        samples = await scrape_metrics(app.client)
    assert samples.value("byway_metrics_collect_errors_total", plugin="gauges") == 1
    assert samples.value("byway_gauges_backlog") == 0


def test_plugin_metric_names_are_prefixed_like_first_party_ones() -> None:
    assert metric_prefix("students-internal") == "byway_students_internal_"
    assert PluginMetrics.counter.__doc__ and "byway_<plugin>_<name>" in PluginMetrics.counter.__doc__


async def test_switched_off_metrics_are_not_found(byway_settings: Settings) -> None:
    async with running_app([relay], byway_settings.with_overrides(metrics_enabled=False)) as app:
        assert (await app.client.get("/metrics")).status_code == 404


def production(settings: Settings, **changes: object) -> Settings:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.with_overrides(env="production", jwt_secret=TEST_JWT_SECRET, **changes)


async def test_a_metrics_token_is_required_when_set(byway_settings: Settings) -> None:
    token = "scrape-token-0123456789"
    async with running_app([relay], production(byway_settings, metrics_token=token), transport="inprocess") as app:
        assert (await app.client.get("/metrics")).status_code == 403
        assert (await app.client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 403
        samples = await scrape_metrics(app.client, Authorization=f"Bearer {token}")
        assert samples.value("byway_build_info") == 1


async def test_production_without_token_answers_loopback_peers_only(byway_settings: Settings) -> None:
    async with running_app([relay], production(byway_settings), transport="inprocess") as app:
        # The in-memory client is a loopback peer (127.0.0.1) ...
        assert (await app.client.get("/metrics")).status_code == 200
        # ... but not when a proxy on this machine forwards someone else.
        forwarded = await app.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert forwarded.status_code == 403


async def test_a_token_shorter_than_16_characters_is_refused_in_production(byway_settings: Settings) -> None:
    from byway.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="METRICS_TOKEN"):
        production(byway_settings, metrics_token="short").check()


def require_promtool() -> str:
    """promtool's path; skips without it, fails with ``BYWAY_TEST_PROMTOOL=required`` (as in CI)."""
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("BYWAY_TEST_PROMTOOL", "").lower() == "required":
            pytest.fail("promtool is required (BYWAY_TEST_PROMTOOL=required): apt-get install prometheus")
        pytest.skip("promtool (Debian's prometheus package) is not installed")
    return path


async def test_promtool_accepts_a_real_scrape(byway_settings: Settings, tmp_path: Path) -> None:
    promtool = require_promtool()
    async with running_app([notes, relay, gauges], byway_settings) as app:
        await app.gql("relay", RELAY_NOTES, token=app.token("u1"))
        await app.gql("notes", BOOM)
        response = await app.client.get("/metrics")
    result = await asyncio.to_thread(
        subprocess.run, [promtool, "check", "metrics"], input=response.text, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_on_commit_counts_only_what_a_transaction_really_wrote(byway_settings: Settings) -> None:
    from sqlalchemy import text

    from byway.metrics import on_commit

    async with running_app([notes], byway_settings) as app:
        runtime = app.host.plugins["notes"]
        counted: list[str] = []
        async with runtime.sessions() as session:
            async with session.begin():
                await session.execute(text("SELECT 1"))
                on_commit(session, lambda: counted.append("committed"))
            assert counted == ["committed"]
            with pytest.raises(RuntimeError):
                async with session.begin():
                    on_commit(session, lambda: counted.append("rolled back"))
                    raise RuntimeError("the transaction fails")
            async with session.begin():
                await session.execute(text("SELECT 1"))  # a later commit does not run the forgotten one
        assert counted == ["committed"]


async def test_a_long_document_is_never_parsed_for_its_label_before_the_executor_does(byway_settings: Settings) -> None:
    from byway.execution import OFFLOAD_CHARS

    long_query = "query Long { whoami }" + " " * OFFLOAD_CHARS
    async with running_app([notes], byway_settings) as app:
        refused = await app.client.post(
            "/api/notes/graphql", json={"query": long_query}, headers={"Authorization": "Bearer not-a-token"}
        )
        assert refused.status_code == 401
        assert not app.host.plugins["notes"].executor.is_cached(long_query)
        ran = await app.client.post("/api/notes/graphql", json={"query": long_query})
        assert ran.json() == {"data": {"whoami": "anonymous"}}
        samples = await scrape_metrics(app.client)
    assert samples.value("byway_http_requests_total", plugin="notes", operation="unparsed", status="401") == 1
    assert samples.value("byway_http_requests_total", plugin="notes", operation="whoami", status="200") == 1
