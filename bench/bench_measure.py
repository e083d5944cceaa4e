"""Timing helpers: interleaved latency samples, summaries with p99, and ``wrk`` runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Probe = Callable[[], Awaitable[Any]]


def summary(samples: list[float]) -> dict[str, float]:
    """Median and p99 of samples in seconds, as milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"median_ms": round(ordered[len(ordered) // 2] * 1e3, 4), "p99_ms": round(p99 * 1e3, 4), "n": len(ordered)}


async def interleaved(probes: Mapping[str, Probe], rounds: int, warmup: int = 20) -> dict[str, dict[str, float]]:
    """Run each probe ``rounds`` times, alternating between them (and their order), so that the
    machine's load changes hit every probe alike; returns a summary per probe."""
    names = list(probes)
    for _ in range(warmup):
        for name in names:
            await probes[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for i in range(rounds):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            start = clock()
            await probes[name]()
            samples[name].append(clock() - start)
    return {name: summary(values) for name, values in samples.items()}


def ratio(numerator: dict[str, float], denominator: dict[str, float]) -> float:
    """The ratio of two medians."""
    return round(numerator["median_ms"] / denominator["median_ms"], 3)


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int = 8,
    method: str = "GET",
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Load ``url`` with ``wrk -t1 -c<connections>`` (a separate process) for ``seconds``.

    Returns requests/s and the latency median and p99 in ms; any non-2xx answer is an error.
    """
    lines = [f"wrk.method = {json.dumps(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    for name, value in (headers or {}).items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    finally:
        os.unlink(script.name)
    found = _RPS.search(out)
    if not found:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    bad = _NON2XX.search(out)
    if bad and int(bad.group(1)):
        raise RuntimeError(f"{bad.group(1)} requests to {url} failed:\n{out}")
    latency = {f"p{m.group(1)}_ms": round(float(m.group(2)) * _UNITS[m.group(3)], 3) for m in _LATENCY.finditer(out)}
    return {"rps": float(found.group(1)), **latency}
