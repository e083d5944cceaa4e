"""Scheduled jobs that run once per interval across every worker and process.

Time is cut into slots of ``interval_seconds`` (wall clock, so every process agrees on them). At
each slot boundary every process running the plugin wakes and tries to claim the slot; one wins
and runs the job, the others skip it:

* A plugin on PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) keyed by
  plugin, job and slot, held until the slot is over (``pg_advisory_unlock`` when the next one is
  claimed), so a process that wakes late in the slot cannot claim it again. Each scheduler keeps
  one connection of its own for its claims (autocommit: one round trip per claim), opened again
  only when the server dropped it. Works across hosts that share the database.
* Anything else (SQLite is single-host): an ``flock``-ed file per job in the data directory that
  records the last slot claimed.

A process that dies while holding a claim releases it (its connection closes, its file lock goes
with the process): the slot may then run again in a surviving process, never be lost forever.
"""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import hashlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from byway.declarations import Job
    from byway.runtime import PluginRuntime


def slot_key(plugin: str, job: str, slot: int) -> int:
    """The advisory-lock key of one slot of one job: a signed 64-bit hash."""
    digest = hashlib.blake2b(f"byway-job:{plugin}:{job}:{slot}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


#: The slot a scheduled run was claimed for, while that run is in progress (None outside a run).
running_slot: contextvars.ContextVar[int | None] = contextvars.ContextVar("byway_running_slot", default=None)


def current_slot(interval: float, now: float | None = None) -> int:
    """The number of the slot ``now`` falls in."""
    return int((time.time() if now is None else now) // interval)


class JobScheduler:
    """Claims slots of one job for this process (see the module's documentation)."""

    def __init__(self, runtime: PluginRuntime, job: Job) -> None:
        self.runtime = runtime
        self.job = job
        self.interval = float(job.interval_seconds)
        database = runtime.database
        self._postgres_url = database.url if database is not None and not database.is_sqlite else None
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None  # PostgreSQL: the connection holding the locks
        self._held: int | None = None  # PostgreSQL: the key of the slot's lock this process holds
        safe = f"{runtime.name}.{job.name}".replace("/", "_")
        self._lock_file = Path(runtime.settings.data_dir) / "jobs" / f"{safe}.lock"

    async def wait_for_next_slot(self) -> int:
        """Sleep until the next slot begins; returns its number."""
        now = time.time()
        slot = current_slot(self.interval, now) + 1
        await asyncio.sleep(max(slot * self.interval - now, 0))
        return slot

    async def claim(self, slot: int) -> bool:
        """True when this process won ``slot`` (it then runs the job); releases the previous slot."""
        await self.release()
        if self._postgres_url is not None:
            return await self._claim_postgres(slot)
        return await asyncio.to_thread(self._claim_file, slot)

    async def claim_in_time(self, slot: int) -> bool:
        """:meth:`claim`, but a claim won only after ``slot`` was over is given back (False).

        A process that wakes late (a loaded machine) may find the slot's lock free because the
        process that ran the slot has moved on to the next one and released it: running the job
        then would run that slot twice.
        """
        won = await self.claim(slot)
        if won and current_slot(self.interval) > slot:
            await self.release()
            return False
        return won

    async def _connection(self) -> AsyncConnection:
        """The scheduler's own connection for its locks, opened on first use and again after the
        server dropped it (its locks went with it)."""
        if self._conn is not None and (self._conn.closed or self._conn.invalidated):
            await self._drop()
        if self._conn is None:
            if self._engine is None:
                self._engine = create_async_engine(
                    self._postgres_url,  # type: ignore[arg-type]
                    poolclass=NullPool,
                    isolation_level="AUTOCOMMIT",  # session-level locks: no transaction to end
                    hide_parameters=True,
                )
            self._conn = await self._engine.connect()
        return self._conn

    async def _drop(self) -> None:
        """Close the lock connection: the server releases every lock of its session."""
        conn, self._conn = self._conn, None
        self._held = None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # a broken connection has released its locks already
                self.runtime.log.debug("closing a job lock connection failed", exc_info=True)

    async def _claim_postgres(self, slot: int) -> bool:
        key = slot_key(self.runtime.name, self.job.name, slot)
        reused = self._conn is not None
        while True:
            conn = await self._connection()
            try:
                won = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            except DBAPIError:
                await self._drop()  # whether the lock was taken is unknown: let the server release it
                if not reused:
                    raise
                reused = False  # the server may have dropped the idle connection: once more, anew
                continue
            except BaseException:
                await self._drop()
                raise
            if won:
                self._held = key  # held until the slot is over
            return won

    def _claim_file(self, slot: int) -> bool:
        self._lock_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 64).decode("ascii", "replace").strip()
            last = int(raw) if raw.lstrip("-").isdigit() else None
            if last is not None and last >= slot:
                return False
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, str(slot).encode())
            os.fsync(fd)
            return True
        finally:
            os.close(fd)  # closing releases the flock

    async def release(self) -> None:
        """Release a held slot (Postgres; the connection stays open for the next claim); nothing
        to do for the file lock."""
        key, self._held = self._held, None
        if key is None or self._conn is None:
            return
        try:
            await self._conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        except Exception:
            self.runtime.log.debug("releasing a job slot failed; closing its connection", exc_info=True)
            await self._drop()
        except BaseException:
            await self._drop()  # cancelled mid-statement: closing the session releases its locks
            raise

    async def aclose(self) -> None:
        """Release everything (shut-down)."""
        await self._drop()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


async def run_scheduled(runtime: PluginRuntime, job: Job, run_once: Any) -> None:
    """The loop of one job: at each slot, claim it and, when won, ``await run_once()``."""
    scheduler = JobScheduler(runtime, job)
    try:
        while True:
            slot = await scheduler.wait_for_next_slot()
            try:
                won = await scheduler.claim_in_time(slot)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                runtime.log.warning("job %s: could not claim its slot (%s); skipped", job.name, type(exc).__name__)
                continue
            if won:
                token = running_slot.set(slot)
                try:
                    await run_once()
                finally:
                    running_slot.reset(token)
    finally:
        await scheduler.aclose()
