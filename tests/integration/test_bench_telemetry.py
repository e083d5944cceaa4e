"""The quick variant of ``bench/telemetry_overhead.py`` (the full run is documented in docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_telemetry_benchmark_runs_and_reports() -> None:
    args = ["--rounds", "2", "--requests", "3", "--courses", "3"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "telemetry_overhead.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["benchmark"] == "telemetry_overhead"
    # A page of the listing makes its request span, the call, the target's span and database spans.
    assert report["spans_per_request"] >= 4
    assert set(report["page_ms_median_of_round_means"]) == {"noop", "default", "exporting"}
    assert report["span_cost_pct_of_page"] > 0
