"""Byway's benchmark harness: every row of the performance table in one run, as ONE JSON object.

    python bench/run.py                      # SQLite (a file per plugin in a temporary directory)
    python bench/run.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python bench/run.py --quick              # small and short: what CI runs so the harness cannot rot

It builds its own data (bulk rows written straight into the plugins' tables), runs the app with
the real first-party plugins, and measures:

* latencies through the ASGI app with the in-process transport (medians with p99 beside them;
  compared probes are interleaved so that the shared machine's load hits both alike);
* throughput over HTTP against a separate ``uvicorn`` process (one worker) loaded by ``wrk``;
* deterministic cross-plugin call and SQL statement counts (also asserted in ``tests/``);
* scaling rows (latency at growing data sizes), plotted as a PNG (``--plot``).

Progress goes to stderr; stdout gets the JSON report only. See ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import functools
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlsplit

import httpx
from bench_measure import interleaved, ratio, summary, wrk
from bench_world import (
    STUDENT_USER,
    WORDS,
    add_courses,
    add_enrollments,
    add_modules,
    add_students,
    core_plugins,
    course_id,
    enrolled_of_user,
    filler_pairs,
)
from sqlalchemy import event
from sqlalchemy.engine import make_url

from byway.app import create_app, served
from byway.client import HttpTransport
from byway.host import Host
from byway.testing import free_port, host_of, make_settings

HERE = Path(__file__).resolve().parent
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}

ENROLLMENT_STATUS = """
query EnrollmentStatus($courseIds: [ID!]!) {
  enrollmentStatus(courseIds: $courseIds) { courseId enrolled }
}
"""
PAGE = "query Page($n: Int!) { courses(first: $n) { id title priceCents } }"
PAGE_ENROLLED = "query Page($n: Int!) { courses(first: $n) { id title priceCents isEnrolled } }"
PAGE_AFTER = "query Page($n: Int!, $after: ID) { courses(first: $n, after: $after) { id title priceCents } }"
NESTED_PAGE = """
query Nested($n: Int!) {
  courses(first: $n) { id title priceCents isEnrolled %s modules { id title lessons { id title content } } }
}
"""
CREATE_CHECKOUT = """
mutation Checkout($items: [CartItemInput!]!) {
  createCheckout(items: $items, successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no") {
    sessionId url orderId
  }
}
"""
IS_ENROLLED_ME = "query Me($c: ID!) { isEnrolledMe(courseId: $c) }"

#: Course numbers: 0..199 are the catalogue's first pages (student 0 enrolled in the even ones
#: among 0..99); paid courses (n % 4 == 1) from 201 on are what the checkout rows buy.
ENROLLED_OF_STUDENT = [n for n in range(0, 100, 2)]
CHECKOUT_COURSES = [n for n in range(201, 400) if n % 4 == 1][:10]
PAID_COURSES = [n for n in range(401, 2000) if n % 4 == 1]


def log(message: str) -> None:
    """Progress on stderr (stdout is the JSON report)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Plan:
    """Sizes and durations: the full run, or ``--quick``."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.rounds = 60 if quick else 400
        self.enrollment_sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
        self.course_sizes = [1_000, 5_000] if quick else [1_000, 10_000, 100_000]
        self.scaling_rounds = 40 if quick else 200
        self.wrk_seconds = 1 if quick else 2
        self.wrk_servers = 1 if quick else 3
        self.wrk_rounds = 2 if quick else 3
        self.payments = 5 if quick else 30


# --- the world ----------------------------------------------------------------------------------


class World:
    """The running app, its host, an in-memory client and the base URL of its in-process server."""

    def __init__(self, app: Any, client: httpx.AsyncClient, base_url: str, settings: Any) -> None:
        self.app = app
        self.client = client
        self.base_url = base_url
        self.settings = settings
        self.host: Host = host_of(app)
        self.student_token = self.host.tokens.issue_user_token(STUDENT_USER, ["student"])
        self.enrollments = 0
        self.courses = 0
        self.teacher = STUDENT_USER
        self.students = 0

    async def gql(self, plugin: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/{plugin}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.student_token}"},
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{plugin} answered {response.status_code}: {body}")
        return body

    def grow_enrollments(self, total: int) -> None:
        """Add filler students and enrollments until ``total`` enrollments exist."""
        missing = total - self.enrollments
        if missing <= 0:
            return
        per_student = 100
        new_students = -(-missing // per_student)
        add_students(self.host, self.students, self.students + new_students)
        pairs = filler_pairs(self.students, missing, min(self.courses, 1000), per_student)
        self.enrollments += add_enrollments(self.host, pairs, self.enrollments)
        self.students += new_students

    def grow_courses(self, total: int) -> None:
        if total > self.courses:
            add_courses(self.host, self.courses, total, self.teacher)
            self.courses = total


@contextlib.asynccontextmanager
async def live_uvicorn(app: Any) -> AsyncIterator[str]:
    """The app served by uvicorn in this process (for the HTTP transport), waiting as long as a
    loaded machine needs for the start-up (migrations of five databases)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.1)
        if not server.started:
            if task.done():
                task.result()
            raise RuntimeError("uvicorn did not start in 120 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


REGISTER = """
mutation R($email: String!) {
  register(email: $email, password: "correct horse battery", firstName: "Ada", lastName: "Teacher") {
    token user { id }
  }
}"""


async def register_teacher(world: World) -> str:
    """A teacher registered through the API with a verified profile; returns the user id."""

    async def post(plugin: str, query: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await world.client.post(
            f"/api/{plugin}/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise RuntimeError(f"{plugin}: {body}")
        return body["data"]

    registered = (await post("authentication", REGISTER, {"email": "teacher@bench.example"}, None))["register"]
    token, user_id = registered["token"], registered["user"]["id"]
    created = await post("teach", 'mutation { createTeacherProfile(bio: "I teach") { id } }', {}, token)
    admin = world.host.tokens.issue_user_token("bench-admin", ["student", "admin"])
    verify = "mutation V($id: ID!) { verifyTeacherProfile(id: $id) { id } }"
    await post("teach", verify, {"id": created["createTeacherProfile"]["id"]}, admin)
    return str(user_id)


@contextlib.asynccontextmanager
async def running_world(
    database_url: str, *, courses: int = 1_000, enrollments: int = 1_000, live: bool = True
) -> AsyncIterator[World]:
    """An app with the bench plugins and data: ``courses`` published courses (the first 200 with
    modules and lessons), the measured student enrolled in 50 of the first 100, and filler students
    up to ``enrollments`` enrollments. ``live`` also serves it with uvicorn (for the HTTP transport)."""
    with tempfile.TemporaryDirectory(prefix="byway-bench-") as tmp:
        settings = make_settings(
            Path(tmp) / "data", database_url=database_url, plugins={"authentication": FAST_HASHING}
        )
        app = served(create_app(settings, core_plugins()))  # as ``byway serve`` runs it (tune_gc)
        async with contextlib.AsyncExitStack() as stack:
            if live:
                base_url = await stack.enter_async_context(live_uvicorn(app))
            else:
                await stack.enter_async_context(app.router.lifespan_context(app))
                base_url = ""
            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            world = World(app, client, base_url, settings)
            world.teacher = await register_teacher(world)
            world.grow_courses(courses)
            add_modules(world.host, range(200))
            add_students(world.host, 0, 1)
            world.students = 1
            world.enrollments = add_enrollments(world.host, ((0, n) for n in ENROLLED_OF_STUDENT), 0)
            world.grow_enrollments(enrollments)
            yield world


_COUNTING: contextvars.ContextVar[bool] = contextvars.ContextVar("bench_counting", default=False)


@contextlib.contextmanager
def count_statements(host: Host) -> Iterator[Counter[str]]:
    """Count the SQL statements sent to each plugin's database by the code inside the block (and
    the tasks it starts), not by background jobs."""
    counts: Counter[str] = Counter()
    listeners = []
    token = _COUNTING.set(True)
    for runtime in host.plugins.values():
        if runtime.database is None:
            continue
        def listener(*_: Any, name: str = runtime.name) -> None:
            if _COUNTING.get():
                counts[name] += 1

        for engine in runtime.db.sync_engines:  # sessions' and readers'
            event.listen(engine, "before_cursor_execute", listener)
            listeners.append((engine, listener))
    try:
        yield counts
    finally:
        _COUNTING.reset(token)
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)


# --- the benchmarks ---------------------------------------------------------------------------------


async def bench_cross_plugin_call(world: World, plan: Plan) -> dict[str, Any]:
    """``enrollmentStatus`` for 50 ids: in-process client, HTTP client, and the store called directly."""
    from byway_students_internal import store as students_store

    host = world.host
    client = host.plugins["teach-internal"].client
    students = host.plugins["students-internal"]
    principal = host.tokens.verify(world.student_token)
    ids = [course_id(n) for n in range(50)]
    expected = [{"courseId": c, "enrolled": n in ENROLLED_OF_STUDENT} for n, c in enumerate(ids)]

    async def inprocess() -> None:
        data = await client.call("students-internal", ENROLLMENT_STATUS, {"courseIds": ids}, as_=principal)
        assert data["enrollmentStatus"] == expected

    async def direct() -> None:
        # As its resolver does: the store's query through a reader (plugin.reader()).
        async with students.reader() as db:
            enrolled = await enrolled_of_user(students_store, db, STUDENT_USER, ids)
        assert [{"courseId": c, "enrolled": c in enrolled} for c in ids] == expected

    async with httpx.AsyncClient() as http:
        transport = HttpTransport(world.base_url, http)

        async def over_http() -> None:
            with host.override_transport("students-internal", transport):
                data = await client.call("students-internal", ENROLLMENT_STATUS, {"courseIds": ids}, as_=principal)
            assert data["enrollmentStatus"] == expected

        local = await interleaved({"inprocess": inprocess, "direct": direct}, plan.rounds)
        remote = await interleaved({"http": over_http, "inprocess": inprocess}, max(plan.rounds // 4, 30))
    return {
        "inprocess_over_direct": ratio(local["inprocess"], local["direct"]),
        "http_over_inprocess": ratio(remote["http"], remote["inprocess"]),
        "enrollment_status_50": {**local, "http": remote["http"], "inprocess_beside_http": remote["inprocess"]},
    }


async def bench_page(world: World, plan: Plan) -> dict[str, Any]:
    """The 50-course page with and without ``isEnrolled``, through the ASGI app, in-process."""
    plain_vars = {"n": 50}
    n_enrolled = len([n for n in ENROLLED_OF_STUDENT if n < 50])

    async def plain() -> None:
        body = await world.gql("teach-internal", PAGE, plain_vars)
        assert len(body["data"]["courses"]) == 50

    async def with_enrolled() -> None:
        body = await world.gql("teach-internal", PAGE_ENROLLED, plain_vars)
        assert sum(c["isEnrolled"] for c in body["data"]["courses"]) == n_enrolled

    result = await interleaved({"plain": plain, "isEnrolled": with_enrolled}, plan.rounds)
    return {"isenrolled_page_over_plain": ratio(result["isEnrolled"], result["plain"]), "courses_page_50": result}


def teacher_selection(world: World) -> str:
    """``teacher { displayName }`` when teach-internal's Course has it (issue 8), else nothing."""
    executor = world.host.plugins["teach-internal"].executor
    course = executor.schema.get_type("Course") if executor else None
    fields = getattr(course, "fields", {})
    return "teacher { displayName }" if "teacher" in fields else ""


async def bench_counts(world: World) -> dict[str, Any]:
    """Cross-plugin calls and SQL statements of the nested page, and calls of a 10-item checkout."""
    host = world.host
    query = NESTED_PAGE % teacher_selection(world)
    await world.gql("teach-internal", query, {"n": 50})  # warm caches (documents, connections)
    with host.observe_calls() as calls, count_statements(host) as statements:
        body = await world.gql("teach-internal", query, {"n": 50})
    courses = body["data"]["courses"]
    assert len(courses) == 50 and all(len(c["modules"]) == 2 for c in courses[:50] if int(c["id"][1:]) < 200)
    page_calls = dict(Counter(c.target for c in calls))

    items = [{"courseId": course_id(n)} for n in CHECKOUT_COURSES]
    with host.observe_calls() as checkout_calls:
        body = await world.gql("ecommerce", CREATE_CHECKOUT, {"items": items})
    assert body["data"]["createCheckout"]["orderId"]
    return {
        "courses_page_calls": page_calls,
        "courses_page_calls_detail": [f"{c.caller}->{c.target}.{c.operation}" for c in calls],
        "courses_page_statements": dict(statements),
        "courses_page_has_teacher": bool(teacher_selection(world)),
        "checkout_calls": len(checkout_calls),
        "checkout_calls_detail": [f"{c.caller}->{c.target}.{c.operation}" for c in checkout_calls],
    }


async def bench_paid_to_enrolled(world: World, plan: Plan) -> dict[str, Any]:
    """Dev-provider pay (POST of the checkout page) until ``isEnrolledMe`` is true."""
    samples = []
    for n in PAID_COURSES[: plan.payments]:
        cid = course_id(n)
        body = await world.gql("ecommerce", CREATE_CHECKOUT, {"items": [{"courseId": cid}]})
        url = urlsplit(body["data"]["createCheckout"]["url"]).path
        page = await world.client.get(url)
        form_token = re.search(r"name='csrf_token' value='([^']+)'", page.text)
        assert form_token, page.text
        start = time.perf_counter()
        response = await world.client.post(url, data={"action": "pay", "csrf_token": form_token.group(1)})
        assert response.status_code == 303, response.text
        while not (await world.gql("students-internal", IS_ENROLLED_ME, {"c": cid}))["data"]["isEnrolledMe"]:
            if time.perf_counter() - start > 30:
                raise RuntimeError(f"course {cid} paid but not enrolled after 30 s")
            await asyncio.sleep(0.001)
        samples.append(time.perf_counter() - start)
    return summary(samples)


@contextlib.contextmanager
def bench_server(world: World, database_url: str) -> Iterator[str]:
    """The same app and data served by ``bench/serve.py``: uvicorn, one worker, its own process."""
    port = free_port()
    data_dir = world.settings.data_dir
    # The server's output goes to a file: a pipe nobody reads would fill up and stall it.
    server_log = (data_dir / "bench-server.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "serve.py"), "--data-dir", str(data_dir), "--port", str(port)]
        + (["--database-url", database_url] if database_url else []),
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                server_log.seek(0)
                raise RuntimeError(f"bench server exited: {server_log.read()}")
            time.sleep(0.05)
        else:
            raise RuntimeError("bench server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        server_log.close()


def bench_throughput(world: World, plan: Plan, database_url: str) -> dict[str, Any]:
    """``wrk -t1 -c8`` against one uvicorn worker: GraphQL page with and without ``isEnrolled``, and
    the plain JSON endpoint returning the same data with the same SQL.

    The full run loads ``plan.wrk_servers`` server processes one after the other, ``plan.wrk_rounds``
    alternating rounds each, and pools the rounds: two processes of the same code here differ by up
    to 15 % in CPU per request (docs/performance.md, item 20), more than what is measured."""
    auth = {"Authorization": f"Bearer {world.student_token}", "Content-Type": "application/json"}
    plain_body = json.dumps({"query": "query { courses(first: 20) { id title priceCents } }"})
    enrolled_body = json.dumps({"query": "query { courses(first: 20) { id title priceCents isEnrolled } }"})
    names = ("graphql_plain", "graphql_isEnrolled", "json_isEnrolled", "healthz")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for _server in range(plan.wrk_servers):
        with bench_server(world, database_url) as base:
            graphql_url = f"{base}/api/teach-internal/graphql"
            # Same data both ways, checked before the load.
            gql = httpx.post(graphql_url, content=enrolled_body, headers=auth).json()["data"]["courses"]
            plain = httpx.get(f"{base}/api/bench/courses?first=20", headers=auth).json()
            assert gql == plain and any(c["isEnrolled"] for c in plain), (gql, plain)
            targets: dict[str, Callable[[], dict[str, Any]]] = {
                "graphql_plain": functools.partial(
                    wrk, graphql_url, seconds=plan.wrk_seconds, method="POST", body=plain_body, headers=auth
                ),
                "graphql_isEnrolled": functools.partial(
                    wrk, graphql_url, seconds=plan.wrk_seconds, method="POST", body=enrolled_body, headers=auth
                ),
                "json_isEnrolled": functools.partial(
                    wrk, f"{base}/api/bench/courses?first=20", seconds=plan.wrk_seconds, headers=auth
                ),
                "healthz": functools.partial(wrk, f"{base}/healthz", seconds=plan.wrk_seconds),
            }
            for url, body in ((graphql_url, enrolled_body), (graphql_url, plain_body)):  # warm-up
                wrk(url, seconds=1, method="POST", body=body, headers=auth)
            wrk(f"{base}/api/bench/courses?first=20", seconds=1, headers=auth)
            for i in range(plan.wrk_rounds):
                order = list(names) if i % 2 == 0 else list(names)[::-1]
                for name in order:
                    runs[name].append(targets[name]())
    result: dict[str, Any] = {}
    for name, samples in runs.items():
        rps = [s["rps"] for s in samples]
        result[name] = {
            "rps": median(rps),
            "rps_runs": rps,
            "p50_ms": median([s.get("p50_ms", 0) for s in samples]),
            "p99_ms": max(s.get("p99_ms", 0) for s in samples),
        }

    def round_ratio(numerator: str, denominator: str) -> float:
        """The median over rounds of the ratio within each round (runs next to each other in time)."""
        pairs = zip(runs[numerator], runs[denominator], strict=True)
        return round(median([a["rps"] / b["rps"] for a, b in pairs]), 3)

    rounds = f"{plan.wrk_servers} server process(es) x {plan.wrk_rounds} alternating rounds"
    return {
        "isenrolled_throughput_over_plain": round_ratio("graphql_isEnrolled", "graphql_plain"),
        "graphql_over_plain_throughput": round_ratio("graphql_isEnrolled", "json_isEnrolled"),
        "throughput": {"wrk": f"-t1 -c8 -d{plan.wrk_seconds}s, {rounds}", **result},
    }


def search_query(world: World) -> str | None:
    """A one-word catalogue search, when teach-internal has one (issue 8), else None."""
    executor = world.host.plugins["teach-internal"].executor
    query_type = executor.schema.query_type if executor else None
    if query_type is None:
        return None
    courses = query_type.fields.get("courses")
    for arg in ("search", "query", "q", "text"):
        if courses is not None and arg in courses.args:
            return f'query Search($n: Int!) {{ courses(first: $n, {arg}: "{WORDS[3]}") {{ id title priceCents }} }}'
    for name in ("searchCourses", "search", "courseSearch"):
        field = query_type.fields.get(name)
        if field is not None:
            arg = next(iter(field.args), None)
            if arg:
                return f'query Search($n: Int!) {{ {name}(first: $n, {arg}: "{WORDS[3]}") {{ id title priceCents }} }}'
    return None


async def bench_scaling(world: World, plan: Plan, database_url: str) -> dict[str, Any]:
    """Latency against data size: the isEnrolled page against enrollments, the catalogue page and
    the one-word search against courses. Every size is its own app, all running at once, so that
    their probes can be interleaved (the machine's load then hits every size alike)."""
    search = search_query(world)
    async with contextlib.AsyncExitStack() as stack:
        by_enrollments: dict[int, World] = {}
        by_courses: dict[int, World] = {}
        for i, size in enumerate(plan.enrollment_sizes):
            log(f"world with {size:,} enrollments")
            url = database_url.replace("{plugin}", f"e{i}_{{plugin}}")
            by_enrollments[size] = await stack.enter_async_context(running_world(url, enrollments=size, live=False))
        for i, size in enumerate(plan.course_sizes):
            log(f"world with {size:,} courses")
            url = database_url.replace("{plugin}", f"c{i}_{{plugin}}")
            by_courses[size] = await stack.enter_async_context(running_world(url, courses=size, live=False))

        def enrolled_page(w: World) -> Any:
            async def probe() -> None:
                body = await w.gql("teach-internal", PAGE_ENROLLED, {"n": 20})
                assert sum(c["isEnrolled"] for c in body["data"]["courses"]) == 10

            return probe

        def page(w: World, query: str, variables: dict[str, Any]) -> Any:
            async def probe() -> None:
                body = await w.gql("teach-internal", query, variables)
                assert body["data"]

            return probe

        log("scaling: isEnrolled page by enrollments")
        enrolled = await interleaved(
            {str(size): enrolled_page(w) for size, w in by_enrollments.items()}, plan.scaling_rounds
        )
        log("scaling: catalogue page (first, after a cursor, search) by courses")
        probes = {}
        for size, w in by_courses.items():
            probes[f"first {size}"] = page(w, PAGE, {"n": 20})
            probes[f"after {size}"] = page(w, PAGE_AFTER, {"n": 20, "after": course_id(size // 2)})
            if search:
                probes[f"search {size}"] = page(w, search, {"n": 20})
        catalogue = await interleaved(probes, plan.scaling_rounds)
    enrolled_rows = [{"size": size, **enrolled[str(size)]} for size in plan.enrollment_sizes]
    course_rows = [
        {"size": size, **catalogue[f"first {size}"], "after_cursor": catalogue[f"after {size}"]}
        for size in plan.course_sizes
    ]
    search_rows = [{"size": size, **catalogue[f"search {size}"]} for size in plan.course_sizes] if search else []

    def over(rows: list[dict[str, Any]]) -> float | None:
        return round(rows[-1]["median_ms"] / rows[0]["median_ms"], 3) if len(rows) > 1 else None

    return {
        "isenrolled_1m_over_1k": over(enrolled_rows),
        "courses_100k_over_1k": over(course_rows),
        "search_100k_over_1k": over(search_rows) if search else "pending: no catalogue search on main yet",
        "scaling": {
            "isenrolled_page_by_enrollments": enrolled_rows,
            "courses_page_by_courses": course_rows,
            "search_by_courses": search_rows,
        },
    }


STAGES = ("call", "page", "counts", "paid", "throughput", "scaling")

# --- report -------------------------------------------------------------------------------------

TARGETS: dict[str, tuple[str, float | None]] = {
    "inprocess_over_direct": ("<=", 1.5),
    "http_over_inprocess": ("reported", None),
    "isenrolled_page_over_plain": ("<=", 1.25),
    "isenrolled_throughput_over_plain": (">=", 0.8),
    "courses_page_calls": ("1 per target", None),
    "courses_page_statements": ("<= 3 each", None),
    "checkout_calls": ("== 2", None),
    "graphql_over_plain_throughput": (">=", 0.6),
    "isenrolled_1m_over_1k": ("<=", 1.3),
    "courses_100k_over_1k": ("<=", 1.3),
    "search_100k_over_1k": ("<=", 2.0),
    "paid_to_enrolled_ms": ("reported", None),
}


def verdict(key: str, value: Any) -> bool | None:
    """Whether ``value`` meets the target of ``key`` (None: reported only, or not measured)."""
    op, bound = TARGETS[key]
    if key == "courses_page_calls":
        return bool(value) and all(v == 1 for v in value.values())
    if key == "courses_page_statements":
        return bool(value) and all(v <= 3 for v in value.values())
    if key == "checkout_calls":
        return bool(value == 2)
    if bound is None or not isinstance(value, int | float):
        return None
    return value <= bound if op == "<=" else value >= bound


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    return info


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def run(quick: bool, postgres: str | None, plot: Path | None, stages: tuple[str, ...] = STAGES) -> dict[str, Any]:
    plan = Plan(quick)
    database_url = ""
    prefix = ""
    if postgres:
        prefix = f"byway_bench_{uuid.uuid4().hex[:8]}_"
        # Built as text: a URL object would percent-encode the braces of the {plugin} placeholder.
        base = make_url(postgres).set(drivername="postgresql+psycopg", database="DB")
        database_url = base.render_as_string(hide_password=False).rsplit("/", 1)[0] + f"/{prefix}{{plugin}}"
    report: dict[str, Any] = {
        "database": "postgresql" if postgres else "sqlite",
        "quick": quick,
        "machine": machine(),
        "load_average_start": load_average(),
    }
    started = time.perf_counter()
    try:
        async with running_world(database_url) as world:
            measured: dict[str, Any] = {}
            if "call" in stages:
                log("cross-plugin call: direct, in-process, HTTP")
                measured.update(await bench_cross_plugin_call(world, plan))
            if "page" in stages:
                log("course page with and without isEnrolled")
                measured.update(await bench_page(world, plan))
            if "counts" in stages:
                log("call and statement counts")
                measured.update(await bench_counts(world))
            if "paid" in stages:
                log("paid to enrolled")
                measured["paid_to_enrolled_ms"] = await bench_paid_to_enrolled(world, plan)
            if "throughput" in stages:
                log("throughput (wrk against a separate uvicorn process)")
                measured.update(await asyncio.to_thread(bench_throughput, world, plan, database_url))
            if "scaling" in stages:
                log("scaling")
                measured.update(await bench_scaling(world, plan, database_url))
    finally:
        if prefix:
            await drop_databases(postgres or "", prefix)
    report["targets"] = {
        key: {
            "value": measured.get(key),
            "target": " ".join(str(p) for p in TARGETS[key] if p is not None),
            "met": verdict(key, measured.get(key)),
        }
        for key in TARGETS
    }
    report["details"] = {k: v for k, v in measured.items() if k not in TARGETS}
    report["load_average_end"] = load_average()
    report["seconds"] = round(time.perf_counter() - started, 1)
    if plot is not None and "scaling" in stages:
        write_plot(report, plot)
        report["plot"] = str(plot)
    return report


async def drop_databases(postgres: str, prefix: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(make_url(postgres).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": prefix + "%"}
            )
            for name in list(rows.scalars()):
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def write_plot(report: dict[str, Any], path: Path) -> None:
    """Median latency (with p99) against data size for the scaling rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaling = report["details"]["scaling"]
    panels = [
        ("isenrolled_page_by_enrollments", "courses(first: 20) { … isEnrolled }", "enrollments"),
        ("courses_page_by_courses", "courses(first: 20) (first page)", "courses"),
        ("search_by_courses", "one-word catalogue search", "courses"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (key, title, xlabel) in zip(axes, panels, strict=True):
        rows = scaling.get(key) or []
        ax.set_title(title, fontsize=10)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ms")
        if not rows:
            ax.text(0.5, 0.5, "pending", ha="center", va="center", transform=ax.transAxes)
            continue
        sizes = [r["size"] for r in rows]
        ax.plot(sizes, [r["median_ms"] for r in rows], "o-", label="median")
        ax.plot(sizes, [r["p99_ms"] for r in rows], "x--", label="p99")
        if key == "courses_page_by_courses":
            ax.plot(sizes, [r["after_cursor"]["median_ms"] for r in rows], "s-", label="median, page after a cursor")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.suptitle(f"Byway latency against data size ({report['database']}, in-process, through the ASGI app)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data, short runs (CI)")
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL (databases are created and dropped)")
    parser.add_argument(
        "--plot", type=Path, help="PNG of latency against data size (default: var/bench/scaling-<db>.png)"
    )
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--only", nargs="+", choices=STAGES, default=STAGES, help="run some benchmarks only")
    args = parser.parse_args()
    plot = (
        None
        if args.no_plot
        else args.plot or Path("var/bench") / f"scaling-{'postgresql' if args.postgres else 'sqlite'}.png"
    )
    report = asyncio.run(run(args.quick, args.postgres, plot, tuple(args.only)))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
