"""Scheduled jobs run once per interval across workers and processes (byway.jobs)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import tests.plugins.notes as notes
from byway.db import PluginDatabase
from byway.declarations import Job
from byway.host import Host
from byway.jobs import JobScheduler, current_slot, running_slot, slot_key
from byway.testing import make_settings


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
