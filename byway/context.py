"""What a resolver gets as ``info.context``: the caller, its plugin's database, client and loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from byway.auth import Principal

if TYPE_CHECKING:
    from starlette.requests import Request

    from byway.client import CrossPluginClient
    from byway.db import Reader
    from byway.runtime import PluginRuntime

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class DataLoader(Generic[K, V]):
    """Batches the ``load(key)`` calls made in one event-loop turn into one ``batch(keys)`` call.

    ``batch`` receives distinct keys in first-seen order and returns one value per key, in the
    same order. Results are cached for the loader's life (one request).
    """

    def __init__(self, batch: Callable[[list[K]], Awaitable[Sequence[V]]]) -> None:
        self._batch = batch
        self._cache: dict[K, asyncio.Future[V]] = {}
        #: Values loaded by :meth:`load_now` (no future made for them unless :meth:`load` asks).
        self._values: dict[K, V] = {}
        self._queue: list[K] = []

    def load(self, key: K) -> asyncio.Future[V]:
        """A future for ``key``'s value; the batch runs once the current loop turn is done."""
        if key in self._cache:
            return self._cache[key]
        loop = asyncio.get_running_loop()
        if key in self._values:
            done: asyncio.Future[V] = loop.create_future()
            done.set_result(self._values[key])
            self._cache[key] = done
            return done
        future: asyncio.Future[V] = loop.create_future()
        self._cache[key] = future
        self._queue.append(key)
        if len(self._queue) == 1:
            loop.call_soon(lambda: loop.create_task(self._dispatch()))
        return future

    def prime(self, values: Mapping[K, V]) -> None:
        """Values known without a batch (fetched ahead of time, say): later loads answer them
        without one. A key already loaded, or being loaded, keeps its own value."""
        known = self._values
        for key, value in values.items():
            if key not in self._cache:
                known.setdefault(key, value)

    async def load_many(self, keys: Sequence[K]) -> list[V]:
        """The values of several keys (batched together with any other pending loads)."""
        return list(await asyncio.gather(*(self.load(k) for k in keys)))

    async def load_now(self, keys: Sequence[K]) -> list[V]:
        """The values of ``keys``, loaded now: ONE ``batch`` call (in this task) for the keys not
        loaded yet, without a future per key; the values are cached for later :meth:`load` calls.
        A failing batch raises here (and caches nothing).

        For a list resolver that knows every key at once (a page of courses): cheaper than
        ``load`` per item, the same single batch.
        """
        known = self._values
        if not known and not self._cache:  # the loader's first use (a page's list): every key is missing
            missing = list(dict.fromkeys(keys))
        else:
            missing = [key for key in dict.fromkeys(keys) if key not in known and key not in self._cache]
        if missing:
            values = list(await self._batch(missing))
            if len(values) != len(missing):
                raise RuntimeError(f"DataLoader batch returned {len(values)} values for {len(missing)} keys")
            if not known and not self._cache:  # still nothing else loaded meanwhile: keep them all
                known.update(zip(missing, values, strict=True))
                return [known[key] for key in keys]
            for key, value in zip(missing, values, strict=True):
                if key not in self._cache:  # a concurrent load may have cached it meanwhile
                    known.setdefault(key, value)
        results: list[V] = []
        for key in keys:
            if key in known:
                results.append(known[key])
                continue
            cached = self._cache[key]
            results.append(cached.result() if cached.done() else await cached)
        return results

    async def _dispatch(self) -> None:
        keys, self._queue = self._queue, []
        try:
            values = list(await self._batch(keys))
            if len(values) != len(keys):
                raise RuntimeError(f"DataLoader batch returned {len(values)} values for {len(keys)} keys")
        except BaseException as exc:  # every waiting resolver must see the failure
            for key in keys:
                fut = self._cache.pop(key)
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for key, value in zip(keys, values, strict=True):
            fut = self._cache[key]
            if not fut.done():
                fut.set_result(value)


class RequestContext:
    """The context of one GraphQL operation in one plugin, for HTTP and in-process calls alike."""

    def __init__(self, plugin: PluginRuntime, principal: Principal, request: Request | None = None) -> None:
        self.plugin = plugin
        self.principal = principal
        self.request = request
        self._session: AsyncSession | None = None
        self._session_lock = asyncio.Lock()
        self._loaders: dict[str, DataLoader[Any, Any]] = {}

    @property
    def client(self) -> CrossPluginClient:
        """The cross-plugin client of this plugin (``await ctx.client.call(...)``)."""
        return self.plugin.client

    @property
    def client_address(self) -> str | None:
        """The client's address (see :meth:`byway.runtime.PluginRuntime.client_address`); None in-process."""
        return self.plugin.client_address(self.request)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """The request's database session, one user at a time.

        GraphQL resolves sibling fields concurrently and an ``AsyncSession`` allows one operation
        at a time, so access is serialised. Nothing is committed for you: call
        ``await session.commit()``; whatever is left uncommitted is rolled back at the end.
        """
        async with self._session_lock:
            if self._session is None:
                self._session = self.plugin.sessions()
            with self.plugin.host.tracing.span(f"db {self.plugin.name}", self.plugin.name):
                yield self._session

    @property
    def reads_wait(self) -> bool:
        """Whether this plugin's reads wait on I/O, leaving the event loop to other tasks (see
        :attr:`byway.db.PluginDatabase.reads_wait`): a call started as a task before a read then runs
        during it; on inline SQLite it would only run after it, for the cost of a task."""
        return self.plugin.db.reads_wait

    def reader(self) -> AbstractAsyncContextManager[Reader]:
        """Read-only access to the plugin's database for one block, cheaper than :meth:`session`:
        for resolvers that only read (``async with ctx.reader() as db``; see :class:`byway.db.Reader`).
        It sees committed data, not this request's session's pending writes."""
        return self.plugin.reader()

    def loader(self, name: str, batch: Callable[[list[Any]], Awaitable[Sequence[Any]]]) -> DataLoader[Any, Any]:
        """The request's :class:`DataLoader` called ``name``, created with ``batch`` on first use."""
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = DataLoader(batch)
        return loader

    async def close(self) -> None:
        """Roll back anything uncommitted and release the session (called by the host)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
