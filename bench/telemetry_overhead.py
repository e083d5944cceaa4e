"""What tracing costs a page when no exporter is configured (the default).

The page is the course listing of ``bench/course_listing.py`` (teach-internal, one batched call
to students-internal, database reads in both). One app, one seeded world; the same requests run
with three tracers, interleaved round by round so that the machine's noise hits all alike:

* ``noop``      OpenTelemetry's no-op tracer: what the page costs without tracing;
* ``default``   no exporter, as Byway runs by default: non-recording spans with real ids (ids in
                the logs and in ``traceparent``, nothing recorded or sent);
* ``exporting`` the SDK tracer with an in-memory exporter (every span processed as it ends).

Metrics and the request middleware are on in every variant (they are not switchable). On a busy
machine the A/B difference of whole pages drowns in noise, so the same run also times the spans
themselves (``Tracing.span`` as by default, without an exporter, as many as a page makes, in a tight loop
between rounds) and states them as a share of the page: ``span_cost_pct_of_page``. Prints a JSON
report; docs/performance.md states the figures (the budget is < 5 % of a page).

    python bench/telemetry_overhead.py [--transport inprocess|http] [--rounds 10] [--requests 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from course_listing import FAST_HASHING, LISTING, PLUGINS, seed
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracer, SpanKind, Tracer

from byway.testing import make_settings, running_app


async def main(transport: str, courses: int, rounds: int, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), plugins={"authentication": FAST_HASHING})
        async with running_app(PLUGINS, settings, transport=transport) as app:
            student = await seed(app, courses)
            tracing = app.host.tracing
            default_tracer = tracing.tracer
            exporter = InMemorySpanExporter()
            exporting_provider_tracer = _exporting_tracer(exporter)
            # None: what Byway runs with no exporter (non-recording spans with real ids).
            tracers: dict[str, Tracer | None] = {
                "noop": NoOpTracer(),
                "default": None,
                "exporting": exporting_provider_tracer,
            }
            means: dict[str, list[float]] = {name: [] for name in tracers}
            span_costs: list[float] = []
            spans_per_request = 0.0
            for _ in range(10):  # warm-up
                await app.gql("teach-internal", LISTING, {"n": courses}, token=student)
            for _ in range(rounds):
                for name, tracer in tracers.items():
                    tracing.exporting = tracer is not None
                    tracing.tracer = tracer or default_tracer
                    exporter.clear()
                    start = time.perf_counter()
                    for _ in range(requests):
                        body = await app.gql("teach-internal", LISTING, {"n": courses}, token=student)
                    means[name].append((time.perf_counter() - start) / requests)
                    assert len(body["data"]["courses"]) == courses
                    if name == "exporting":
                        spans_per_request = len(exporter.get_finished_spans()) / requests
                tracing.tracer, tracing.exporting = default_tracer, False
                span_costs.append(_span_cost(tracing, int(spans_per_request or 7) * requests) / requests)
            tracing.tracer, tracing.exporting = default_tracer, False
    per_page = {name: statistics.median(values) * 1e3 for name, values in means.items()}
    best = {name: min(values) * 1e3 for name, values in means.items()}
    spans_ms = statistics.median(span_costs) * 1e3
    return {
        "benchmark": "telemetry_overhead",
        "python": sys.version.split()[0],
        "transport": transport,
        "courses_per_page": courses,
        "rounds": rounds,
        "requests_per_round": requests,
        "spans_per_request": spans_per_request,
        "page_ms_median_of_round_means": {k: round(v, 3) for k, v in per_page.items()},
        "page_ms_best_round": {k: round(v, 3) for k, v in best.items()},
        "spans_ms_per_page": round(spans_ms, 4),
        "span_cost_pct_of_page": round(spans_ms / best["noop"] * 100, 2),
        "overhead_default_pct": round((per_page["default"] / per_page["noop"] - 1) * 100, 2),
        "overhead_exporting_pct": round((per_page["exporting"] / per_page["noop"] - 1) * 100, 2),
    }


def _span_cost(tracing: Any, count: int) -> float:
    """Seconds to open and close ``count`` nested-as-a-page spans as by default (no exporter)."""
    start = time.perf_counter()
    for _ in range(count // 7 or 1):
        with tracing.span("POST x op", "x", kind=SpanKind.SERVER, attributes={"byway.request_id": "r"}):
            with tracing.span("call y.Op", "x", kind=SpanKind.CLIENT, attributes={"byway.target": "y"}):
                with tracing.span("graphql y op", "y", kind=SpanKind.SERVER):
                    with tracing.span("db y", "y"):
                        pass
            for _ in range(3):
                with tracing.span("db x", "x"):
                    pass
    return time.perf_counter() - start


def _exporting_tracer(exporter: InMemorySpanExporter) -> Tracer:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("byway-bench")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=["inprocess", "http"], default="inprocess")
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.transport, args.courses, args.rounds, args.requests)), indent=2))
