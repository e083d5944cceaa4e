"""Benchmark the storefront's pages: how long a page takes beyond the cross-plugin calls it makes.

Runs the whole school in-process (SQLite, the demo data plus ``--courses`` extra published
courses), signs in the demo student, and requests each page ``--requests`` times through the ASGI
app. For every request it measures the wall time, and the wall time spent inside the storefront's
own cross-plugin calls (overlapping calls, made in parallel, are counted once); the difference is
what the storefront itself costs: session, form and template work. Prints a JSON report (medians and
p95 in milliseconds, calls per request).

    python bench/storefront_pages.py [--courses 30] [--requests 100]
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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "storefront" / "tests"))

from storefront_site import open_school

from byway.testing import make_settings

FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
CREATE = 'mutation C($t: String!, $p: Int!) { createCourse(title: $t, priceCents: $p, category: "Bench") { id } }'
PUBLISH = "mutation P($id: ID!) { updateCourse(id: $id, published: true) { id } }"


def merged(intervals: list[tuple[float, float]]) -> float:
    """Total length of the union of intervals."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered) * 1000, 3),
        "p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


async def main(courses: int, requests: int) -> dict[str, Any]:
    settings = make_settings(Path(tempfile.mkdtemp()) / "data", plugins={"authentication": FAST_HASHING})
    async with open_school(settings) as school:
        teacher = school.facts["teacher_token"]
        for i in range(courses):
            body = await school.gql(
                "teach-internal", CREATE, {"t": f"Bench course {i}", "p": 100 * (i % 3)}, token=teacher
            )
            await school.gql("teach-internal", PUBLISH, {"id": body["data"]["createCourse"]["id"]}, token=teacher)
        visitor = school.visitor()
        await visitor.login(school.facts["student_email"], school.facts["demo_password"])
        free = school.facts["free_course_id"]
        course = await school.gql(
            "teach-internal",
            "query($id: ID!) { course(id: $id) { modules { lessons { id } } } }",
            {"id": free},
            token=teacher,
        )
        lesson = course["data"]["course"]["modules"][0]["lessons"][0]["id"]
        pages = {
            "catalog": "/",
            "catalog search": "/?q=python",
            "course": f"/courses/{free}",
            "lesson": f"/lessons/{lesson}?course={free}",
            "my courses": "/my/courses",
            "my orders": "/my/orders",
            "teach (not a teacher)": "/teach",
            "login form (no call)": "/login",
        }
        runtime = school.host.plugins["storefront"]
        original = runtime.client.call
        spans: list[tuple[float, float]] = []

        async def timed(*args: Any, **kwargs: Any) -> dict[str, Any]:
            start = time.perf_counter()
            try:
                result: dict[str, Any] = await original(*args, **kwargs)
                return result
            finally:
                spans.append((start, time.perf_counter()))

        runtime.client.call = timed  # type: ignore[method-assign]
        report: dict[str, Any] = {"courses_in_catalog": courses + 2, "requests_per_page": requests, "pages": {}}
        client: httpx.AsyncClient = visitor.client
        for name, path in pages.items():
            totals, in_calls, beyond, counts = [], [], [], []
            for _ in range(requests + 5):
                spans.clear()
                with school.host.observe_calls() as calls:
                    start = time.perf_counter()
                    response = await client.get(path)
                    total = time.perf_counter() - start
                assert response.status_code == 200, (path, response.status_code)
                waited = merged(spans)
                totals.append(total)
                in_calls.append(waited)
                beyond.append(total - waited)
                counts.append(sum(1 for c in calls if c.caller == "storefront"))
            totals, in_calls, beyond = totals[5:], in_calls[5:], beyond[5:]  # warm-up dropped
            report["pages"][name] = {
                "storefront_calls": max(counts),
                "total_ms": summary(totals),
                "in_calls_ms": summary(in_calls),
                "beyond_calls_ms": summary(beyond),
            }
        runtime.client.call = original  # type: ignore[method-assign]
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--courses", type=int, default=30)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.courses, args.requests)), indent=2))
