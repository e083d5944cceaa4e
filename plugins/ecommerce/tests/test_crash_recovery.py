"""Crash recovery with real servers (issue 10 #7): SIGKILL at each dangerous point, restart, and the
order is finished within 10 s of the restart, with no double effect.

Each test starts ``byway serve`` (every first-party plugin, SQLite, dev payment provider, demo data)
in a subprocess with ``BYWAY_ECOMMERCE_PAUSE_AT`` naming the point to stop at; the server writes a
marker file when it gets there and waits; the test kills it with SIGKILL, starts it again without
the pause, and watches the student's enrollment appear. The points:

* ``after_dev_payment`` — the dev provider took the payment, the webhook has not run: the owed event
  is redelivered by the restarted server (not found by ``verifyCheckout``, which the test never calls
  until the enrollment exists);
* ``before_enroll_call`` — the order is PAID, its outbox row claimed by the killed process: the claim
  is freed at start-up instead of waiting out its 120 s lease;
* ``after_enroll_call`` — the enrollment was made but not recorded: delivered again, still once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from byway.testing import free_port

BYWAY = str(Path(sys.executable).parent / "byway")
RESTART_BUDGET_SECONDS = 10.0
CHECKOUT = """
mutation C($c: ID!) {
  createCheckout(items: [{courseId: $c}], successUrl: "https://ok.example", cancelUrl: "https://no.example") {
    sessionId url
  }
}"""


def _spawn(data_dir: Path, port: int, args: tuple[str, ...], pause_at: str) -> tuple[subprocess.Popen[bytes], Any]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BYWAY_")}
    env |= {"BYWAY_DATA_DIR": str(data_dir), "BYWAY_ECOMMERCE_PAUSE_AT": pause_at}
    log = (data_dir / f"server-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen([BYWAY, "serve", "--port", str(port), *args], env=env, stdout=log, stderr=log), log


@asynccontextmanager
async def server(data_dir: Path, port: int, *args: str, pause_at: str = "") -> AsyncIterator[subprocess.Popen[bytes]]:
    """``byway serve`` on ``port``; killed (SIGKILL) when the block ends if still running."""
    process, log = _spawn(data_dir, port, args, pause_at)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


async def until(check: Any, seconds: float, what: str) -> Any:
    """Poll ``check()`` (async) until it returns a truthy value, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = await check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.1)


async def gql(client: httpx.AsyncClient, plugin: str, query: str, variables: Any = None, token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    payload = {"query": query, "variables": variables}
    response = await client.post(f"/api/{plugin}/graphql", json=payload, headers=headers)
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.parametrize("point", ["after_dev_payment", "before_enroll_call", "after_enroll_call"])
async def test_a_server_killed_mid_order_finishes_it_within_10_s_of_restart(tmp_path: Path, point: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    marker = tmp_path / f"ecommerce-paused-{point}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        async with server(tmp_path, port, "--demo", pause_at=point) as first:
            await until(lambda: healthy(client), 60, "first start")
            login = await gql(
                client,
                "authentication",
                'mutation { login(email: "student@byway.dev", password: "byway-demo") { token } }',
            )
            token = login["login"]["token"]
            courses = (await gql(client, "teach-internal", "{ courses(first: 20) { id priceCents } }"))["courses"]
            (course,) = [c["id"] for c in courses if c["priceCents"] > 0]
            checkout = await gql(
                client,
                "ecommerce",
                CHECKOUT,
                {"c": course},
                token,
            )
            path = urlsplit(checkout["createCheckout"]["url"]).path
            page = (await client.get(path)).text
            csrf = page.split("name='csrf_token' value='")[1].split("'")[0]
            pay = asyncio.create_task(client.post(path, data={"action": "pay", "csrf_token": csrf}))
            await until(lambda: asyncio.sleep(0, result=marker.exists()), 30, f"pause at {point}")
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
            await asyncio.gather(pay, return_exceptions=True)  # the buyer's request died with the server

        async with server(tmp_path, port):
            started = time.monotonic()

            async def enrolled() -> bool:
                data = await gql(
                    client, "students-internal", "query E($c: ID!) { isEnrolledMe(courseId: $c) }", {"c": course}, token
                )
                return bool(data["isEnrolledMe"])

            await until(enrolled, RESTART_BUDGET_SECONDS + 20, "enrollment after the restart")
            elapsed = time.monotonic() - started
            verified = await gql(
                client,
                "ecommerce",
                "query V($s: ID!) { verifyCheckout(sessionId: $s) { ok status } }",
                {"s": checkout["createCheckout"]["sessionId"]},
                token,
            )
            assert verified["verifyCheckout"] == {"ok": True, "status": "PAID"}
            mine = (await gql(client, "students-internal", "{ myCourses { courseId } }", token=token))["myCourses"]
            assert [c["courseId"] for c in mine].count(course) == 1
        assert elapsed < RESTART_BUDGET_SECONDS, f"finished {elapsed:.1f} s after the restart"

    with sqlite3.connect(tmp_path / "ecommerce.db") as db:
        assert db.execute("select count(*), min(source) from payments").fetchone() == (1, "webhook")
        assert db.execute("select status from enrollment_outbox").fetchall() == [("done",)]
        assert db.execute("select count(*) from enrollment_outbox where claimed_by is not null").fetchone() == (0,)
        if point == "after_dev_payment":
            assert db.execute("select status, attempts from dev_event_deliveries").fetchall() == [("delivered", 2)]


async def healthy(client: httpx.AsyncClient) -> bool:
    return (await client.get("/healthz")).status_code == 200
