"""Per-runtime state of the plugin: its parsed configuration, payment provider and outbox waker.

Hooks are module functions shared by every host in the process (tests build many apps), so the
state hangs off the :class:`~byway.runtime.PluginRuntime` in a weak mapping instead of globals.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from byway_ecommerce.config import EcommerceConfig
from byway_ecommerce.dev_provider import DevProvider
from byway_ecommerce.providers import PaymentProvider
from byway_ecommerce.stripe_provider import StripeProvider

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime


class Waker:
    """Runs ``work`` in the background on demand, one run at a time, again if woken meanwhile.

    The webhook answers Stripe at once and wakes the outbox worker instead of calling
    ``students-internal`` inline; wake-ups during a run coalesce into one more run.
    """

    def __init__(self, plugin: PluginRuntime, work: Callable[[PluginRuntime], Awaitable[object]]) -> None:
        self._plugin = plugin
        self._work = work
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def wake(self) -> None:
        """Ask for a run soon (never blocks, never raises)."""
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while self._again:
            self._again = False
            try:
                await self._work(self._plugin)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._plugin.log.exception("background outbox drain failed; the outbox job retries it")

    async def idle(self) -> None:
        """Wait until no run is in progress (tests, shut-down)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def stop(self) -> None:
        """Cancel a run in progress (its claimed rows are taken over once their lease ends)."""
        self._again = False
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None


@dataclass
class EcommerceState:
    """What the plugin keeps for one runtime."""

    config: EcommerceConfig
    provider: PaymentProvider
    waker: Waker | None = None


_states: weakref.WeakKeyDictionary[PluginRuntime, EcommerceState] = weakref.WeakKeyDictionary()


def build_provider(plugin: PluginRuntime, config: EcommerceConfig) -> PaymentProvider:
    """Stripe when a secret key is configured, else the dev provider."""
    if config.uses_stripe:
        return StripeProvider(config)
    return DevProvider(plugin, config)


def state_of(plugin: PluginRuntime) -> EcommerceState:
    """The runtime's state, created on first use (CLI commands run without the start-up hook)."""
    state = _states.get(plugin)
    if state is None:
        config = EcommerceConfig.from_mapping(plugin.config)
        state = EcommerceState(config=config, provider=build_provider(plugin, config))
        _states[plugin] = state
    return state


def config_of(plugin: PluginRuntime) -> EcommerceConfig:
    """The runtime's parsed configuration."""
    return state_of(plugin).config


async def close_state(plugin: PluginRuntime) -> None:
    """Stop background work and release the provider (shut-down, end of a CLI command)."""
    state = _states.pop(plugin, None)
    if state is None:
        return
    if state.waker is not None:
        await state.waker.stop()
    await state.provider.close()
