"""Fuzz every plugin's GraphQL endpoint with schemathesis, and run the GraphQL-over-HTTP audit.

Starts ``byway serve --demo`` (dev, SQLite, in a temporary data directory) on a free loopback port
unless ``--base-url`` names a running server, then for each plugin endpoint:

* the GraphQL-over-HTTP reference audit (npm ``graphql-http``'s ``serverAudits``, in
  ``scripts/graphql_http_audit``): no MUST failure and no SHOULD warning allowed (``--audit``);
* schemathesis, as an anonymous caller and as an admin, with a fixed seed and ``--examples`` test
  cases per operation, failing on any 5xx, non-JSON body or error without a client-side code of
  the API (``byway_checks.byway_no_server_error``).

Quick (CI):   python scripts/fuzz/run.py --examples 15 --audit
Long run:     python scripts/fuzz/run.py --examples 2000 --seed 7 --max-time 3600
Prints a JSON summary last; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BYWAY_DATA_DIR": str(data_dir), "BYWAY_ENV": "dev"}
    env.pop("BYWAY_DATABASE_URL", None)
    log = open(data_dir / "server.log", "wb")
    return subprocess.Popen(
        [str(BIN / "byway"), "serve", "--port", str(port), "--demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(base_url: str, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            if response.status_code == 200:
                plugins: dict[str, object] = response.json()["plugins"]
                return plugins
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{base_url} did not become ready in {timeout}s")


def admin_token() -> str:
    from byway.settings import load_settings

    settings = load_settings()
    from byway.auth import TokenService

    return TokenService(settings.jwt_secret, settings.jwt_algorithm).issue_user_token(
        "fuzz-admin", ("student", "teacher", "admin")
    )


def run_audit(urls: list[str]) -> dict[str, object]:
    audit_dir = ROOT / "scripts" / "graphql_http_audit"
    if not (audit_dir / "node_modules" / "graphql-http").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=audit_dir, check=True)
    result = subprocess.run(["node", "audit.mjs", *urls], cwd=audit_dir, capture_output=True, text=True)
    print(result.stdout, end="")
    print(result.stderr, end="", file=sys.stderr)
    summary = re.findall(r": (\d+) ok, (\d+) MUST failures, (\d+) SHOULD warnings, (\d+) MAY notices", result.stdout)
    return {
        "endpoints": len(summary),
        "ok": sum(int(s[0]) for s in summary),
        "must_failures": sum(int(s[1]) for s in summary),
        "should_warnings": sum(int(s[2]) for s in summary),
        "may_notices": sum(int(s[3]) for s in summary),
        "passed": result.returncode == 0 and len(summary) == len(urls),
    }


def run_schemathesis(
    url: str, *, token: str | None, examples: int, seed: int, max_time: int | None
) -> dict[str, object]:
    command = [
        str(BIN / "schemathesis"),
        "run",
        url,
        "--checks",
        "byway_no_server_error",
        "--exclude-checks",
        "not_a_server_error",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--no-shrink",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
    ]
    if max_time:
        command += ["--max-time", str(max_time)]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "byway_checks", "PYTHONPATH": str(Path(__file__).parent)}
    # Run where its .schemathesis/ cache may go (not the repository).
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    cases = re.search(r"(\d+) generated", result.stdout)
    tail = "\n".join(result.stdout.splitlines()[-25:])
    print(f"--- schemathesis {url} as {'admin' if token else 'anonymous'}: exit {result.returncode}")
    if result.returncode != 0:
        print(result.stdout[-6000:])
        print(result.stderr[-2000:], file=sys.stderr)
    else:
        print(tail)
    return {
        "url": url,
        "caller": "admin" if token else "anonymous",
        "cases": int(cases.group(1)) if cases else 0,
        "passed": result.returncode == 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="a running Byway server (default: start one)")
    parser.add_argument("--examples", type=int, default=15, help="schemathesis test cases per operation")
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--max-time", type=int, default=None, help="seconds per schemathesis run (long runs)")
    parser.add_argument("--audit", action="store_true", help="also run the GraphQL-over-HTTP audit")
    parser.add_argument("--no-fuzz", action="store_true", help="only the audit")
    args = parser.parse_args()

    server = None
    scratch = Path(tempfile.mkdtemp(prefix="byway-fuzz-"))
    base_url = args.base_url
    try:
        if base_url is None:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            server = start_server(scratch, port)
        plugins = wait_ready(base_url.rstrip("/"))
        urls = [f"{base_url.rstrip('/')}/api/{name}/graphql" for name in plugins]
        report: dict[str, object] = {"endpoints": urls, "seed": args.seed, "examples_per_operation": args.examples}
        passed = True
        if args.audit:
            audit = run_audit(urls)
            report["audit"] = audit
            passed = passed and bool(audit["passed"])
        if not args.no_fuzz:
            token = admin_token()
            runs = [
                run_schemathesis(url, token=caller, examples=args.examples, seed=args.seed, max_time=args.max_time)
                for url in urls
                for caller in (None, token)
            ]
            report["schemathesis"] = runs
            report["cases"] = sum(int(r["cases"]) for r in runs)  # type: ignore[call-overload]
            passed = passed and all(r["passed"] for r in runs)
        if server is not None:
            errors = (scratch / "server.log").read_text(errors="replace").count("Traceback")
            report["server_tracebacks"] = errors
        report["passed"] = passed
        print(json.dumps(report, indent=2))
        return 0 if passed else 1
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
