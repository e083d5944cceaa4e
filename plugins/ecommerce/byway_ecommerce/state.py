"""Per-runtime state of the plugin: its parsed configuration, payment provider, webhook secret and
background wakers.

Hooks are module functions shared by every host in the process (tests build many apps), so the
state is kept per runtime with ``plugin.slot(build_state)``; the host closes it (``aclose``) at
shut-down, after the plugin's ``byway_shutdown``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from byway_ecommerce.config import EcommerceConfig, config_of
from byway_ecommerce.dev_provider import DevProvider
from byway_ecommerce.providers import PaymentProvider
from byway_ecommerce.stripe_provider import StripeProvider

if TYPE_CHECKING:
    from starlette.requests import Request

    from byway import PluginRuntime, RequestContext

#: The dev provider's webhook secret, generated once per data directory (mode 0600).
DEV_SECRET_FILE = "ecommerce-dev-webhook-secret"


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
                self._plugin.log.exception("background work failed; its job retries it")

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
    webhook_secret: str
    wakers: dict[str, Waker] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Stop background work and release the provider (shut-down, end of a CLI command)."""
        for waker in self.wakers.values():
            await waker.stop()
        await self.provider.close()


def dev_webhook_secret(data_dir: Path) -> str:
    """The data directory's dev webhook secret, created (random, file mode 0600) on first use."""
    path = data_dir / DEV_SECRET_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = "whsec_dev_" + secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(secret)
    return secret


def build_state(plugin: PluginRuntime) -> EcommerceState:
    """Pick the provider: Stripe with a secret key, else the dev provider (and its webhook secret)."""
    config = config_of(plugin)
    if config.uses_stripe:
        return EcommerceState(config, StripeProvider(config), config.stripe_webhook_secret)
    secret = config.stripe_webhook_secret or dev_webhook_secret(Path(plugin.settings.data_dir))
    return EcommerceState(config, DevProvider(plugin, config), secret)


def state_of(plugin: PluginRuntime) -> EcommerceState:
    """The runtime's state, created on first use (CLI commands run without the start-up hook)."""
    return plugin.slot(build_state)


def webhook_secret(plugin: PluginRuntime) -> str:
    """The secret webhook signatures are checked with (Stripe's, or this data directory's dev secret)."""
    return state_of(plugin).webhook_secret


def waker(plugin: PluginRuntime, name: str, work: Callable[[PluginRuntime], Awaitable[object]]) -> Waker:
    """The runtime's waker called ``name`` (created on first use)."""
    wakers = state_of(plugin).wakers
    if name not in wakers:
        wakers[name] = Waker(plugin, work)
    return wakers[name]


def public_url(plugin: PluginRuntime) -> str:
    """The site's public base URL (links in emails): ``BYWAY_PUBLIC_BASE_URL``, else the server's own URL."""
    return plugin.settings.public_url


def client_address(ctx: RequestContext) -> str | None:
    """Where a GraphQL request came from (the socket's peer, or a trusted proxy's forwarded address)."""
    address = getattr(ctx, "client_address", None)
    if address is None and ctx.request is not None and ctx.request.client is not None:
        address = ctx.request.client.host
    return None if address is None else str(address)


def request_address(plugin: PluginRuntime, request: Request) -> str | None:
    """Where a REST request came from."""
    resolve = getattr(plugin, "client_address", None)
    if resolve is not None:
        return None if (found := resolve(request)) is None else str(found)
    return request.client.host if request.client is not None else None
