"""Scheduled jobs run once per interval across workers and processes (byway.jobs)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import tests.plugins.notes as notes
from byway.db import PluginDatabase
from byway.declarations import Job
from byway.host import Host
from byway.jobs import JobScheduler, current_slot, running_slot, slot_key
from byway.testing import make_settings
from tests.databases import end_session


def fake_runtime(name: str, data_dir: Path, url: str | None) -> Any:
    """What the scheduler reads of a runtime: name, settings.data_dir, database.url, log."""
    return SimpleNamespace(
        name=name,
        settings=SimpleNamespace(data_dir=data_dir),
        database=PluginDatabase(name, url) if url else None,
        log=logging.getLogger("test.jobs"),
    )


async def noop(_: Any) -> None:
    return None


def test_slot_keys_differ_per_plugin_job_and_slot() -> None:
    keys = {slot_key(p, j, s) for p in ("a", "b") for j in ("x", "y") for s in (1, 2)}
    assert len(keys) == 8 and all(-(2**63) <= k < 2**63 for k in keys)
    assert current_slot(10, 125.0) == 12


async def test_one_claim_per_slot_among_processes(tmp_path: Path, database_url: str) -> None:
    """SQLite (no database URL): the file lock; PostgreSQL: the advisory lock."""
    url = database_url.replace("{plugin}", "jobs") if database_url else None
    if url:
        created = PluginDatabase("jobs", url)
        await created.open(create_database=True)  # creates the database
        await created.close()
    job = Job("drain", 60, noop)
    workers = [JobScheduler(fake_runtime("ecommerce", tmp_path, url), job) for _ in range(3)]
    try:
        for slot in (1000, 1001, 1002):
            won = await asyncio.gather(*(w.claim(slot) for w in workers))
            assert sum(won) == 1, (slot, won)
            # A worker that wakes late in the same slot cannot claim it again.
            late = [w for w, got in zip(workers, won, strict=True) if not got]
            assert not any([await w.claim(slot) for w in late])
    finally:
        for w in workers:
            await w.aclose()


async def test_a_claim_won_after_its_slot_is_given_back(tmp_path: Path, database_url: str) -> None:
    """A worker waking late finds an ended slot's lock free (its winner moved on): it must not run it."""
    url = database_url.replace("{plugin}", "jobs") if database_url else None
    if url:
        created = PluginDatabase("jobs", url)
        await created.open(create_database=True)
        await created.close()
    job = Job("drain", 60, noop)
    late, other = (JobScheduler(fake_runtime("ecommerce", tmp_path, url), job) for _ in range(2))
    try:
        ended = current_slot(job.interval_seconds) - 2
        assert not await late.claim_in_time(ended)
        current = current_slot(job.interval_seconds)
        assert await late.claim_in_time(current)
        assert not await other.claim_in_time(current)  # held (Postgres) or recorded (file) by `late`
    finally:
        for scheduler in (late, other):
            await scheduler.aclose()


async def test_two_workers_run_a_job_once_per_interval(tmp_path: Path, database_url: str) -> None:
    """Two hosts (as two uvicorn workers) share a data directory and database; the notes job ticks
    every 0.2 s. Until ten runs were seen: never two runs in one slot, and about one per slot."""
    interval, wanted = 0.2, 10
    settings = make_settings(
        tmp_path / "data", database_url=database_url, plugins={"notes": {"tick_seconds": interval}}
    )
    runs: list[tuple[int, int]] = []
    enough = asyncio.Event()
    hosts = [Host(settings, [notes], load_entrypoints=False) for _ in range(2)]
    for index, host in enumerate(hosts):  # each host's job records which worker ran it, in which slot
        [job] = host.jobs["notes"]

        async def record(runtime: Any, index: int = index, inner: Any = job.run) -> None:
            slot = running_slot.get()  # the slot this run claimed (the clock may have moved on since)
            assert slot is not None
            runs.append((index, slot))
            if len(runs) >= wanted:
                enough.set()
            await inner(runtime)

        host.jobs["notes"] = [Job(job.name, job.interval_seconds, record)]
    for host in hosts:
        await host.start()
    try:
        await asyncio.wait_for(enough.wait(), timeout=30)
    finally:
        for host in hosts:
            await host.stop()
    slots = [slot for _, slot in runs]
    assert len(slots) == len(set(slots)), runs  # never twice in one slot
    assert max(slots) - min(slots) + 1 <= len(slots) + 2, runs  # and (nearly) every slot ran


async def lock_holders(admin: AsyncEngine, database: str) -> dict[int, int]:
    """``{pid: advisory locks held}`` of every server connection to ``database``."""
    async with admin.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT a.pid, count(l.pid) FROM pg_stat_activity a"
                " LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted"
                " WHERE a.datname = :name GROUP BY a.pid"
            ),
            {"name": database},
        )
        return {pid: held for pid, held in rows}


async def two_schedulers(tmp_path: Path, url: str) -> tuple[JobScheduler, JobScheduler, str]:
    """Two schedulers of one job, as two processes, on a new PostgreSQL database; and its name."""
    created = PluginDatabase("jobs", url)
    await created.open(create_database=True)
    await created.close()
    job = Job("drain", 60, noop)
    first, second = (JobScheduler(fake_runtime("ecommerce", tmp_path, url), job) for _ in range(2))
    return first, second, url.rsplit("/", 1)[1]


async def test_on_postgresql_a_scheduler_claims_its_slots_on_one_connection(
    tmp_path: Path, postgres: tuple[str, AsyncEngine]
) -> None:
    """One connection per scheduler for all its claims (not one per slot); the lock of a slot is
    released when the next is claimed, and only then."""
    url, admin = postgres
    first, second, database = await two_schedulers(tmp_path, url)
    try:
        assert await first.claim(1000)
        [pid] = await lock_holders(admin, database)
        assert not await second.claim(1000)  # held by `first`
        for slot in range(1001, 1011):
            assert await first.claim(slot)
        holders = await lock_holders(admin, database)
        assert len(holders) == 2 and holders[pid] == 1  # the same connection, one lock: the last slot's
        assert await second.claim(1005)  # released when `first` moved on
        assert not await second.claim(1010)
        await first.release()
        assert (await lock_holders(admin, database))[pid] == 0  # released, the connection kept
        assert await second.claim(1010)
    finally:
        for scheduler in (first, second):
            await scheduler.aclose()
    for _ in range(50):  # shut down: the server ends both sessions (soon after they close)
        if not await lock_holders(admin, database):
            break
        await asyncio.sleep(0.02)
    assert await lock_holders(admin, database) == {}


async def test_on_postgresql_a_lock_connection_the_server_dropped_is_opened_again(
    tmp_path: Path, postgres: tuple[str, AsyncEngine]
) -> None:
    """The server ends the scheduler's idle connection (a restart, an idle timeout): the next claim
    opens a new one and is answered, with no slot skipped; the dead session's lock is gone."""
    url, admin = postgres
    scheduler, other, database = await two_schedulers(tmp_path, url)
    try:
        assert await scheduler.claim(2000)
        [pid] = await lock_holders(admin, database)
        await end_session(admin, pid)
        assert await other.claim(2000)  # the dead session's lock went with it
        assert await scheduler.claim(2001)  # a new connection, no error
        holders = await lock_holders(admin, database)
        assert pid not in holders and sorted(holders.values()) == [1, 1]
        # Dropped while it held nothing: the claim's statement fails on the dead connection and
        # is made once more on a new one (the slot is not skipped).
        await scheduler.release()
        [idle] = [p for p, held in (await lock_holders(admin, database)).items() if held == 0]
        await end_session(admin, idle)
        assert await scheduler.claim(2002)
        holders = await lock_holders(admin, database)
        assert idle not in holders and sorted(holders.values()) == [1, 1]
    finally:
        for s in (scheduler, other):
            await s.aclose()
