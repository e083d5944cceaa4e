"""Load run: a realistic mix against ``byway serve --workers N`` on PostgreSQL, from this separate process.

Starts the server (demo data, dev payment provider, a fresh database per plugin on the local
PostgreSQL) unless ``--base-url`` is given, then runs ``--users`` virtual users on loopback for
``--duration`` seconds (and at most ``--max-requests``). Each user loops the first journey:

    browse (courses) -> view a course -> register -> checkout a paid course -> pay on the dev
    checkout page -> verifyCheckout until ok

At the end every buyer's ``myCourses`` is read back: each paid course must be enrolled exactly
once (none lost, none duplicated). Prints a JSON report (requests, errors, p50/p99 per step and
overall) and exits 1 on any error, lost or duplicated enrollment.

Quick (CI, under 60 s):  python bench/load.py --quick
Documented run:     python bench/load.py --workers 2 --users 16 --duration 180
"""

from __future__ import annotations

import argparse
import asyncio
import html.parser
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

POSTGRES = os.environ.get("BYWAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BIN = Path(sys.executable).parent
GQL_HEADERS = {"Accept": "application/graphql-response+json, application/json;q=0.9"}

COURSES = "query Courses { courses(first: 20) { id title priceCents currency } }"
COURSE = "query Course($id: ID!) { course(id: $id) { id title priceCents modules { title lessons { title } } } }"
REGISTER = """mutation Register($email: String!, $password: String!) {
  register(email: $email, password: $password, firstName: "Load", lastName: "User") { token user { id } }
}"""
CHECKOUT = """mutation Checkout($course: ID!) {
  createCheckout(items: [{courseId: $course}], successUrl: "http://127.0.0.1/done", cancelUrl: "http://127.0.0.1/no") {
    sessionId url orderId
  }
}"""
VERIFY = "mutation Verify($s: ID!) { verifyCheckout(sessionId: $s) { ok orderId status } }"
MY_COURSES = "query Mine { myCourses { courseId } }"


#: Plugins served elsewhere (``--plugin-url NAME=URL``, split deployments); the rest at the base URL.
PLUGIN_URLS: dict[str, str] = {}


def endpoint(plugin: str) -> str:
    base = PLUGIN_URLS.get(plugin)
    return f"{base.rstrip('/')}/api/{plugin}/graphql" if base else f"/api/{plugin}/graphql"


class Failure(Exception):
    """A step answered something a client should never see in this journey."""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    purchases: list[tuple[str, str]] = field(default_factory=list)  # (token, course id)
    journeys: int = 0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


class _Inputs(html.parser.HTMLParser):
    """The hidden inputs of the checkout form (e.g. a CSRF token), whatever they are named."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


async def timed(stats: Stats, step: str, call: Any) -> httpx.Response:
    started = time.perf_counter()
    response: httpx.Response = await call
    stats.latencies[step].append(time.perf_counter() - started)
    return response


async def gql(
    client: httpx.AsyncClient,
    stats: Stats,
    step: str,
    plugin: str,
    query: str,
    variables: dict[str, Any],
    token: str | None = None,
) -> dict[str, Any]:
    headers = dict(GQL_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await timed(
        stats,
        step,
        client.post(endpoint(plugin), json={"query": query, "variables": variables}, headers=headers),
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise Failure(f"{step}: HTTP {response.status_code} {json.dumps(body.get('errors'))[:300]}")
    data: dict[str, Any] = body["data"]
    return data


async def journey(client: httpx.AsyncClient, stats: Stats, paid: list[str]) -> None:
    courses = (await gql(client, stats, "browse", "teach-internal", COURSES, {}))["courses"]
    chosen = paid[stats.journeys % len(paid)]
    await gql(client, stats, "view course", "teach-internal", COURSE, {"id": courses[0]["id"]})
    email = f"load-{uuid.uuid4().hex[:12]}@example.org"
    reg = await gql(
        client, stats, "register", "authentication", REGISTER, {"email": email, "password": "load-test-pw-1234"}
    )
    token = reg["register"]["token"]
    checkout = (await gql(client, stats, "checkout", "ecommerce", CHECKOUT, {"course": chosen}, token))[
        "createCheckout"
    ]
    page = await timed(stats, "pay", client.get(checkout["url"]))
    if page.status_code != 200:
        raise Failure(f"checkout page: HTTP {page.status_code}")
    form = _Inputs()
    form.feed(page.text)
    paid_response = await timed(stats, "pay", client.post(checkout["url"], data={**form.fields, "action": "pay"}))
    if paid_response.status_code != 303:
        raise Failure(f"pay: HTTP {paid_response.status_code} {paid_response.text[:200]}")
    deadline = time.monotonic() + 15
    while True:
        verified = (await gql(client, stats, "verify", "ecommerce", VERIFY, {"s": checkout["sessionId"]}, token))[
            "verifyCheckout"
        ]
        if verified["ok"]:
            break
        if time.monotonic() > deadline:
            raise Failure(f"verify: not ok after 15 s ({verified})")
        await asyncio.sleep(0.1)
    stats.purchases.append((token, chosen))
    stats.journeys += 1


async def user(client: httpx.AsyncClient, stats: Stats, paid: list[str], until: float, max_requests: int) -> None:
    while time.monotonic() < until and stats.requests < max_requests:
        try:
            await journey(client, stats, paid)
        except (Failure, httpx.HTTPError, KeyError, ValueError) as exc:
            stats.errors.append(f"{type(exc).__name__}: {exc}")


async def check_enrollments(client: httpx.AsyncClient, stats: Stats) -> dict[str, int]:
    lost = duplicated = 0
    for token, course in stats.purchases:
        data = await gql(client, Stats(), "check", "students-internal", MY_COURSES, {}, token)
        count = [e["courseId"] for e in data["myCourses"]].count(course)
        lost += count == 0
        duplicated += count > 1
    return {"checked": len(stats.purchases), "lost": lost, "duplicated": duplicated}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float | int]:
    return {
        "count": len(values),
        "p50_ms": round(1000 * percentile(values, 0.50), 1),
        "p99_ms": round(1000 * percentile(values, 0.99), 1),
        "mean_ms": round(1000 * statistics.fmean(values), 1) if values else 0.0,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: argparse.Namespace, port: int, data_dir: Path, prefix: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BYWAY_DATA_DIR": str(data_dir), "BYWAY_ENV": "dev"}
    if args.database == "postgres":
        env["BYWAY_DATABASE_URL"] = f"{POSTGRES.rsplit('/', 1)[0]}/{prefix}{{plugin}}"
    if args.quick:  # cheap argon2 so the quick run measures the server, not password hashing
        env.update(
            BYWAY_AUTHENTICATION_PASSWORD_TIME_COST="1",
            BYWAY_AUTHENTICATION_PASSWORD_MEMORY_KIB="1024",
            BYWAY_AUTHENTICATION_PASSWORD_PARALLELISM="1",
        )
    log = (data_dir / "server.log").open("wb")
    return subprocess.Popen(
        [str(BIN / "byway"), "serve", "--port", str(port), "--workers", str(args.workers), "--demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def drop_databases(prefix: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": prefix + "%"})
        for name in list(names.scalars()):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


async def run(args: argparse.Namespace, base_url: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.users * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        deadline = time.monotonic() + 120
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready in 120 s")
            await asyncio.sleep(0.25)
        courses = (await gql(client, Stats(), "setup", "teach-internal", COURSES, {}))["courses"]
        paid = [c["id"] for c in courses if c["priceCents"] > 0]
        if not paid:
            raise SystemExit("the demo data has no paid course")
        stats = Stats()
        started = time.monotonic()
        until = started + args.duration
        await asyncio.gather(*(user(client, stats, paid, until, args.max_requests) for _ in range(args.users)))
        elapsed = time.monotonic() - started
        enrollments = await check_enrollments(client, stats)
    every = [v for values in stats.latencies.values() for v in values]
    return {
        "database": args.database,
        "workers": args.workers,
        "users": args.users,
        "duration_s": round(elapsed, 1),
        "journeys": stats.journeys,
        "requests": stats.requests,
        "requests_per_s": round(stats.requests / elapsed, 1) if elapsed else 0,
        "errors": len(stats.errors),
        "first_errors": stats.errors[:5],
        "enrollments": enrollments,
        "overall": summary(every),
        "steps": {step: summary(values) for step, values in stats.latencies.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="a running server (default: start one)")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=16, help="concurrent virtual users")
    parser.add_argument("--duration", type=float, default=180, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests")
    parser.add_argument(
        "--plugin-url", action="append", default=[], metavar="NAME=URL", help="a plugin served elsewhere"
    )
    parser.add_argument("--quick", action="store_true", help="CI variant: 20 s, 8 users, cheap password hashing")
    args = parser.parse_args()
    PLUGIN_URLS.update(item.split("=", 1) for item in args.plugin_url)
    if args.quick:
        args.duration, args.users, args.max_requests = min(args.duration, 20), min(args.users, 8), 20_000

    server = None
    prefix = f"byway_load_{uuid.uuid4().hex[:8]}_"
    scratch = Path(tempfile.mkdtemp(prefix="byway-load-"))
    base_url = args.base_url
    try:
        if base_url is None:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            server = start_server(args, port, scratch, prefix)
        report = asyncio.run(run(args, base_url))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
            log = (scratch / "server.log").read_text(errors="replace")
            if "Traceback" in log:
                print(log[-4000:], file=sys.stderr)
            if args.database == "postgres":
                drop_databases(prefix)
    report["server_tracebacks"] = log.count("Traceback") if server is not None else None
    print(json.dumps(report, indent=2))
    failed = report["errors"] or report["enrollments"]["lost"] or report["enrollments"]["duplicated"]
    return 1 if failed or report["journeys"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
