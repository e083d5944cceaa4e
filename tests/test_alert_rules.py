"""The shipped alerting rules and Grafana dashboard: valid PromQL, unit tests pass (promtool)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "prometheus"


def require_promtool() -> str:
    """promtool's path; skips without it, fails with ``BYWAY_TEST_PROMTOOL=required`` (as in CI)."""
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("BYWAY_TEST_PROMTOOL", "").lower() == "required":
            pytest.fail("promtool is required (BYWAY_TEST_PROMTOOL=required): apt-get install prometheus")
        pytest.skip("promtool (Debian's prometheus package) is not installed")
    return path


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_promtool(), *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_the_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = promtool("check", "rules", str(DEPLOY / "alerts.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(DEPLOY / "tests" / "alerts_test.yml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_has_a_unit_test() -> None:
    alerts = set(re.findall(r"- alert: (\w+)", (DEPLOY / "alerts.yml").read_text()))
    tested = set(re.findall(r"alertname: (\w+)", (DEPLOY / "tests" / "alerts_test.yml").read_text()))
    assert alerts and alerts == tested


def test_the_dashboards_queries_are_valid_promql(tmp_path: Path) -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 16
    rules = {"groups": [{"name": "dashboard", "rules": []}]}
    for i, expr in enumerate(exprs):
        rules["groups"][0]["rules"].append({"record": f"dashboard:expr{i}", "expr": expr.replace("$job", ".*")})
    path = tmp_path / "dashboard-rules.json"  # YAML is a superset of JSON
    path.write_text(json.dumps(rules))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
