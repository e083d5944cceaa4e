"""The attack run's hostile GraphQL documents against a live server, with /healthz polled meanwhile.

Starts ``byway serve`` (dev, SQLite, demo data) on a free loopback port from this separate process,
sends each hostile document ``--repeat`` times (each copy one byte different, so no cache helps)
while a second client polls ``/healthz`` every 10 ms, and prints a JSON report: per document, its
size, the status and reason of the refusal and the time to it (p50/max); overall, the /healthz
latency while under attack (p50/p99/max).

    python bench/hostile_queries.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
ACCEPT = {"Accept": "application/graphql-response+json"}


def documents() -> dict[str, str]:
    return {
        "140,000 repeated `me{id}` (1 MB)": "{" + " me{id}" * 140_000 + "}",
        "14,000 repeated `me{id}` (98 KB)": "{" + " me{id}" * 14_000 + "}",
        "500 repeated `me{id}`": "{" + " me{id}" * 500 + "}",
        "1,000 aliased `me`": "{" + " ".join(f"a{i}: me {{ id }}" for i in range(1000)) + "}",
        "300 aliased `me`": "{" + " ".join(f"a{i}: me {{ id }}" for i in range(300)) + "}",
        "2,000 introspection aliases": "{"
        + " ".join(f"a{i}: __schema {{ types {{ name }} }}" for i in range(2000))
        + "}",
        "100 introspection aliases": "{" + " ".join(f"a{i}: __schema {{ types {{ name }} }}" for i in range(100)) + "}",
        "20 x 20 nested repeats": "{" + (" me { " + "id " * 20 + "}") * 20 + "}",
        "fragment diamond, 40 levels": "{ ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
        + " fragment F40 on Query { me { id } }",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def attack(base: str, repeat: int) -> dict[str, object]:
    results: dict[str, object] = {}
    health: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as probe:
            while not done.is_set():
                started = time.perf_counter()
                await probe.get("/healthz")
                health.append(time.perf_counter() - started)
                await asyncio.sleep(0.01)

    poller = asyncio.create_task(poll())
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for label, document in documents().items():
            times, outcomes = [], set()
            for i in range(repeat):
                started = time.perf_counter()
                response = await client.post(
                    "/api/authentication/graphql", json={"query": document + " " * i}, headers=ACCEPT
                )
                times.append(time.perf_counter() - started)
                errors = response.json().get("errors") or [{}]
                reason = (errors[0].get("extensions") or {}).get("reason") or (errors[0].get("extensions") or {}).get(
                    "code"
                )
                outcomes.add(f"{response.status_code} {reason}")
            results[label] = {
                "chars": len(document),
                "outcome": sorted(outcomes),
                "p50_ms": round(1000 * statistics.median(times), 1),
                "max_ms": round(1000 * max(times), 1),
            }
    done.set()
    await poller
    ordered = sorted(health)
    return {
        "documents": results,
        "healthz_while_attacked": {
            "polls": len(ordered),
            "p50_ms": round(1000 * ordered[len(ordered) // 2], 1),
            "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 1),
            "max_ms": round(1000 * ordered[-1], 1),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="byway-hostile-"))
    port = free_port()
    env = {**os.environ, "BYWAY_DATA_DIR": str(scratch), "BYWAY_ENV": "dev"}
    env.pop("BYWAY_DATABASE_URL", None)
    with (scratch / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "byway"), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        report = asyncio.run(attack(base, args.repeat))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
