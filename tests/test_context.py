"""The request context: per-request DataLoaders and the serialised database session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, insert, select

import tests.plugins.notes as notes
from byway.auth import ANONYMOUS_PRINCIPAL
from byway.context import DataLoader, RequestContext
from byway.host import Host
from byway.runtime import PluginRuntime
from byway.settings import Settings


class Recorder:
    """A batch function that records its calls."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    async def __call__(self, keys: list[Any]) -> list[str]:
        self.calls.append(list(keys))
        await asyncio.sleep(0)
        return [f"value-{k}" for k in keys]


async def test_loads_in_one_tick_become_one_batch() -> None:
    batch = Recorder()
    loader: DataLoader[int, str] = DataLoader(batch)
    values = await asyncio.gather(loader.load(1), loader.load(2), loader.load(1), loader.load(3))
    assert values == ["value-1", "value-2", "value-1", "value-3"]
    assert batch.calls == [[1, 2, 3]]


async def test_loads_from_concurrent_resolvers_are_batched() -> None:
    batch = Recorder()
    loader: DataLoader[str, str] = DataLoader(batch)

    async def resolver(key: str) -> str:
        return await loader.load(key)

    assert await asyncio.gather(*(resolver(k) for k in "abc")) == ["value-a", "value-b", "value-c"]
    assert batch.calls == [["a", "b", "c"]]


async def test_values_are_cached_for_the_loader_life() -> None:
    batch = Recorder()
    loader: DataLoader[int, str] = DataLoader(batch)
    assert await loader.load(1) == "value-1"
    assert await loader.load_many([1, 2]) == ["value-1", "value-2"]
    assert await loader.load(2) == "value-2"
    assert batch.calls == [[1], [2]]


async def test_batch_failure_reaches_every_waiting_load_and_is_not_cached() -> None:
    attempts: list[list[int]] = []

    async def flaky(keys: list[int]) -> list[int]:
        attempts.append(list(keys))
        if len(attempts) == 1:
            raise LookupError("backend down")
        return [k * 10 for k in keys]

    loader: DataLoader[int, int] = DataLoader(flaky)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [type(r) for r in results] == [LookupError, LookupError]
    assert await loader.load(1) == 10  # the failure was not cached: the key is loaded again
    assert attempts == [[1, 2], [1]]


async def test_batch_returning_the_wrong_number_of_values_fails_loudly() -> None:
    async def short(keys: list[int]) -> list[int]:
        return [1]

    loader: DataLoader[int, int] = DataLoader(short)
    with pytest.raises(RuntimeError, match="1 values for 2 keys"):
        await asyncio.gather(loader.load(1), loader.load(2))


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[PluginRuntime]:
    host = Host(settings, [notes], load_entrypoints=False)
    await host.open(migrate_now=True)
    try:
        yield host.plugins["notes"]
    finally:
        await host.close()


async def test_context_loaders_are_per_name(runtime: PluginRuntime) -> None:
    ctx = RequestContext(runtime, ANONYMOUS_PRINCIPAL)
    batch = Recorder()
    first = ctx.loader("things", batch)
    assert ctx.loader("things", Recorder()) is first
    assert ctx.loader("others", batch) is not first
    assert RequestContext(runtime, ANONYMOUS_PRINCIPAL).loader("things", batch) is not first
    assert ctx.client is runtime.client


async def test_context_session_is_shared_serialised_and_rolled_back(runtime: PluginRuntime) -> None:
    ctx = RequestContext(runtime, ANONYMOUS_PRINCIPAL)
    async with ctx.session() as one:
        await one.execute(insert(notes.notes).values(author_id="a", text="kept"))
        await one.commit()
    async with ctx.session() as two:
        assert two is one
        await two.execute(insert(notes.notes).values(author_id="a", text="never committed"))

    async def count() -> int:
        async with ctx.session() as session:
            return int(await session.scalar(select(func.count()).select_from(notes.notes)) or 0)

    # Sibling resolvers use the session one at a time (an AsyncSession allows one operation).
    assert await asyncio.gather(count(), count(), count()) == [2, 2, 2]
    await ctx.close()
    async with runtime.sessions() as fresh:
        texts = (await fresh.execute(select(notes.notes.c.text))).scalars().all()
    assert texts == ["kept"]


async def test_load_now_is_one_batch_of_the_missing_keys_shared_with_load() -> None:
    batch = Recorder()
    loader: DataLoader[int, str] = DataLoader(batch)
    assert await loader.load(1) == "value-1"
    assert await loader.load_now([3, 1, 2, 3]) == ["value-3", "value-1", "value-2", "value-3"]
    assert batch.calls == [[1], [3, 2]]  # one batch, distinct keys, only those not loaded yet
    assert await loader.load(2) == "value-2" and await loader.load_many([3, 1]) == ["value-3", "value-1"]
    assert await loader.load_now([2, 3]) == ["value-2", "value-3"]
    assert batch.calls == [[1], [3, 2]]


async def test_load_now_waits_for_a_pending_load_instead_of_asking_twice() -> None:
    batch = Recorder()
    loader: DataLoader[int, str] = DataLoader(batch)
    pending = loader.load(7)  # queued for the end of this loop turn
    assert await loader.load_now([7, 8]) == ["value-7", "value-8"]
    assert await pending == "value-7"
    assert sorted(map(sorted, batch.calls)) == [[7], [8]]


async def test_a_failing_load_now_raises_and_caches_nothing() -> None:
    calls: list[list[int]] = []

    async def flaky(keys: list[int]) -> list[str]:
        calls.append(list(keys))
        if len(calls) == 1:
            raise RuntimeError("down")
        return [str(k) for k in keys]

    loader: DataLoader[int, str] = DataLoader(flaky)
    with pytest.raises(RuntimeError, match="down"):
        await loader.load_now([1, 2])
    assert await loader.load_now([1, 2]) == ["1", "2"]
    assert calls == [[1, 2], [1, 2]]


async def test_primed_values_are_answered_without_a_batch_and_never_replace_loaded_ones() -> None:
    batch = Recorder()
    loader: DataLoader[int, str] = DataLoader(batch)
    assert await loader.load_now([1]) == ["value-1"]
    pending = loader.load(2)  # queued, not answered yet
    loader.prime({1: "primed-1", 2: "primed-2", 3: "primed-3", 4: "primed-4"})
    assert await loader.load_now([3, 1, 4]) == ["primed-3", "value-1", "primed-4"]
    assert await loader.load(4) == "primed-4" and await pending == "value-2"
    assert await loader.load_now([5, 3]) == ["value-5", "primed-3"]
    assert batch.calls == [[1], [2], [5]]
