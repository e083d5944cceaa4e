"""Readiness: ``/readyz`` checks each plugin's database through a fresh connection, and each
remote plugin's reachability.

A pooled connection can keep answering from a SQLite file that was deleted or replaced while the
server runs (writes then go to a file nobody will see again), and a damaged file fails only some
queries. So readiness never trusts the pool:

* SQLite: the file must still exist and be the very file opened at start-up (same device and
  inode), start with the SQLite header, and answer a new connection: the schema is read, a
  bounded ``PRAGMA quick_check`` runs on files up to :data:`QUICK_CHECK_MAX_BYTES`, and the
  plugin's Alembic version table must be at the head of its history.
* PostgreSQL: a new connection (no pool) reads the plugin's version table.
* Each plugin configured with its own URL (``BYWAY_PLUGIN_URL_<P>``) must answer ``/healthz``.
  Liveness, not readiness: two services that call each other then become ready in any start
  order (each waits only for the other to be up, never for it to be ready).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from byway import migrate
from byway.settings import env_key

if TYPE_CHECKING:
    from byway.host import Host
    from byway.runtime import PluginRuntime

SQLITE_HEADER = b"SQLite format 3\x00"
#: Files up to this size get a ``PRAGMA quick_check`` on every readiness probe.
QUICK_CHECK_MAX_BYTES = 32 * 1024 * 1024
#: Seconds a remote plugin's server gets to answer ``/healthz``.
REMOTE_TIMEOUT = 2.0


class NotReady(Exception):
    """A readiness check failed; the message says why (no secrets, no paths of other hosts)."""


def sqlite_identity(path: str | Path) -> tuple[int, int] | None:
    """``(device, inode)`` of a SQLite file, or None when it does not exist."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _check_sqlite_file(path: str, expected: tuple[int, int] | None, plugin: str) -> set[str]:
    """The checks of a SQLite file, run in a worker thread; returns the recorded revisions."""
    identity = sqlite_identity(path)
    if identity is None:
        raise NotReady("database file missing")
    if expected is not None and identity != expected:
        raise NotReady("database file replaced since start-up")
    with open(path, "rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if not header:
        return set()  # an empty file is an empty database: nothing migrated yet
    if header != SQLITE_HEADER:
        raise NotReady("database file damaged (bad header)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if os.path.getsize(path) <= QUICK_CHECK_MAX_BYTES:
            result = conn.execute("PRAGMA quick_check(1)").fetchone()
            if not result or result[0] != "ok":
                raise NotReady("database file damaged (quick_check failed)")
        table = migrate.version_table(plugin)
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        if not exists:
            return set()
        return {row[0] for row in conn.execute(f'SELECT version_num FROM "{table}"')}
    except sqlite3.DatabaseError as exc:
        raise NotReady(f"database unreadable ({type(exc).__name__})") from exc
    finally:
        conn.close()


async def _postgres_revisions(runtime: PluginRuntime) -> set[str]:
    engine = create_async_engine(runtime.db.url, poolclass=NullPool, hide_parameters=True)
    try:
        async with asyncio.timeout(5), engine.connect() as conn:
            return await conn.run_sync(migrate.heads_of, runtime.name)
    finally:
        await engine.dispose()


async def database_readiness(runtime: PluginRuntime) -> dict[str, Any]:
    """``{"ready": bool, "revision", "head"}`` or ``{"ready": False, "error"}`` for one plugin."""
    database = runtime.db
    head = migrate.script_heads(runtime)
    try:
        database.engine  # noqa: B018 (raises when the host closed it: nothing can be served)
    except RuntimeError:
        return {"ready": False, "error": "database unreachable"}
    try:
        if database.is_sqlite and database.sqlite_path is not None:
            if database.file_identity is None:  # created after opening: the first file seen is the one
                database.file_identity = sqlite_identity(database.sqlite_path)
            current = await asyncio.to_thread(
                _check_sqlite_file, database.sqlite_path, database.file_identity, runtime.name
            )
        else:
            current = await _postgres_revisions(runtime)
    except NotReady as exc:
        return {"ready": False, "error": str(exc)}
    except Exception as exc:
        runtime.log.warning("readiness check of %s failed: %s", runtime.name, type(exc).__name__)
        return {"ready": False, "error": "database unreachable"}
    return {
        "ready": current == head,
        "revision": ",".join(sorted(current)) or None,
        "head": ",".join(sorted(head)) or None,
    }


async def remote_readiness(base_url: str) -> dict[str, Any]:
    """Whether a plugin served elsewhere answers ``/healthz``."""
    try:
        async with httpx.AsyncClient(timeout=REMOTE_TIMEOUT) as http:
            response = await http.get(f"{base_url.rstrip('/')}/healthz")
    except httpx.HTTPError as exc:
        return {"ready": False, "remote": base_url, "error": f"unreachable ({type(exc).__name__})"}
    ok = response.status_code == 200
    return {"ready": ok, "remote": base_url, **({} if ok else {"error": f"answered {response.status_code}"})}


async def readiness(host: Host) -> tuple[bool, dict[str, Any]]:
    """Every local plugin's database and every remote plugin, checked concurrently."""
    names: list[str] = []
    checks: list[Any] = []
    report: dict[str, Any] = {}
    for runtime in host.plugins.values():
        if runtime.database is None:
            report[runtime.name] = {"ready": True, "database": None}
        else:
            names.append(runtime.name)
            checks.append(database_readiness(runtime))
    local = {env_key(name) for name in host.plugins}
    for name, url in host.settings.plugin_urls.items():
        if env_key(name) not in local:
            names.append(name.lower().replace("_", "-"))  # STUDENTS_INTERNAL (from the environment)
            checks.append(remote_readiness(url))
    for name, result in zip(names, await asyncio.gather(*checks), strict=True):
        report[name] = result
    ready = host.started and all(item["ready"] for item in report.values())
    return ready, report
