"""Benchmark a real cross-plugin read: ``courses { isEnrolled modules { lessons { content } } }``.

teach-internal answers it with one batched call to students-internal per request, whatever the
number of courses. This measures the request end to end (through the ASGI app) with the
in-process transport and with every cross-plugin call over HTTP, in one run, and counts the
cross-plugin calls per request. Prints a JSON report.

    python bench/course_listing.py [--courses 20] [--requests 200]
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

from byway_authentication import plugin as authentication
from byway_students_internal import plugin as students_internal
from byway_teach import plugin as teach
from byway_teach_internal import plugin as teach_internal

from byway.testing import TestApp, make_settings, running_app

PLUGINS = [authentication, teach, teach_internal, students_internal]
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
REGISTER = 'mutation R($e: String!) { register(email: $e, password: "correct horse battery") { token user { id } } }'
LISTING = "query L($n: Int!) { courses(first: $n) { id title isEnrolled modules { lessons { title content } } } }"


async def seed(app: TestApp, courses: int) -> str:
    """A verified teacher with ``courses`` published free courses; returns a student's token."""

    async def register(email: str) -> str:
        body = await app.gql("authentication", REGISTER, {"e": email})
        payload = body["data"]["register"]
        token: str = payload["token"]
        return token

    teacher = await register("teacher@bench.dev")
    profile = await app.gql("teach", 'mutation { createTeacherProfile(bio: "b") { id } }', token=teacher)
    admin = app.token("bench-admin", ("student", "admin"))
    profile_id = profile["data"]["createTeacherProfile"]["id"]
    await app.gql(
        "teach", "mutation V($id: ID!) { verifyTeacherProfile(id: $id) { id } }", {"id": profile_id}, token=admin
    )
    student = await register("student@bench.dev")
    for i in range(courses):
        body = await app.gql(
            "teach-internal",
            "mutation C($t: String!) { createCourse(title: $t, priceCents: 0) { id } }",
            {"t": f"Course {i}"},
            token=teacher,
        )
        course_id = body["data"]["createCourse"]["id"]
        await app.gql(
            "teach-internal",
            "mutation P($id: ID!) { updateCourse(id: $id, published: true) { id } }",
            {"id": course_id},
            token=teacher,
        )
        module = await app.gql(
            "teach-internal",
            'mutation M($c: ID!) { createModule(courseId: $c, title: "m") { id } }',
            {"c": course_id},
            token=teacher,
        )
        await app.gql(
            "teach-internal",
            'mutation L($m: ID!) { createLesson(moduleId: $m, title: "l", content: "secret") { id } }',
            {"m": module["data"]["createModule"]["id"]},
            token=teacher,
        )
        if i % 2 == 0:
            await app.gql(
                "students-internal",
                "mutation E($c: ID!) { enrollMe(courseId: $c) { id } }",
                {"c": course_id},
                token=student,
            )
    return student


async def measure(transport: str, courses: int, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), plugins={"authentication": FAST_HASHING})
        async with running_app(PLUGINS, settings, transport=transport) as app:
            student = await seed(app, courses)
            for _ in range(10):  # warm-up
                await app.gql("teach-internal", LISTING, {"n": courses}, token=student)
            samples = []
            with app.host.observe_calls() as calls:
                for _ in range(requests):
                    start = time.perf_counter()
                    body = await app.gql("teach-internal", LISTING, {"n": courses}, token=student)
                    samples.append(time.perf_counter() - start)
            listed = body["data"]["courses"]
            assert len(listed) == courses and sum(c["isEnrolled"] for c in listed) == (courses + 1) // 2
            return {
                "transport": transport,
                "courses_per_response": courses,
                "requests": requests,
                "cross_plugin_calls_per_request": len(calls) / requests,
                "mean_ms": round(statistics.fmean(samples) * 1e3, 3),
                "p50_ms": round(statistics.median(samples) * 1e3, 3),
                "p95_ms": round(sorted(samples)[int(len(samples) * 0.95) - 1] * 1e3, 3),
            }


async def main(courses: int, requests: int) -> dict[str, Any]:
    results = [await measure("inprocess", courses, requests), await measure("http", courses, requests)]
    return {
        "benchmark": "course_listing",
        "python": sys.version.split()[0],
        "results": results,
        "ratios": {"http_over_inprocess": round(results[1]["mean_ms"] / results[0]["mean_ms"], 2)},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.courses, args.requests)), indent=2))
