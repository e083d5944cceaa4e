"""Prometheus metrics: the host's own, each plugin's (``plugin.metrics``), and ``GET /metrics``.

Every metric is named ``byway_...``; a plugin's are ``byway_<plugin>_...`` (``-`` becomes ``_``),
made through :class:`PluginMetrics` so a third-party plugin's metrics look like first-party ones.

One :class:`Metrics` per :class:`~byway.host.Host`, with its own ``CollectorRegistry`` (tests run
many hosts in one process). With several worker processes (``byway serve --workers N``) the
server sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start, prometheus-client writes every
value to files in that directory, and a scrape of any worker answers for all of them
(prometheus-client's multiprocess mode): counters and histograms are summed over the workers,
gauges kept up to date by events (connections in use) are summed over live workers, and gauges
computed from a database at scrape time report the most recent value.

Gauges derived from a database (e.g. the enrollment outbox's backlog) are refreshed at scrape
time by async callbacks (:meth:`PluginMetrics.on_scrape`), each awaited with
``metrics_scrape_timeout_seconds``; a callback that fails or times out is counted in
``byway_metrics_collect_errors_total`` and logged, and the scrape still answers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase
from sqlalchemy import event
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from byway import __version__

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from byway.runtime import PluginRuntime
    from byway.settings import Settings

log = logging.getLogger("byway.metrics")

#: Latency buckets (seconds) for requests and cross-plugin calls: 1 ms to 30 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

M = TypeVar("M", bound=MetricWrapperBase)
ScrapeCallback = Callable[["PluginRuntime"], Awaitable[None]]


def multiprocess_dir() -> str | None:
    """The multiprocess directory when prometheus-client runs in multiprocess mode, else None."""
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or None


def metric_prefix(plugin: str) -> str:
    """``byway_<plugin>_`` with the plugin name made a valid metric name (``-`` → ``_``)."""
    return "byway_" + "".join(c if c.isalnum() else "_" for c in plugin.lower()) + "_"


class Metrics:
    """The metrics of one host: a registry, the host's metrics, and the plugins' scrape callbacks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = multiprocess_dir() is not None
        self._plugins: dict[str, PluginMetrics] = {}
        self._callbacks: list[tuple[str, ScrapeCallback, PluginRuntime]] = []
        self._watched: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()
        self._call_children: dict[tuple[str, ...], tuple[Any, Any]] = {}
        if not self.multiprocess:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        reg = self.registry
        self.build_info = Gauge(
            "byway_build_info", "Byway version (always 1)", ["version"], registry=reg, multiprocess_mode="max"
        )
        self.build_info.labels(__version__).set(1)
        self.http_requests = Counter(
            "byway_http_requests",
            "HTTP requests by plugin, operation (GraphQL root fields or REST route), status and outcome",
            ["plugin", "operation", "status", "outcome"],
            registry=reg,
        )
        self.http_duration = Histogram(
            "byway_http_request_duration_seconds",
            "HTTP request latency by plugin and operation",
            ["plugin", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.graphql_errors = Counter(
            "byway_graphql_errors",
            "Errors in GraphQL responses (HTTP and in-process) by plugin and error code",
            ["plugin", "code"],
            registry=reg,
        )
        call_labels = ["caller", "target", "operation", "transport"]
        self.calls = Counter(
            "byway_cross_plugin_calls",
            "Cross-plugin calls by caller, target, operation, transport and outcome (ok or the error code)",
            [*call_labels, "outcome"],
            registry=reg,
        )
        self.call_duration = Histogram(
            "byway_cross_plugin_call_duration_seconds",
            "Cross-plugin call latency, retries included",
            call_labels,
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.call_retries = Counter(
            "byway_cross_plugin_retries",
            "Cross-plugin call attempts that failed and were retried",
            call_labels,
            registry=reg,
        )
        self.call_unavailable = Counter(
            "byway_cross_plugin_upstream_unavailable",
            "Cross-plugin calls that ended in UPSTREAM_UNAVAILABLE",
            call_labels,
            registry=reg,
        )
        self.pool_in_use = Gauge(
            "byway_db_pool_connections_in_use",
            "Database connections checked out of the plugin's pool",
            ["plugin"],
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            "byway_db_pool_size",
            "Connections the plugin's pools keep (sessions' and readers', without overflow); 0 when unbounded",
            ["plugin"],
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.collect_errors = Counter(
            "byway_metrics_collect_errors",
            "Scrape-time metric callbacks that failed or timed out, by plugin",
            ["plugin"],
            registry=reg,
        )

    # --- plugins ----------------------------------------------------------------------------------

    def for_plugin(self, plugin: PluginRuntime) -> PluginMetrics:
        """The :class:`PluginMetrics` of ``plugin`` (one per plugin and host)."""
        metrics = self._plugins.get(plugin.name)
        if metrics is None:
            metrics = self._plugins[plugin.name] = PluginMetrics(self, plugin)
        return metrics

    def add_callback(self, plugin: PluginRuntime, callback: ScrapeCallback) -> None:
        """Await ``callback(plugin)`` at every scrape (see :meth:`PluginMetrics.on_scrape`)."""
        if not any(cb is callback and rt is plugin for _, cb, rt in self._callbacks):
            self._callbacks.append((plugin.name, callback, plugin))

    async def refresh(self) -> None:
        """Await every scrape callback, each within ``metrics_scrape_timeout_seconds``."""
        timeout = self.settings.metrics_scrape_timeout_seconds

        async def one(name: str, callback: ScrapeCallback, runtime: PluginRuntime) -> None:
            try:
                async with asyncio.timeout(timeout):
                    await callback(runtime)
            except Exception as exc:
                self.collect_errors.labels(name).inc()
                log.warning("metrics callback of %s failed: %s", name, f"{type(exc).__name__}: {exc}")

        await asyncio.gather(*(one(*entry) for entry in self._callbacks))

    # --- exposition -------------------------------------------------------------------------------

    async def exposition(self) -> bytes:
        """The Prometheus text exposition, callbacks refreshed first (all workers in multiprocess mode)."""
        await self.refresh()
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)

    # --- host instrumentation ---------------------------------------------------------------------

    def watch_pool(self, plugin: str, engine: AsyncEngine, *more: Engine) -> None:
        """Count the connections ``plugin`` has checked out of its pools (SQLAlchemy pool events):
        ``engine``'s and those of ``more`` engines of the same database (its readers'); its pool
        size is what they keep together (a pool without a size counts 0)."""
        if engine in self._watched:
            return
        self._watched.add(engine)
        in_use = self.pool_in_use.labels(plugin)
        in_use.set(0)
        sizes = (getattr(each.pool, "size", None) for each in (engine.sync_engine, *more))
        self.pool_size.labels(plugin).set(sum(size() for size in sizes if callable(size)))

        def checkout(*_: Any) -> None:
            in_use.inc()

        def checkin(*_: Any) -> None:
            in_use.dec()

        for sync_engine in (engine.sync_engine, *more):
            event.listen(sync_engine, "checkout", checkout)
            event.listen(sync_engine, "checkin", checkin)

    def call_children(self, labels: tuple[str, str, str, str], outcome: str) -> tuple[Any, Any]:
        """The counter and histogram children of one kind of call (``labels()`` looked up once:
        a cross-plugin call is on the hot path of every page)."""
        key = (*labels, outcome)
        children = self._call_children.get(key)
        if children is None:
            children = (self.calls.labels(*labels, outcome), self.call_duration.labels(*labels))
            if len(self._call_children) < 4096:  # labels are bounded by the schemas; stay bounded anyway
                self._call_children[key] = children
        return children

    def observe_request(self, plugin: str, operation: str, status: int, outcome: str, seconds: float) -> None:
        """Count one HTTP request and its latency."""
        self.http_requests.labels(plugin, operation, str(status), outcome).inc()
        self.http_duration.labels(plugin, operation).observe(seconds)

    def observe_graphql_errors(self, plugin: str, errors: Sequence[Any]) -> None:
        """Count the errors of one GraphQL response by code."""
        for error in errors:
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            self.graphql_errors.labels(plugin, code if isinstance(code, str) else "INTERNAL").inc()

    def process_exiting(self) -> None:
        """In multiprocess mode, drop this process's live gauges (a worker shutting down)."""
        directory = multiprocess_dir()
        if directory is not None:
            multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


class PluginMetrics:
    """A plugin's metrics: ``plugin.metrics.counter("orders_paid_total", "...", ["currency"])``.

    Names get the prefix ``byway_<plugin>_``; asking twice for one name returns the same metric
    (so module code may ask at every use), asking for it with another type or labels fails.
    """

    def __init__(self, metrics: Metrics, plugin: PluginRuntime) -> None:
        self._metrics = metrics
        self._plugin = plugin
        self.prefix = metric_prefix(plugin.name)
        self._made: dict[str, MetricWrapperBase] = {}

    def _make(self, kind: type[M], name: str, documentation: str, labels: Sequence[str], **kwargs: Any) -> M:
        full = name if name.startswith(self.prefix) else self.prefix + name
        existing = self._made.get(full)
        if existing is not None:
            if not isinstance(existing, kind) or tuple(existing._labelnames) != tuple(labels):
                raise ValueError(f"metric {full} exists already with another type or other labels")
            return existing
        metric = kind(full, documentation, list(labels), registry=self._metrics.registry, **kwargs)
        self._made[full] = metric
        return metric

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A counter ``byway_<plugin>_<name>`` (exposed with ``_total``)."""
        return self._make(Counter, name.removesuffix("_total"), documentation, labels)

    def gauge(
        self, name: str, documentation: str, labels: Sequence[str] = (), *, multiprocess_mode: str = "mostrecent"
    ) -> Gauge:
        """A gauge ``byway_<plugin>_<name>``.

        ``multiprocess_mode``: ``mostrecent`` (default, for values set at scrape time from a
        database), ``livesum`` for values each worker counts up and down, see prometheus-client.
        """
        return self._make(Gauge, name, documentation, labels, multiprocess_mode=multiprocess_mode)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (), *, buckets: Sequence[float] = LATENCY_BUCKETS
    ) -> Histogram:
        """A histogram ``byway_<plugin>_<name>`` (latency buckets by default)."""
        return self._make(Histogram, name, documentation, labels, buckets=tuple(buckets))

    def on_scrape(self, callback: ScrapeCallback) -> None:
        """Await ``callback(plugin)`` before each scrape, to set gauges computed from the database.

        Register it once (e.g. in ``byway_startup``); registering the same callback again does
        nothing. It runs within ``metrics_scrape_timeout_seconds``; a failure is counted in
        ``byway_metrics_collect_errors_total{plugin}`` and logged, and the scrape still answers.
        """
        self._metrics.add_callback(self._plugin, callback)


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """Whether this request may read ``/metrics``.

    With ``metrics_token`` set: only with ``Authorization: Bearer <token>``. Otherwise anyone in
    dev, and in production only a loopback peer that is not a proxy forwarding someone else
    (no ``X-Forwarded-For`` / ``Forwarded`` header).
    """
    import hmac

    token = settings.metrics_token
    if token:
        presented = request.headers.get("authorization", "")
        return hmac.compare_digest(presented.encode("utf-8"), f"Bearer {token}".encode())
    if not settings.is_production:
        return True
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    return _is_loopback(request.client.host if request.client else None)


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the Prometheus text format; 404 when switched off, 403 when not allowed."""
    host = request.app.state.host
    settings = host.settings
    if not settings.metrics_enabled:
        return PlainTextResponse("Not Found", status_code=404)
    if not metrics_allowed(request, settings):
        return PlainTextResponse("Forbidden", status_code=403)
    started = time.perf_counter()
    body = await host.metrics.exposition()
    log.debug("scrape took %.1f ms", (time.perf_counter() - started) * 1000)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def prepare_multiprocess_metrics(data_dir: Path) -> Path:
    """Before starting several workers: an empty ``PROMETHEUS_MULTIPROC_DIR`` they all write to.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is kept (and emptied); otherwise
    ``<data_dir>/prometheus-multiproc``. Files of an earlier run are removed, as
    prometheus-client requires.
    """
    directory = Path(multiprocess_dir() or data_dir / "prometheus-multiproc").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


_ON_COMMIT = "byway_on_commit"
#: Key of ``session.info`` holding the plugin whose ``plugin.sessions()`` made the session.
PLUGIN_INFO_KEY = "byway.plugin"


def plugin_of(session: AsyncSession) -> PluginRuntime | None:
    """The plugin whose ``plugin.sessions()`` (or ``ctx.session()``) made ``session``, if known.

    For store functions that count what they write without being handed the plugin:
    ``plugin_of(session).metrics.counter(...)``.
    """
    plugin: PluginRuntime | None = session.info.get(PLUGIN_INFO_KEY)
    return plugin


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's current transaction commits; forget it on rollback.

    For metrics of what a transaction writes (an order PAID, a row marked failed): counted only
    when it is really written. ``callback`` must be quick and must not raise.
    """
    sync = session.sync_session
    pending: list[Callable[[], None]] | None = sync.info.get(_ON_COMMIT)
    if pending is None:
        pending = sync.info[_ON_COMMIT] = []
        event.listen(sync, "after_commit", _run_on_commit)
        event.listen(sync, "after_rollback", _forget_on_commit)
    pending.append(callback)


def _run_on_commit(sync: Any) -> None:
    callbacks = sync.info.get(_ON_COMMIT) or []
    sync.info[_ON_COMMIT] = []
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("an on-commit metrics callback failed")


def _forget_on_commit(sync: Any) -> None:
    sync.info[_ON_COMMIT] = []
