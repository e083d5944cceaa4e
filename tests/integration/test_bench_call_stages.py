"""The quick variant of ``bench/call_stages.py`` (the figures are in docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_call_stages_benchmark_runs_and_accounts_for_the_call() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "call_stages.py"), "--ids", "5", "--calls", "60"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["benchmark"] == "call_stages" and report["ids"] == 5
    stages = report["stages_us"]
    assert set(stages) == {
        "client",
        "transport",
        "run_operation",
        "executor_checks",
        "graphql_build_and_root_field",
        "reader_resolver_and_completion",
        "store_function",
    }
    assert all(value >= 0 for value in stages.values())
    # The stages are the call, layer by layer: together they are (about) the whole of it.
    assert 0.8 * report["per_call_us"] <= sum(stages.values()) <= 1.05 * report["per_call_us"]
    layers = report["database_layers_ms"]
    assert set(layers) == {"raw_driver", "sqlalchemy_held_connection", "reader", "session", "inprocess_call"}
