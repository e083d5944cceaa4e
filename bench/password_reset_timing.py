"""Does ``requestPasswordReset`` answer in the same time for a known and an unknown address?

Alternates requests for an existing account and for addresses with no account (through the ASGI
app, in-process), in one run, and prints a JSON report with the medians and their ratio. The
request does the same work either way (a rate-limit count and an outbox row); the outbox job,
not the request, finds out whether the account exists. Rate limits are raised for the run.

    python bench/password_reset_timing.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from byway_authentication import plugin as authentication
from byway_notifications import plugin as notifications

from byway.testing import make_settings, running_app

REQUEST = "mutation Q($e: String!) { requestPasswordReset(email: $e) }"
REGISTER = 'mutation R($e: String!) { register(email: $e, password: "correct horse battery") { token } }'


async def run(requests: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp)).with_overrides(
            plugins={
                "authentication": {
                    "password_time_cost": 1,
                    "password_memory_kib": 1024,
                    "password_parallelism": 1,
                    "reset_account_requests": 10**6,
                    "reset_address_requests": 10**6,
                    "outbox_interval_seconds": 3600,  # the job stays out of the measurement
                },
                "notifications": {"deliver_interval_seconds": 3600},
            }
        )
        async with running_app([authentication, notifications], settings, transport="inprocess") as app:
            await app.gql("authentication", REGISTER, {"e": "known@example.org"})
            timings: dict[str, list[float]] = {"known": [], "unknown": []}
            for i in range(requests * 2):
                kind = "known" if i % 2 == 0 else "unknown"
                email = "known@example.org" if kind == "known" else f"nobody{i}@example.org"
                start = time.perf_counter()
                body = await app.gql("authentication", REQUEST, {"e": email})
                timings[kind].append(time.perf_counter() - start)
                assert body["data"] == {"requestPasswordReset": True}, body
    known, unknown = (statistics.median(timings[k]) * 1000 for k in ("known", "unknown"))
    return {
        "benchmark": "password_reset_timing",
        "requests_each": requests,
        "known_median_ms": round(known, 3),
        "unknown_median_ms": round(unknown, 3),
        "ratio_unknown_to_known": round(unknown / known, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.requests)), indent=2))


if __name__ == "__main__":
    main()
