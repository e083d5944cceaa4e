"""The host: loads plugins, wires their hooks, opens their databases and runs their jobs."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from graphql import GraphQLError, parse, validate
from sqlalchemy import MetaData
from starlette.routing import BaseRoute

from byway import cascade, migrate
from byway.auth import TokenService
from byway.client import CallObserver, CallRecord, HttpTransport, InProcessTransport, Transport
from byway.conventions import by_convention
from byway.db import PluginDatabase
from byway.declarations import DemoStep, GraphQLApi, Job, Operation, Relation
from byway.errors import UpstreamUnavailable
from byway.execution import GraphQLExecutor, build_schema
from byway.jobs import run_scheduled
from byway.logs import new_request_id, request_id_var
from byway.metrics import PLUGIN_INFO_KEY, Metrics
from byway.plugins import PluginError, build_plugin_manager, call_own_hook, implements
from byway.runtime import PluginRuntime
from byway.scoped import WithOnly
from byway.security import secure_data_dir
from byway.settings import Settings
from byway.telemetry import CallResult, record_call
from byway.tracing import Tracing

log = logging.getLogger("byway.host")

CallResultObserver = Callable[[CallRecord, CallResult], None]


class Host:
    """Every loaded plugin with its runtime, plus the shared token service and transports.

    Args:
        settings: the configuration (see :func:`byway.settings.load_settings`).
        plugins: plugin objects to register directly (test-only plugins, embedded apps).
        load_entrypoints: also load the ``byway.plugins`` entry points (False in tests).
    """

    def __init__(
        self, settings: Settings, plugins: Sequence[Any] | None = None, *, load_entrypoints: bool = True
    ) -> None:
        settings.check()
        self.settings = settings
        self.pm, loaded = build_plugin_manager(
            plugins, disabled=settings.disabled_plugins, load_entrypoints=load_entrypoints
        )
        self.tokens = TokenService(
            settings.jwt_secret,
            settings.jwt_algorithm,
            user_ttl=settings.token_ttl_seconds,
            service_ttl=settings.service_token_ttl_seconds,
        )
        self.plugins: dict[str, PluginRuntime] = {}
        self.relations: list[Relation] = []
        self.operations: dict[str, list[Operation]] = {}
        self.jobs: dict[str, list[Job]] = {}
        self._observers: list[CallObserver] = []
        #: Prometheus metrics (``GET /metrics``) and OpenTelemetry tracing of this host.
        self.metrics = Metrics(settings)
        self.tracing = Tracing(settings)
        self._result_observers: list[CallResultObserver] = [lambda rec, res: record_call(self, rec, res)]
        self._transport_overrides: dict[str, Transport] = {}
        self._http: httpx.AsyncClient | None = None
        #: Set by :meth:`close`: no HTTP client is made after it (it would never be closed).
        self._closed = False
        self._inprocess = InProcessTransport(self)
        self._job_tasks: list[asyncio.Task[None]] = []
        self.started = False
        for item in loaded:
            self.plugins[item.name] = PluginRuntime(self, item)
        for runtime in self.plugins.values():
            self._wire(runtime)
        self._check_relations()

    # --- wiring ---------------------------------------------------------------------------------

    def call_hook(self, runtime: PluginRuntime, hook: str, **kwargs: Any) -> list[Any]:
        """Call one plugin's own implementations of ``hook``; failures name the plugin.

        A plugin that does not implement a registration hook gets the template's convention
        (see :mod:`byway.conventions`): explicit hooks always win.
        """
        owner = runtime.loaded.obj
        try:
            if not implements(self.pm, owner, hook):
                return [r for r in by_convention(owner, hook, **kwargs) if r is not None]
            return [r for r in call_own_hook(self.pm, owner, hook, **kwargs) if r is not None]
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {runtime.name!r} (distribution {runtime.loaded.distribution}) failed in {hook}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _one(self, runtime: PluginRuntime, hook: str, kind: type | tuple[type, ...], **kwargs: Any) -> Any:
        results = self.call_hook(runtime, hook, **kwargs)
        if not results:
            return None
        if len(results) > 1 or not isinstance(results[0], kind):
            raise PluginError(f"plugin {runtime.name!r}: {hook} must return one {kind}")
        return results[0]

    def _many(self, runtime: PluginRuntime, hook: str, kind: type, **kwargs: Any) -> list[Any]:
        items = [item for result in self.call_hook(runtime, hook, **kwargs) for item in result]
        bad = [item for item in items if not isinstance(item, kind)]
        if bad:
            raise PluginError(f"plugin {runtime.name!r}: {hook} returned {bad[0]!r}, not {kind.__name__}")
        return items

    def _wire(self, runtime: PluginRuntime) -> None:
        settings = self.settings
        metadata = self._one(runtime, "byway_register_models", MetaData)
        migrations_dir = self._one(runtime, "byway_register_migrations", (str, Path))
        if metadata is not None:
            if migrations_dir is None:
                raise PluginError(f"plugin {runtime.name!r} registers models but no migrations directory")
            runtime.metadata = metadata
            runtime.migrations_dir = Path(migrations_dir)
            if not runtime.migrations_dir.is_dir():
                raise PluginError(f"plugin {runtime.name!r}: migrations directory {migrations_dir} does not exist")
            runtime.database = PluginDatabase(
                runtime.name,
                settings.database_url_for(runtime.name),
                sqlite_driver=settings.sqlite_driver,
                ping_after_idle=settings.database_ping_after_idle_seconds,
            )
        relations = self._many(runtime, "byway_register_relations", Relation)
        # Relations applied on delete get the host's service-only count/apply fields (byway.cascade).
        api = cascade.extend_api(runtime, self._one(runtime, "byway_register_schema", GraphQLApi), relations)
        if api is not None:
            try:
                schema = build_schema(api)
            except Exception as exc:
                raise PluginError(f"plugin {runtime.name!r}: invalid GraphQL schema: {exc}") from exc
            runtime.executor = GraphQLExecutor(
                runtime.name,
                schema,
                introspection=settings.introspection_enabled,
                max_depth=settings.max_query_depth,
                max_cost=settings.max_query_cost,
                max_query_bytes=settings.max_query_bytes,
                max_tokens=settings.max_query_tokens,
                suggestions=not settings.is_production,
                debug=settings.debug,
            )
        self.relations.extend(relations)
        # An audit's existence lookup is a document this plugin sends too: validated at start-up alike.
        audits = [Operation(rel.target_plugin, rel.exists) for rel in relations if rel.exists is not None]
        self.operations[runtime.name] = self._many(runtime, "byway_register_operations", Operation) + audits
        self.jobs[runtime.name] = self._many(runtime, "byway_register_jobs", Job, plugin=runtime)

    def _check_relations(self) -> None:
        for relation in self.relations:
            for plugin in (relation.source_plugin, relation.target_plugin):
                if not self.knows(plugin) and not relation.optional:
                    raise PluginError(
                        f"relation {relation.source} -> {relation.target} needs plugin {plugin!r}, "
                        "which is not loaded (install it, or do not disable it)"
                    )

    def routes_of(self, runtime: PluginRuntime) -> list[Any]:
        """The extra REST routes a plugin registers (see ``byway_register_routes``)."""
        return self._many(runtime, "byway_register_routes", BaseRoute, plugin=runtime)

    def pages_of(self, runtime: PluginRuntime) -> list[Any]:
        """The routes a plugin serves at the site root (see ``byway_register_pages``)."""
        return self._many(runtime, "byway_register_pages", BaseRoute, plugin=runtime)

    def demo_steps(self) -> list[tuple[PluginRuntime, DemoStep]]:
        """Every plugin's demo step, in running order."""
        steps = [(rt, self._one(rt, "byway_register_demo", DemoStep)) for rt in self.plugins.values()]
        return sorted(((rt, s) for rt, s in steps if s is not None), key=lambda pair: pair[1].order)

    # --- lifecycle ------------------------------------------------------------------------------

    async def open(self, *, migrate_now: bool | None = None) -> None:
        """Open every plugin's database (creating it in dev) and apply pending migrations.

        Args:
            migrate_now: apply migrations (default: ``settings.migrate_on_startup``).
        """
        self._closed = False
        create = not self.settings.is_production
        secure_data_dir(self.settings.data_dir, create=create)
        for runtime in self.plugins.values():
            if runtime.database is not None:
                try:
                    await runtime.database.open(create_database=create)
                except Exception as exc:
                    raise PluginError(f"plugin {runtime.name!r}: cannot open its database: {exc}") from exc
                self.metrics.watch_pool(runtime.name, runtime.database.engine, *runtime.database.sync_engines[1:])
                self.tracing.trace_sessions(runtime.name, runtime.database.sessions)
                # A session of plugin.sessions() knows its plugin (byway.metrics.plugin_of).
                runtime.database.sessions.kw.setdefault("info", {})[PLUGIN_INFO_KEY] = runtime
        if self.settings.migrate_on_startup if migrate_now is None else migrate_now:
            await self.migrate()

    async def migrate(self, plugin: str | None = None) -> dict[str, str | None]:
        """Upgrade one plugin's database (or all) to its head revision; returns the new revisions."""
        revisions: dict[str, str | None] = {}
        for runtime in self.plugins.values():
            if runtime.database is None or (plugin is not None and runtime.name != plugin):
                continue
            try:
                revisions[runtime.name] = await migrate.upgrade(runtime)
            except Exception as exc:
                raise PluginError(
                    f"plugin {runtime.name!r}: migrating its database failed: {type(exc).__name__}: {exc}"
                ) from exc
        if plugin is not None and plugin not in self.plugins:
            raise PluginError(f"no plugin named {plugin!r}")
        return revisions

    def validate_operations(self) -> None:
        """Validate every declared cross-plugin operation against its (loaded) target schema."""
        for caller, operations in self.operations.items():
            for op in operations:
                target = self.plugins.get(op.target)
                if target is None or target.executor is None:
                    continue
                try:
                    errors = validate(target.executor.schema, parse(op.document))
                except GraphQLError as exc:
                    errors = [exc]
                if errors:
                    raise PluginError(
                        f"plugin {caller!r} sends an operation that {op.target!r} no longer accepts: "
                        + "; ".join(e.message for e in errors)
                    )

    async def start(self) -> None:
        """Server start-up: open and migrate, validate operations, start-up hooks, then jobs."""
        started: list[PluginRuntime] = []
        try:
            await self.open()
            self.validate_operations()
            for runtime in self.plugins.values():
                await self._run_lifecycle_hook(runtime, "byway_startup")
                started.append(runtime)
        except BaseException:
            # A failed start-up undoes what it did: plugins already started are shut down, and
            # no engine is left open.
            await self._shut_down(reversed(started))
            await self.close()
            raise
        for name, jobs in self.jobs.items():
            for job in jobs:
                if job.enabled:
                    self._job_tasks.append(asyncio.create_task(self._run_job(self.plugins[name], job)))
        self.started = True

    async def _run_lifecycle_hook(self, runtime: PluginRuntime, hook: str) -> None:
        """Call a start-up/shut-down hook and await what it returns; failures name the plugin."""
        for result in self.call_hook(runtime, hook, plugin=runtime):
            if inspect.isawaitable(result):
                try:
                    await result
                except Exception as exc:
                    raise PluginError(
                        f"plugin {runtime.name!r} (distribution {runtime.loaded.distribution}) failed in {hook}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc

    async def _run_job(self, runtime: PluginRuntime, job: Job) -> None:
        # Once per interval across every worker and process (see byway.jobs).
        async def run_once() -> None:
            # Each run is its own "request": an id and a root span for its log lines and calls.
            token = request_id_var.set(f"job-{new_request_id()}")
            try:
                with self.tracing.span(f"job {runtime.name}.{job.name}", runtime.name):
                    await job.run(runtime)
            except asyncio.CancelledError:
                raise
            except Exception:
                runtime.log.exception("job %s failed; it runs again in %ss", job.name, job.interval_seconds)
            finally:
                request_id_var.reset(token)

        await run_scheduled(runtime, job, run_once)

    async def stop(self) -> None:
        """Server shut-down: cancel jobs, shut-down hooks, close databases and HTTP clients."""
        for task in self._job_tasks:
            task.cancel()
        await asyncio.gather(*self._job_tasks, return_exceptions=True)
        self._job_tasks.clear()
        if self.started:
            await self._shut_down(reversed(list(self.plugins.values())))
        self.started = False
        await self.close()
        self.tracing.shutdown()
        self.metrics.process_exiting()

    async def _shut_down(self, runtimes: Iterable[PluginRuntime]) -> None:
        for runtime in runtimes:
            try:
                await self._run_lifecycle_hook(runtime, "byway_shutdown")
            except Exception:
                log.exception("shut-down of plugin %s failed", runtime.name)

    async def close(self) -> None:
        """Close the plugins' slots (see :meth:`PluginRuntime.slot`), every database engine and the HTTP client."""
        for runtime in reversed(list(self.plugins.values())):
            await runtime.close_slots()
        for runtime in self.plugins.values():
            if runtime.database is not None:
                await runtime.database.close()
        self._closed = True
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- cross-plugin transport -------------------------------------------------------------------

    def knows(self, plugin: str) -> bool:
        """True when ``plugin`` can be called: loaded here, or configured with its own URL."""
        return plugin in self.plugins or plugin in self.settings.plugin_urls

    def transport_for(self, plugin: str) -> Transport:
        """The transport for calls to ``plugin``: an override, HTTP by configuration, else in-process."""
        override = self._transport_overrides.get(plugin)
        if override is not None:
            return override
        base_url = self.settings.base_url_for(plugin)
        if base_url is None:
            return self._inprocess
        if self._http is None:
            if self._closed:  # a late task of a stopped host: its client would never be closed
                raise UpstreamUnavailable(f"{plugin} cannot be called: this server is shutting down", plugin=plugin)
            self._http = httpx.AsyncClient(timeout=self.settings.client_timeout_seconds)
        return HttpTransport(base_url, self._http)

    @contextmanager
    def inprocess_calls(self) -> Iterator[None]:
        """Call every loaded plugin in-process inside the ``with`` block (no server is listening yet)."""
        previous = dict(self._transport_overrides)
        self._transport_overrides.update({name: self._inprocess for name in self.plugins})
        try:
            yield
        finally:
            self._transport_overrides = previous

    def override_transport(self, plugin: str, transport: Transport) -> WithOnly[Transport]:
        """Send calls to ``plugin`` through ``transport`` inside the ``with`` block (tests, fault injection).

        ``with app.host.override_transport("teach-internal", FailingTransport(None)): ...``; a bare
        call fails loudly (see :class:`WithOnly`).
        """
        return WithOnly(f"override_transport({plugin!r}, ...)", self._override_transport(plugin, transport))

    @contextmanager
    def _override_transport(self, plugin: str, transport: Transport) -> Iterator[Transport]:
        previous = self._transport_overrides.get(plugin)
        self._transport_overrides[plugin] = transport
        try:
            yield transport
        finally:
            if previous is None:
                self._transport_overrides.pop(plugin, None)
            else:
                self._transport_overrides[plugin] = previous

    def notify_call(self, record: CallRecord) -> None:
        """Tell the call observers about a cross-plugin call."""
        for observer in self._observers:
            observer(record)

    def observe_calls(self) -> WithOnly[list[CallRecord]]:
        """Record every cross-plugin call made inside the ``with`` block.

        ``with app.host.observe_calls() as calls: ...`` then ``calls`` lists a
        :class:`~byway.client.CallRecord` per call; a bare call fails loudly (see :class:`WithOnly`).
        """
        return WithOnly("observe_calls()", self._observe_calls())

    def notify_call_result(self, record: CallRecord, result: CallResult) -> None:
        """Tell the call-result observers (metrics first) how a cross-plugin call ended."""
        for observer in self._result_observers:
            observer(record, result)

    def observe_call_results(self) -> WithOnly[list[tuple[CallRecord, CallResult]]]:
        """Record ``(call, result)`` of every cross-plugin call that ends inside the ``with`` block.

        Only in a ``with`` statement: a bare call fails loudly (see :class:`~byway.scoped.WithOnly`).
        """
        return WithOnly("observe_call_results()", self._observe_call_results())

    @contextmanager
    def _observe_call_results(self) -> Iterator[list[tuple[CallRecord, CallResult]]]:
        results: list[tuple[CallRecord, CallResult]] = []

        def observer(record: CallRecord, result: CallResult) -> None:
            results.append((record, result))

        self._result_observers.append(observer)
        try:
            yield results
        finally:
            self._result_observers.remove(observer)

    @contextmanager
    def _observe_calls(self) -> Iterator[list[CallRecord]]:
        records: list[CallRecord] = []
        self._observers.append(records.append)
        try:
            yield records
        finally:
            self._observers.remove(records.append)
