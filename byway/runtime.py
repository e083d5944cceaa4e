"""A loaded plugin at run time: its database, schema, client and configuration."""

from __future__ import annotations

import inspect
import ipaddress
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from byway.auth import ANONYMOUS_PRINCIPAL, Principal, TokenService, bearer_token
from byway.client import CrossPluginClient
from byway.context import RequestContext
from byway.db import PluginDatabase, Reader
from byway.errors import UNAUTHENTICATED, Unauthenticated
from byway.execution import GraphQLExecutor
from byway.metrics import PluginMetrics
from byway.plugins import LoadedPlugin
from byway.settings import Settings
from byway.telemetry import observe_operation_errors, operation_span

if TYPE_CHECKING:
    from byway.host import Host

T = TypeVar("T")


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(value, strict=False)


def _is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in _network(net) for net in trusted)


def client_address_of(request: Request | None, trusted: tuple[str, ...]) -> str | None:
    """See :meth:`PluginRuntime.client_address`."""
    if request is None or request.client is None:
        return None
    peer = request.client.host
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from a proxy's client: fall back to the proxy itself
    return hops[0] if hops else peer


class PluginRuntime:
    """Everything the host holds for one plugin; handed to the plugin's hooks and resolvers."""

    def __init__(self, host: Host, loaded: LoadedPlugin) -> None:
        self.host = host
        self.loaded = loaded
        self.name = loaded.name
        self._db_span_name = f"db {self.name}"
        self.log = logging.getLogger(f"byway.plugins.{self.name}")
        self.client = CrossPluginClient(host, self.name)
        self.metadata: MetaData | None = None
        self.migrations_dir: Path | None = None
        self.database: PluginDatabase | None = None
        self.executor: GraphQLExecutor | None = None
        self._slots: dict[Callable[[PluginRuntime], Any], Any] = {}

    @property
    def settings(self) -> Settings:
        """The host's settings."""
        return self.host.settings

    @property
    def config(self) -> dict[str, Any]:
        """This plugin's own settings (``[plugin.<name>]`` and ``BYWAY_<P>_<KEY>``)."""
        return self.host.settings.plugin_config(self.name, self.host.plugins)

    @property
    def tokens(self) -> TokenService:
        """The host's token service (issue and verify user tokens; service tokens are the client's)."""
        return self.host.tokens

    def knows(self, plugin: str) -> bool:
        """True when ``plugin`` can be called: loaded in this process, or configured with its own URL."""
        return self.host.knows(plugin)

    def slot(self, factory: Callable[[PluginRuntime], T]) -> T:
        """Per-runtime state: ``factory(plugin)`` is called once for this runtime and its result kept.

        Keyed by ``factory``, so one module-level function names one piece of state, e.g. a
        parsed configuration (``plugin.slot(load_config)``) or a client with a connection pool.
        A kept object with an ``async def aclose()`` is closed by the host at shut-down, after
        ``byway_shutdown``; the next use after that builds a new one.
        """
        if factory not in self._slots:
            self._slots[factory] = factory(self)
        value: T = self._slots[factory]
        return value

    async def close_slots(self) -> None:
        """Close the kept objects that have ``aclose()`` (newest first) and forget them all (host use)."""
        slots, self._slots = self._slots, {}
        for value in reversed(list(slots.values())):
            aclose = getattr(value, "aclose", None)
            if aclose is None:
                continue
            try:
                result = aclose()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self.log.exception("closing %r of plugin %s failed", value, self.name)

    @property
    def metrics(self) -> PluginMetrics:
        """This plugin's Prometheus metrics, named ``byway_<plugin>_...`` (see :mod:`byway.metrics`)."""
        return self.host.metrics.for_plugin(self)

    @property
    def db(self) -> PluginDatabase:
        """The plugin's database (only for plugins that register models)."""
        if self.database is None:
            raise RuntimeError(f"plugin {self.name!r} has no database: it registers no models")
        return self.database

    def sessions(self) -> AsyncSession:
        """A new session on the plugin's database (``async with plugin.sessions() as s``)."""
        return self.db.sessions()

    def reader(self) -> AbstractAsyncContextManager[Reader]:
        """Read-only access to the plugin's database for one block, cheaper than a session
        (``async with plugin.reader() as db``; see :class:`byway.db.Reader`). A ``db <plugin>`` span
        when spans are exported."""
        return self.db.reader(around=self.host.tracing.detail_span(self._db_span_name, self.name))

    def authenticate(self, token: str | None) -> Principal:
        """The principal of a bearer token (anonymous for None); :class:`Unauthenticated` if bad."""
        if token is None:
            return ANONYMOUS_PRINCIPAL
        return self.host.tokens.verify(token)

    def client_address(self, request: Request | None) -> str | None:
        """The address of the client behind ``request`` (None without a request, e.g. in-process calls).

        The socket's peer address; when that peer is one of ``Settings.trusted_proxies``, the
        nearest address in ``X-Forwarded-For`` that is not a trusted proxy (read right to left,
        so a client cannot choose its address by sending the header itself).
        """
        return client_address_of(request, self.settings.trusted_proxies)

    def principal_for(self, request: Request) -> Principal:
        """The principal of a REST request's ``Authorization`` header."""
        return self.authenticate(bearer_token(request.headers.get("authorization")))

    async def run_operation(
        self,
        query: Any,
        variables: Any,
        operation_name: Any,
        token: str | None,
        request: Request | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Authenticate ``token`` and run one GraphQL operation; ``(http_status, body)``.

        The one code path for HTTP requests and in-process calls alike.
        """
        if self.executor is None:
            raise RuntimeError(f"plugin {self.name!r} has no GraphQL API")
        if request is None and not self.host.tracing.exporting:
            # In-process with no span exported: the caller's call span stays the current one (its
            # trace id is in this plugin's log lines); only the errors are counted.
            status, body = await self._run_operation(query, variables, operation_name, token, None)
            observe_operation_errors(self, body)
            return status, body
        with operation_span(self, query, operation_name, request) as observe:
            status, body = await self._run_operation(query, variables, operation_name, token, request)
            observe(body)
        return status, body

    async def _run_operation(
        self, query: Any, variables: Any, operation_name: Any, token: str | None, request: Request | None
    ) -> tuple[int, dict[str, Any]]:
        assert self.executor is not None
        try:
            principal = self.authenticate(token)
        except Unauthenticated as exc:
            error = {"message": exc.message, "extensions": {"code": UNAUTHENTICATED}}
            return 401, {"data": None, "errors": [error]}
        context = RequestContext(self, principal, request)
        return await self.executor.run(query, variables, operation_name, context)
