"""Observability of a real checkout: metrics from a real scrape, an alert fed with them, one trace, clean logs.

The five first-party plugins, the dev payment provider, every call in-process or (CI re-run) over HTTP.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select, update

from byway.logs import setup_logging
from byway.settings import Settings
from byway.testing import FailingTransport, MetricSamples, running_app, scrape_metrics

from .conftest import CORE_PLUGINS, World, fast_settings

ecommerce = pytest.importorskip("byway_ecommerce.plugin")
ecommerce_models = pytest.importorskip("byway_ecommerce.models")
webhook_secret = pytest.importorskip("byway_ecommerce.state").webhook_secret
csrf_token = pytest.importorskip("byway_ecommerce.devcheckout").csrf_token

ROOT = Path(__file__).resolve().parents[2]
ECOMMERCE = {"outbox_interval_seconds": 3600, "reconcile_interval_seconds": 0, "outbox_backoff_seconds": 0.2}
CHECKOUT = """
mutation Checkout($items: [CartItemInput!]!, $successUrl: String!, $cancelUrl: String!) {
  createCheckout(items: $items, successUrl: $successUrl, cancelUrl: $cancelUrl) { sessionId url orderId }
}"""
VERIFY = "query V($s: ID!) { verifyCheckout(sessionId: $s) { ok orderId status } }"
IS_ENROLLED_ME = "query Q($c: ID!) { isEnrolledMe(courseId: $c) }"


def shop_settings(settings: Settings, **ecommerce_config: Any) -> Settings:
    settings = fast_settings(settings)
    return settings.with_overrides(plugins={**settings.plugins, "ecommerce": {**ECOMMERCE, **ecommerce_config}})


@asynccontextmanager
async def open_shop(settings: Settings, transport: str | None = None) -> AsyncIterator[World]:
    async with running_app([*CORE_PLUGINS, ecommerce], shop_settings(settings), transport=transport) as app:
        yield World(app)


@pytest.fixture
async def shop(byway_settings: Settings) -> AsyncIterator[World]:
    async with open_shop(byway_settings) as world:
        yield world


async def checkout(shop: World, course: str, token: str) -> dict[str, Any]:
    variables = {
        "items": [{"courseId": course}],
        "successUrl": "https://shop.example/ok",
        "cancelUrl": "https://x.example/no",
    }
    body = await shop.gql("ecommerce", CHECKOUT, variables, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["createCheckout"]
    return result


async def pay(shop: World, session: dict[str, Any]) -> None:
    """Press Pay on the dev provider's page (with the page's form token, as a browser would)."""
    path = urlsplit(session["url"]).path
    token = csrf_token(shop.app.host.plugins["ecommerce"], path.rsplit("/", 1)[-1])
    response = await shop.app.client.post(path, data={"action": "pay", "csrf_token": token})
    assert response.status_code == 303, response.text


async def eventually(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def delta(after: MetricSamples, before: MetricSamples, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


async def test_a_paid_checkout_moves_the_metrics_it_should(shop: World) -> None:
    teacher, _ = await shop.teacher()
    course = await shop.course(teacher, price=2500)
    buyer = await shop.user("buyer")
    before = await scrape_metrics(shop.app.client)

    session = await checkout(shop, course, buyer.token)
    await pay(shop, session)
    verified = await shop.gql("ecommerce", VERIFY, {"s": session["sessionId"]}, token=buyer.token)
    assert verified["data"]["verifyCheckout"] == {"ok": True, "orderId": session["orderId"], "status": "PAID"}
    after = await scrape_metrics(shop.app.client)

    transitions = "byway_ecommerce_order_transitions_total"
    assert delta(after, before, transitions, from_status="none", to_status="PENDING") == 1
    assert delta(after, before, transitions, from_status="PENDING", to_status="PAID") == 1
    assert delta(after, before, transitions) == 2  # nothing else moved
    assert delta(after, before, "byway_ecommerce_webhook_events_total", outcome="verified") == 1
    assert delta(after, before, "byway_ecommerce_outbox_deliveries_total", kind="enroll", outcome="delivered") == 1
    assert delta(after, before, "byway_ecommerce_outbox_deliveries_total") == 1
    assert delta(after, before, "byway_students_internal_enrollments_total", outcome="created") == 1
    assert after.value("byway_ecommerce_outbox_pending") == 0
    assert after.value("byway_ecommerce_outbox_oldest_pending_age_seconds") == 0
    assert after.value("byway_ecommerce_outbox_failed") == 0
    enroll = {"caller": "ecommerce", "target": "students-internal", "operation": "EnrollStudent", "outcome": "ok"}
    assert delta(after, before, "byway_cross_plugin_calls_total", **enroll) == 1
    ok = {"plugin": "ecommerce", "operation": "createCheckout", "status": "200", "outcome": "ok"}
    assert delta(after, before, "byway_http_requests_total", **ok) == 1


def humanize_duration(seconds: int) -> str:
    """Prometheus's ``humanizeDuration`` for whole seconds under a day."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def require_promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("BYWAY_TEST_PROMTOOL", "").lower() == "required":
            pytest.fail("promtool is required (BYWAY_TEST_PROMTOOL=required): apt-get install prometheus")
        pytest.skip("promtool (Debian's prometheus package) is not installed")
    return path


async def test_students_internal_down_grows_the_outbox_age_and_the_alert_fires(shop: World, tmp_path: Path) -> None:
    promtool = require_promtool()
    teacher, _ = await shop.teacher()
    course = await shop.course(teacher, price=900)
    buyer = await shop.user("buyer")
    host = shop.app.host
    session = await checkout(shop, course, buyer.token)
    down = FailingTransport(host.transport_for("students-internal"))
    with host.override_transport("students-internal", down):
        await pay(shop, session)

        async def retrying() -> bool:
            samples = await scrape_metrics(shop.app.client)
            return samples.value("byway_ecommerce_outbox_deliveries_total", outcome="retrying") >= 1

        await eventually(retrying)
        # The payment is taken; the enrollment waits in the outbox. Say it has waited 20 minutes:
        runtime = host.plugins["ecommerce"]
        box = ecommerce_models.enrollment_outbox
        async with runtime.sessions() as db, db.begin():
            for row_id, created_at in (await db.execute(select(box.c.id, box.c.created_at))).all():
                earlier = created_at - timedelta(minutes=20)
                await db.execute(update(box).where(box.c.id == row_id).values(created_at=earlier))
        first = await scrape_metrics(shop.app.client)
        await asyncio.sleep(1.1)
        second = await scrape_metrics(shop.app.client)
    age = "byway_ecommerce_outbox_oldest_pending_age_seconds"
    assert first.value("byway_ecommerce_outbox_pending", kind="enroll") == 1
    assert 1200 <= first.value(age) < 1260
    assert second.value(age) - first.value(age) >= 1.0  # it grows with the time the row waits
    unavailable = {"caller": "ecommerce", "target": "students-internal", "operation": "EnrollStudent"}
    assert second.value("byway_cross_plugin_upstream_unavailable_total", **unavailable) >= 1

    # Feed that series (as scraped, then growing at the rate it was seen to grow) to the shipped rule.
    start = int(first.value(age))
    waited = humanize_duration(start + 360)  # its value at 6m, in the alert's summary
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(dict(first.labelsets(age)[0]).items()))
    series = f'{age}{{job="byway"{"," if labels else ""}{labels}}}'
    test = {
        "rule_files": [str(ROOT / "deploy" / "prometheus" / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": series, "values": f"{start}+60x10"}],
                "alert_rule_test": [
                    {"eval_time": "4m", "alertname": "BywayEnrollmentOutboxBacklogOld", "exp_alerts": []},
                    {
                        "eval_time": "6m",
                        "alertname": "BywayEnrollmentOutboxBacklogOld",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "job": "byway"},
                                "exp_annotations": {
                                    "summary": f"The oldest pending enrollment has waited {waited}",
                                    "description": "The outbox worker is not getting enrollments through "
                                    "(students-internal down or refusing?).",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "outbox_age_test.yml"
    path.write_text(json.dumps(test))  # YAML is a superset of JSON
    result = await asyncio.to_thread(
        subprocess.run, [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

    # students-internal is back: the outbox drains and the backlog metric falls to zero.
    verified = await shop.gql("ecommerce", VERIFY, {"s": session["sessionId"]}, token=buyer.token)
    assert verified["data"]["verifyCheckout"]["status"] == "PAID"

    async def drained() -> bool:
        samples = await scrape_metrics(shop.app.client)
        return samples.value("byway_ecommerce_outbox_pending") == 0 and samples.value(age) == 0

    await eventually(drained)
    enrolled = await shop.gql("students-internal", IS_ENROLLED_ME, {"c": course}, token=buyer.token)
    assert enrolled["data"]["isEnrolledMe"] is True


async def test_a_checkout_over_http_is_one_trace_across_three_plugins(byway_settings: Settings) -> None:
    async with open_shop(byway_settings, transport="http") as shop:
        teacher, _ = await shop.teacher()
        course = await shop.course(teacher, price=1200)
        buyer = await shop.user("buyer")
        exporter = InMemorySpanExporter()
        shop.app.host.tracing.add_exporter(exporter)
        session = await checkout(shop, course, buyer.token)
        spans = exporter.get_finished_spans()
    (root,) = [s for s in spans if s.parent is None and s.name == "POST ecommerce createCheckout"]
    trace = [s for s in spans if s.context.trace_id == root.context.trace_id]
    plugins = {s.attributes["byway.plugin"] for s in trace}
    assert {"ecommerce", "teach-internal", "students-internal"} <= plugins
    # Over HTTP: each target's request span is the child of ecommerce's call span, linked by traceparent.
    calls = {s.context.span_id: s for s in trace if s.kind == SpanKind.CLIENT}
    served = [s for s in trace if s.kind == SpanKind.SERVER and s.attributes["byway.plugin"] != "ecommerce"]
    assert {s.attributes["byway.plugin"] for s in served} >= {"teach-internal", "students-internal"}
    for span in served:
        assert span.parent is not None and span.parent.span_id in calls
        assert calls[span.parent.span_id].attributes["byway.transport"] == "http"
    assert session["orderId"]


@contextmanager
def all_logs(settings: Settings) -> Iterator[io.StringIO]:
    """Everything logged while the block runs, as production writes it (JSON, libraries quiet), at DEBUG."""
    root = logging.getLogger()
    before = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging(settings.with_overrides(log_format="json", log_level="DEBUG"), stream)
    try:
        yield stream
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])


async def test_the_logs_of_a_full_scenario_hold_no_password_token_or_secret(byway_settings: Settings) -> None:
    admin_token = "reconcile-admin-token-7f3a9c"
    settings = shop_settings(byway_settings, admin_token=admin_token).with_overrides(client_retries=1)
    secrets: set[str] = {settings.jwt_secret, admin_token}
    with all_logs(settings) as stream:
        async with running_app([*CORE_PLUGINS, ecommerce], settings) as app:
            shop = World(app)
            teacher, _ = await shop.teacher()
            course = await shop.course(teacher, price=3100)
            buyer = await shop.user("buyer")
            secrets.update({teacher.token, buyer.token, "correct horse battery"})
            login = await shop.gql(
                "authentication",
                "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                {"e": buyer.email, "p": "correct horse battery"},
            )
            secrets.add(login["data"]["login"]["token"])
            wrong = await shop.gql(
                "authentication",
                "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                {"e": buyer.email, "p": "wrong-password-91823"},
            )
            assert wrong.get("errors")
            secrets.add("wrong-password-91823")
            secrets.add(app.host.tokens.service_token("ecommerce"))
            host = app.host
            with host.override_transport(
                "students-internal", FailingTransport(host.transport_for("students-internal"), 1)
            ):
                session = await checkout(shop, course, buyer.token)
                await pay(shop, session)
                await shop.gql("ecommerce", VERIFY, {"s": session["sessionId"]}, token=buyer.token)
            bad = await app.client.post(
                "/api/ecommerce/stripe/webhook",
                content=b'{"id": "evt_x", "type": "checkout.session.completed"}',
                headers={"Stripe-Signature": "t=1,v1=deadbeefcafe0123456789"},
            )
            assert bad.status_code == 400
            secrets.add("deadbeefcafe0123456789")
            reconciled = await app.client.post("/api/ecommerce/reconcile", headers={"X-Byway-Admin-Token": admin_token})
            assert reconciled.status_code == 200, reconciled.text
            refused = await app.client.post(
                "/api/ecommerce/reconcile", headers={"Authorization": f"Bearer {buyer.token}"}
            )
            assert refused.status_code == 403
            secrets.add(webhook_secret(app.host.plugins["ecommerce"]))
    text = stream.getvalue()
    lines = text.splitlines()
    assert len(lines) > 20 and all(json.loads(line)["request_id"] for line in lines)
    leaked = sorted(secret for secret in secrets if secret and secret in text)
    assert leaked == [], f"secrets in the logs: {leaked}"
    assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.", text), "a JWT-looking string was logged"
    # The paths a request id was needed for were logged with one: the checkout's access lines.
    access = [json.loads(line) for line in lines if '"logger": "byway.access"' in line]
    assert any(entry["operation"] == "createCheckout" and entry["trace_id"] != "-" for entry in access)


def status_report(settings: Settings) -> tuple[int, dict[str, Any]]:
    """``byway status --json`` on the same databases, as an operator would run it beside the server."""
    from click.testing import CliRunner

    from byway.cli import build_cli
    from byway.host import Host

    host = Host(settings, [*CORE_PLUGINS, ecommerce], load_entrypoints=False)
    result = CliRunner().invoke(build_cli(host), ["status", "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def ecommerce_checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (entry,) = [p for p in report["plugins"] if p["plugin"] == "ecommerce"]
    return {check["name"]: check for check in entry["checks"]}


async def test_failed_rows_show_in_status_and_metrics_until_reconcile_repairs_them(byway_settings: Settings) -> None:
    admin_token = "reconcile-admin-token-0c4e1b"
    settings = shop_settings(byway_settings, outbox_max_attempts=1, admin_token=admin_token)
    async with running_app([*CORE_PLUGINS, ecommerce], settings) as app:
        shop = World(app)
        teacher, _ = await shop.teacher()
        course = await shop.course(teacher, price=700)
        buyer = await shop.user("buyer")
        host = app.host
        session = await checkout(shop, course, buyer.token)
        down = FailingTransport(host.transport_for("students-internal"))
        with host.override_transport("students-internal", down):
            await pay(shop, session)

            async def failed() -> bool:
                return (await scrape_metrics(app.client)).value("byway_ecommerce_outbox_failed") == 1

            await eventually(failed)
        samples = await scrape_metrics(app.client)
        assert samples.value("byway_ecommerce_outbox_rows_failed_total", kind="enroll") == 1
        assert samples.value("byway_ecommerce_outbox_deliveries_total", outcome="failed") == 1

        code, report = await asyncio.to_thread(status_report, settings)
        assert code == 1
        checks = ecommerce_checks(report)
        assert checks["outbox failed"]["ok"] is False and checks["outbox failed"]["data"] == {"failed": 1}
        assert checks["last reconcile"] == {"name": "last reconcile", "ok": True, "detail": "never ran"}

        response = await app.client.post("/api/ecommerce/reconcile", headers={"X-Byway-Admin-Token": admin_token})
        assert response.status_code == 200 and response.json()["requeued"] == 1
        after = await scrape_metrics(app.client)
        enrolled = await shop.gql("students-internal", IS_ENROLLED_ME, {"c": course}, token=buyer.token)
        assert enrolled["data"]["isEnrolledMe"] is True

    assert after.value("byway_ecommerce_reconcile_runs_total", outcome="ok") == 1
    assert after.value("byway_ecommerce_reconcile_repaired_total", what="requeued") == 1
    assert after.value("byway_ecommerce_reconcile_last_success_timestamp_seconds") > time.time() - 60
    assert after.value("byway_ecommerce_outbox_failed") == 0
    code, report = await asyncio.to_thread(status_report, settings)
    checks = ecommerce_checks(report)
    assert checks["last reconcile"]["ok"] is True and checks["last reconcile"]["data"]["trigger"] == "admin"
    assert checks["outbox failed"]["ok"] is True and checks["outbox backlog"]["ok"] is True
    assert code == 0, report


async def test_webhook_refusals_are_counted_by_outcome(shop: World) -> None:
    from stripe import WebhookSignature

    client = shop.app.client
    bad = await client.post("/api/ecommerce/stripe/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert bad.status_code == 400
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "customer.created", "data": {"object": {}}})
    signature = WebhookSignature.generate_signature_header(payload, webhook_secret(shop.app.host.plugins["ecommerce"]))
    ignored = await client.post(
        "/api/ecommerce/stripe/webhook", content=payload, headers={"Stripe-Signature": signature}
    )
    assert ignored.status_code == 200
    samples = await scrape_metrics(client)
    assert samples.value("byway_ecommerce_webhook_events_total", type="unknown", outcome="bad_signature") == 1
    assert samples.value("byway_ecommerce_webhook_events_total", type="customer.created", outcome="ignored") == 1
