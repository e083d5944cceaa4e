"""OpenTelemetry traces: one span per HTTP request, cross-plugin call, and database use of a resolver.

One :class:`Tracing` per :class:`~byway.host.Host`, with its own SDK ``TracerProvider`` (so tests
can attach an in-memory exporter to one app). Trace context crosses plugins as W3C
``traceparent``: in-process through the OpenTelemetry context (contextvars), over HTTP as a header
that the cross-plugin client injects and the app extracts, so one checkout is one trace across
ecommerce, teach-internal and students-internal even when they run as separate services.

Spans are exported only when configured: ``BYWAY_OTLP_ENDPOINT`` (OTLP over HTTP/protobuf, e.g.
``http://127.0.0.1:4318/v1/traces``, needs ``pip install byway[otlp]``); ``none`` by default. The
standard ``OTEL_TRACES_SAMPLER`` variables apply to exported spans. Every span carries ``byway.plugin``.

With no exporter a span records nothing (a ``NonRecordingSpan``): it still has real trace and span
ids, continues the caller's trace and is the current span, so log lines carry ``trace_id`` and
``span_id`` and ``traceparent`` crosses to other services exactly as when exporting, for about a
tenth of the cost of an SDK span (docs/performance.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping
from contextlib import AbstractContextManager
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from byway import __version__

if TYPE_CHECKING:
    from byway.settings import Settings

log = logging.getLogger("byway.tracing")

PROPAGATOR = TraceContextTextMapPropagator()

#: Attribute naming the plugin a span belongs to.
PLUGIN = "byway.plugin"

__all__ = ["PLUGIN", "Span", "SpanKind", "Tracing", "current_ids", "mark_error"]


class Tracing:
    """The tracer of one host and the exporter its settings ask for."""

    def __init__(self, settings: Settings) -> None:
        resource = Resource.create({"service.name": settings.service_name, "service.version": __version__})
        self.provider = TracerProvider(resource=resource)
        self.exporting = False
        if settings.otlp_endpoint:
            self.add_exporter(_otlp_exporter(settings.otlp_endpoint), batch=True)
        self.tracer = self.provider.get_tracer("byway", __version__)
        self._ids = self.provider.id_generator

    def add_exporter(self, exporter: SpanExporter, *, batch: bool = False) -> SpanProcessor:
        """Send finished spans to ``exporter`` (batched in a background thread, or as they end)."""
        processor: SpanProcessor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(processor)
        self.exporting = True
        return processor

    def span(
        self,
        name: str,
        plugin: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: otel_context.Context | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> AbstractContextManager[Span]:
        """A current span named ``name`` of ``plugin``; an exception escaping it marks it failed.

        Without an exporter the span records nothing but has real ids (see the module's docstring).
        """
        if not self.exporting:
            return _LightSpan(self._ids.generate_trace_id, self._ids.generate_span_id, parent)
        attrs = {PLUGIN: plugin, **(attributes or {})}
        return self.tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attrs)

    def detail_span(
        self,
        name: str,
        plugin: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
    ) -> AbstractContextManager[Span]:
        """A span for a step of a request on the hot path that logs nothing of its own (a
        cross-plugin call in-process, a reader block): :meth:`span` when spans are exported;
        otherwise no new span at all (the current one stays current and is what the block gets:
        its ids are in every log line), for nothing instead of the ~2 µs of a non-recording span.
        """
        if self.exporting:
            return self.span(name, plugin, kind=kind, attributes=attributes)
        return _CurrentSpan()

    def trace_sessions(self, plugin: str, factory: async_sessionmaker[AsyncSession]) -> None:
        """Make every ``async with plugin.sessions() as session`` block a ``db <plugin>`` span.

        (A resolver's ``ctx.session()`` block is one already: see :class:`byway.context.RequestContext`.)
        """
        tracing = self
        base: type[AsyncSession] = factory.class_
        if getattr(base, "_byway_traced", False):
            return

        class TracedSession(base):  # type: ignore[valid-type,misc]
            _byway_traced = True
            _byway_span: Any = None

            async def __aenter__(self) -> Any:
                self._byway_span = tracing.span(f"db {plugin}", plugin)
                self._byway_span.__enter__()
                return await super().__aenter__()

            async def __aexit__(self, *exc: Any) -> None:
                try:
                    await super().__aexit__(*exc)
                finally:
                    span, self._byway_span = self._byway_span, None
                    if span is not None:
                        span.__exit__(*exc)

        factory.class_ = TracedSession

    def flush(self) -> None:
        """Export every finished span now (tests, shut-down)."""
        if self.exporting:
            self.provider.force_flush()

    def shutdown(self) -> None:
        """Flush and stop the exporters (their background threads)."""
        if self.exporting:
            self.provider.shutdown()


class _CurrentSpan:
    """Context manager giving the current span, changing nothing (:meth:`Tracing.detail_span`)."""

    __slots__ = ()

    def __enter__(self) -> Span:
        return trace.get_current_span()

    def __exit__(self, *_: object) -> None:
        return None


class _LightSpan:
    """Context manager making a non-recording span with fresh ids the current span.

    It continues the parent's trace (its trace id, flags and state); a span with no parent starts
    a trace, sampled as the SDK's default sampler would.
    """

    __slots__ = ("_new_span_id", "_new_trace_id", "_parent", "_token")

    def __init__(
        self,
        new_trace_id: Callable[[], int],
        new_span_id: Callable[[], int],
        parent: otel_context.Context | None,
    ) -> None:
        self._new_trace_id = new_trace_id
        self._new_span_id = new_span_id
        self._parent = parent
        self._token: Token[otel_context.Context] | None = None

    def __enter__(self) -> Span:
        above = trace.get_current_span(self._parent).get_span_context()
        if above.is_valid:
            ids = SpanContext(above.trace_id, self._new_span_id(), False, above.trace_flags, above.trace_state)
        else:
            ids = SpanContext(self._new_trace_id(), self._new_span_id(), False, TraceFlags(TraceFlags.SAMPLED))
        span = NonRecordingSpan(ids)
        self._token = otel_context.attach(trace.set_span_in_context(span, self._parent))
        return span

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
            self._token = None


def _otlp_exporter(endpoint: str) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:  # pragma: no cover - depends on what is installed
        raise RuntimeError(
            "BYWAY_OTLP_ENDPOINT needs the OTLP exporter: pip install 'byway[otlp]' "
            "(opentelemetry-exporter-otlp-proto-http)"
        ) from exc
    return OTLPSpanExporter(endpoint=endpoint)


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current trace context to outgoing HTTP headers (``traceparent``)."""
    PROPAGATOR.inject(headers)


def extract(headers: Mapping[str, str]) -> otel_context.Context:
    """The trace context of incoming HTTP headers (an empty context when there is none)."""
    return PROPAGATOR.extract(headers)


def current_ids() -> tuple[str | None, str | None]:
    """``(trace_id, span_id)`` of the current span as hex, or ``(None, None)`` outside any span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def mark_error(span: Span, code: str) -> None:
    """Mark a span failed with a Byway error code (``byway.error.code``)."""
    span.set_attribute("byway.error.code", code)
    span.set_status(Status(StatusCode.ERROR, code))
