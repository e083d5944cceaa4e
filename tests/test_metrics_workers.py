"""``byway serve --workers 2``: every scrape, whichever worker answers it, counts both workers' requests;
the workers log JSON lines with request ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from byway.testing import free_port


def healthz_count(text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "byway_http_requests_total" and sample.labels.get("operation") == "/healthz":
                total += sample.value
    return total


def test_two_workers_share_one_exposition(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BYWAY_DATA_DIR": str(tmp_path / "data"),
        "BYWAY_CONFIG": str(tmp_path / "none.toml"),
        "BYWAY_LOG_LEVEL": "DEBUG",
        "BYWAY_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (tmp_path / "none.toml").write_text("")
    command = [
        sys.executable,
        "-c",
        "from byway.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        for _ in range(30):  # a new connection each: the kernel spreads them over the workers
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        counts = {healthz_count(httpx.get(f"{base}/metrics", timeout=5).text) for _ in range(8)}
        assert counts == {30.0}
        # One file per worker process: both wrote their values where the scrape reads them.
        assert len(list((tmp_path / "data" / "prometheus-multiproc").glob("counter_*.db"))) == 2
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    logged = [json.loads(line) for line in lines]  # every line, the supervisor's too, is JSON
    access = [entry for entry in logged if entry["logger"] == "byway.access" and entry["operation"] == "/healthz"]
    assert len(access) == 30
    assert len({entry["request_id"] for entry in access}) == 30 and all(e["trace_id"] != "-" for e in access)
