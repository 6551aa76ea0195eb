"""JSON logs (UTC ISO-8601 timestamps with milliseconds) that carry the trace and request ids, one
access-log line per request, and OpenTelemetry traces (exporter chosen by setting) that continue
across the event bus; with `otel_exporter = "otlp"` the traces and the Prometheus metrics go to an
OTLP/HTTP collector (the JSONL files, `"file"`, are what the embedded mode's tests read).

Every process role calls the same setup: the API processes through `instrument_app`, the
relay/consumer/worker processes through `Runtime` (`setup_tracing` is idempotent per process).
On the bus, `publish_span` wraps a publish in a PRODUCER span whose context travels in the
message headers (and the envelope's `traceparent`), `consume_span` wraps a handler in a CONSUMER
span continued from them: the messaging semantic conventions, one trace from the request to the
last consumer. The outbox stores the request's `traceparent` with the row at write time, so the
relay's publish (in another process, later) continues the request's trace.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextvars
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson
from fastapi.telemetry import TelemetryConfig
from opentelemetry import propagate, trace
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier_common import metrics
from atelier_common.settings import AtelierSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExportResult
    from sqlmodel.ext.asyncio.session import AsyncSession

    from atelier_common.events.envelope import Envelope

_configured_tracing = False
tracer = trace.get_tracer("atelier")
access_log = logging.getLogger("atelier.access")

# The request id of the request (or the correlation id of the event) being handled: logged on
# every line, sent to other services as `X-Request-ID`, stored as events' `correlation_id`.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("atelier_request_id", default=None)
# The storefront of the request being answered (its label in the access log and the request metrics).
storefront_var: contextvars.ContextVar[str] = contextvars.ContextVar("atelier_storefront", default="")
# The service doing the work (None: the process's own): its name on every log line and on the
# spans it makes. One process runs the gateway and six services in the embedded mode, so the access
# log, the event consumers and each service's start (whose background loops inherit it) set it.
service_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("atelier_service", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def current_request_id() -> str | None:
    return request_id_var.get()


def valid_request_id(value: str | None) -> str | None:
    """A caller's request id if it is a short token (it ends up in logs and event rows), else None."""
    return value if value and _REQUEST_ID.match(value) else None


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def utc_timestamp(created: float) -> str:
    """ISO-8601 in UTC with milliseconds, `2026-11-25T16:40:33.123Z`: one clock for every process
    and host, sortable as text (the local time without a zone it replaced was neither)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created * 1000) % 1000:03d}Z"


class _UtcFormatter(logging.Formatter):
    """The plain-text lines (`log_json=false`) with the same UTC timestamps."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the trace, the request id and the record's `fields` at the top
    level. Kept rather than python-json-logger: its OrjsonFormatter took 3.8 us a record against this
    one's 1.7 (process time over 50,000 access records) and would still need these three hooks."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": utc_timestamp(record.created),
            "level": record.levelname,
            "service": service_var.get() or self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            entry["trace_id"] = format(ctx.trace_id, "032x")
            entry["span_id"] = format(ctx.span_id, "016x")
        if (request_id := request_id_var.get()) is not None:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


_logging_configured = False  # once per process: the embedded mode sets up the gateway and six services


def setup_logging(settings: AtelierSettings, service: str) -> None:
    global _logging_configured
    root = logging.getLogger()
    if _logging_configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("aiormq", "aio_pika", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _logging_configured = True


class JsonLinesSpanExporter:
    """Spans as JSON lines in one file per process (`otel_exporter = "file"`): tests read the
    files of every process of the distributed mode to follow one trace."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Opened once and unbuffered: each export is one append of whole lines (a span ends per
        # export with the simple processor), not an open and a close per span.
        self._file: BinaryIO | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from opentelemetry.sdk.trace.export import SpanExportResult

        lines = []
        for span in spans:
            ctx = span.get_span_context()
            if ctx is None:
                continue
            lines.append(orjson.dumps({
                "name": span.name,
                "kind": span.kind.name,
                "service": span.resource.attributes.get("service.name"),
                "trace_id": format(ctx.trace_id, "032x"),
                "span_id": format(ctx.span_id, "016x"),
                "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
                "start": span.start_time, "end": span.end_time,
                "attributes": dict(span.attributes or {}),
            }, default=str))
        if self._file is None:
            self._file = self.path.open("ab", buffering=0)
        self._file.write(b"".join(line + b"\n" for line in lines))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def service_tracer_provider(service: str) -> Any:
    """A tracer provider whose spans each name the service that made them (`service_var`, else
    `service`): one SDK provider per service, all feeding the one pipeline of span processors, so
    in the embedded mode the orders API's spans say `atelier-orders`, not the first service's name."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.util.types import Attributes

    def resource(name: str) -> Resource:
        return Resource.create({"service.name": f"atelier-{name}"})

    class ServiceTracerProvider(TracerProvider):
        def __init__(self) -> None:
            super().__init__(resource=resource(service))
            self._services: dict[str, TracerProvider] = {}

        def of(self, name: str | None) -> TracerProvider:
            name = name or service
            found = self._services.get(name)
            if found is None:  # a race makes a spare one, never a wrong one
                found = self._services[name] = TracerProvider(
                    sampler=self.sampler, resource=resource(name), shutdown_on_exit=False,
                    active_span_processor=self._active_span_processor, id_generator=self.id_generator)
            return found

        def get_tracer(self, instrumenting_module_name: str, instrumenting_library_version: str | None = None,
                       schema_url: str | None = None, attributes: Attributes = None) -> trace.Tracer:
            scope = (instrumenting_module_name, instrumenting_library_version, schema_url, attributes)
            return _ServiceTracer(lambda name: self.of(name).get_tracer(*scope))

    return ServiceTracerProvider()


class _ServiceTracer(trace.Tracer):
    """Each span from the tracer of the service doing the work when it starts."""

    def __init__(self, tracer_of: Callable[[str | None], trace.Tracer]) -> None:
        self._tracer_of = tracer_of
        self._tracers: dict[str | None, trace.Tracer] = {}

    def _tracer(self) -> trace.Tracer:
        name = service_var.get()
        found = self._tracers.get(name)
        if found is None:
            found = self._tracers[name] = self._tracer_of(name)
        return found

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._tracer().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._tracer().start_as_current_span(*args, **kwargs)


def tracer_provider(service: str) -> Any:
    """The tracer provider whose spans name `service` (the process's own when Atelier did not
    install it: a test's in-memory exporter, the `opentelemetry-instrument` agent)."""
    provider = trace.get_tracer_provider()
    of = getattr(provider, "of", None)
    return of(service) if of is not None else provider


def setup_tracing(settings: AtelierSettings, service: str) -> bool:
    """Install a tracer provider once per process; return whether tracing is on. `service` names
    the process (`embedded` for the one of `atelier dev`): its span file, and the spans made
    outside any service's work.

    A provider installed before (a test's in-memory exporter, the `opentelemetry-instrument`
    agent) is kept: Atelier then only instruments.
    """
    global _configured_tracing
    if _configured_tracing:
        return True
    from opentelemetry.sdk.trace import TracerProvider

    existing = isinstance(trace.get_tracer_provider(), TracerProvider)
    if settings.otel_exporter == "none" and not existing:
        return False
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    if not existing:
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

        provider = service_tracer_provider(service)
        if settings.otel_exporter == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif settings.otel_exporter == "file":
            directory = settings.otel_file_dir or settings.data_dir / "traces"
            exporter = JsonLinesSpanExporter(directory / f"{service}-{os.getpid()}.jsonl")
            provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]  # our exporter is a SpanExporter by duck typing, not by base class
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = otlp_endpoint(settings.otel_endpoint, "traces")
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
            if settings.otel_metrics:
                OtlpMetricsExporter(otlp_endpoint(settings.otel_endpoint, "metrics"), service,
                                    settings.otel_metrics_interval_seconds).start()
        trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    _configured_tracing = True
    return True


def otlp_endpoint(setting: str | None, signal: str) -> str | None:
    """The OTLP/HTTP URL of `signal` (traces, metrics) from `otel_endpoint`: the collector's base URL
    (`http://collector:4318`) or, as before, its traces URL (`…/v1/traces`). None: the exporter's
    own default (OTEL_EXPORTER_OTLP_* variables, else localhost:4318)."""
    if not setting:
        return None
    base = re.sub(r"/v1/(traces|metrics|logs)/?$", "", setting.rstrip("/"))
    return f"{base}/v1/{signal}"


class OtlpMetricsExporter:
    """The process's Prometheus metrics (atelier_common.metrics), pushed as OTLP every `interval`
    seconds and once at exit: counters as monotonic cumulative sums, histograms with their buckets,
    gauges as gauges. The same series a Prometheus scrape of /metrics reads, under the same names
    (counters without `_total`, which OTLP-to-Prometheus conversion appends again). Gauges that are
    refreshed by a query at scrape time (outbox age, queue depths) are sent as last refreshed."""

    def __init__(self, endpoint: str | None, service: str, interval: float) -> None:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.resources import Resource

        self.exporter = OTLPMetricExporter(endpoint=endpoint)
        self.resource = Resource.create({"service.name": f"atelier-{service}"})
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="atelier-otlp-metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()
        atexit.register(self.shutdown)

    def shutdown(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=5)
            self.export()
            self.exporter.shutdown()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.export()

    def export(self) -> bool:
        from opentelemetry.sdk.metrics.export import MetricExportResult

        try:
            return self.exporter.export(self.collect()) is MetricExportResult.SUCCESS
        except Exception as exc:  # a collector that is down never stops the process
            logging.getLogger("atelier.telemetry").warning("OTLP metrics export failed: %s", exc)
            return False

    def collect(self) -> Any:
        from opentelemetry.sdk.metrics.export import (
            AggregationTemporality,
            Gauge,
            Histogram,
            HistogramDataPoint,
            Metric,
            MetricsData,
            NumberDataPoint,
            ResourceMetrics,
            ScopeMetrics,
            Sum,
        )
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from prometheus_client import REGISTRY

        now = time.time_ns()
        cumulative = AggregationTemporality.CUMULATIVE
        out: list[Metric] = []
        for family in REGISTRY.collect():
            if not family.name.startswith("atelier_"):
                continue  # the client library's own process and platform collectors
            series: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
            for sample in family.samples:
                labels = {k: v for k, v in sample.labels.items() if k != "le"}
                entry = series.setdefault(tuple(sorted(labels.items())), {"buckets": []})
                suffix = sample.name[len(family.name):]
                if suffix == "_bucket":
                    entry["buckets"].append((float(sample.labels["le"]), sample.value))
                else:
                    entry[suffix or "value"] = sample.value
            if family.type == "counter":
                data: Any = Sum([NumberDataPoint(dict(key), _start(e, now), now, e.get("_total", 0.0))
                                 for key, e in series.items()], cumulative, True)
            elif family.type == "histogram":
                points = []
                for key, e in series.items():
                    bounds = sorted(e["buckets"])
                    counts = [int(c - (bounds[i - 1][1] if i else 0)) for i, (_, c) in enumerate(bounds)]
                    points.append(HistogramDataPoint(
                        dict(key), _start(e, now), now, count=int(e.get("_count", 0)), sum=e.get("_sum", 0.0),
                        bucket_counts=counts, explicit_bounds=[b for b, _ in bounds if b != float("inf")],
                        min=None, max=None))  # type: ignore[arg-type]  # unknown from Prometheus buckets: left out of the message
                data = Histogram(points, cumulative)
            elif family.type == "gauge":
                data = Gauge([NumberDataPoint(dict(key), now, now, e.get("value", 0.0)) for key, e in series.items()])
            else:
                continue
            if data.data_points:
                out.append(Metric(family.name, family.documentation, family.unit or None, data))
        scope = InstrumentationScope("atelier")
        return MetricsData([ResourceMetrics(self.resource, [ScopeMetrics(scope, out, "")], "")])


def _start(series: dict[str, Any], now: int) -> int:
    created = series.get("_created")
    return int(created * 1e9) if created else now


def tracing_on() -> bool:
    """Whether `setup_tracing` set tracing up in this process (the gateway then injects the context)."""
    return _configured_tracing


# Given to every `FastAPI(telemetry=...)`: `instrument_app` is the apps' one instrumentation.
# FastAPI's native telemetry would be a second set of spans and metrics once a provider is set,
# and without one it still looks the providers up on every request (~4 µs).
FASTAPI_NATIVE_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def instrument_app(app: Any, settings: AtelierSettings, service: str,
                   route_label: Callable[[str], str | None] | None = None) -> None:
    """Access log + request id, `/metrics`, and (when tracing is on) the FastAPI spans.

    `route_label` names the metrics' `route` of a path no route of this app matched (the gateway's
    proxied paths: the owning service).
    """
    from fastapi import Response

    async def metrics_endpoint() -> Response:
        return Response(await metrics.render(), media_type=metrics.CONTENT_TYPE)

    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(AccessLogMiddleware, service=service, route_label=route_label,
                       enabled=settings.access_log)
    if setup_tracing(settings, service):
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # The app's request span starts outside its access log (which sets `service_var`): its
        # provider is named here, so the embedded mode's nested service spans name their service.
        FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready,metrics", exclude_spans=["receive", "send"],
                                           tracer_provider=tracer_provider(service))


def _token_subject(token: bytes | str | None) -> str | None:
    """The `sub` of a JWT, read without verification: for the log line only (never for access)."""
    if not token:
        return None
    try:
        raw = token.decode("latin-1") if isinstance(token, bytes) else token
        if raw[:7].lower() == "bearer ":
            raw = raw[7:]
        payload = raw.split(".")[1]
        sub = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("sub")
        return str(sub)[:100] if sub is not None else None
    except Exception:
        return None


_QUIET_PATHS = frozenset({"/health", "/ready", "/metrics", "/api/health"})
# nginx's "client closed request": the status logged and counted for a request whose caller went
# away before it was answered (not a 5xx: nothing failed on this side).
CLIENT_CLOSED_REQUEST = 499


# Labelled metric children kept per access log (routes × statuses × storefronts); past this many,
# forgotten and built again.
_MAX_CHILDREN = 4096


def _request_fields(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, bytes | None, bytes | None, bytes]:
    """The request id (a valid `X-Request-ID`), the credentials and the storefront header."""
    request_id = authorization = anon = None
    storefront = b""
    for key, value in headers:
        if key == b"x-request-id":
            request_id = valid_request_id(value.decode("latin-1"))
        elif key == b"authorization":
            authorization = value
        elif key == b"x-anonymous-token":
            anon = value
        elif key == b"x-atelier-storefront":
            storefront = value[:64]
    return request_id, authorization, anon, storefront


class AccessLogMiddleware:
    """One line per request (method, path, status, duration_ms, request id, user or anon id, trace
    id) on the `atelier.access` logger, request metrics, and the request id: taken from
    `X-Request-ID` (or made), put back in the request headers for whatever forwards them, set as
    the context's request id and returned in the response."""

    def __init__(self, app: ASGIApp, *, service: str, route_label: Callable[[str], str | None] | None = None,
                 enabled: bool = True) -> None:
        self.app = app
        self.service = service
        self.route_label = route_label
        self.enabled = enabled
        self._counted: dict[tuple[str, str, int, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id, authorization, anon, storefront = _request_fields(scope["headers"])
        if request_id is None:
            request_id = os.urandom(16).hex()  # as unique as uuid4().hex, without building a UUID
            scope = {**scope, "headers": [*(h for h in scope["headers"] if h[0] != b"x-request-id"),
                                          (b"x-request-id", request_id.encode())]}
        token = request_id_var.set(request_id)
        service_token = service_var.set(self.service)
        # The gateway resolves the storefront inside this call (`storefront_var`); a service reads
        # the slug the gateway passed on.
        storefront_token = storefront_var.set(storefront.decode("latin-1"))
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("atelier.request_id", request_id)
        status = 500  # an exception before the answer started: the error handler outside answers 500
        answered = False
        response_anon: bytes | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal status, answered, response_anon
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                # exactly one X-Request-ID: this request's (a proxied service's answer carries it too)
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
                for k, v in headers:
                    if k.lower() == b"x-anonymous-token":
                        response_anon = v
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except (asyncio.CancelledError, ClientDisconnect):
            # The caller went away before an answer started (a cancelled in-process call, a
            # closed connection): no server error, whatever the default says.
            if not answered:
                status = CLIENT_CLOSED_REQUEST
            raise
        finally:
            try:
                self._record(scope, status, time.perf_counter() - started, request_id, authorization,
                             anon or response_anon, storefront_var.get())
            finally:
                request_id_var.reset(token)
                service_var.reset(service_token)
                storefront_var.reset(storefront_token)

    def record_answer(self, scope: Scope, status: int, started: float, storefront: str,
                      read: tuple[bytes | None, bytes | None, bytes | None] | None = None) -> str:
        """What `__call__` records of an answer given without the ASGI app (the gateway's protocol
        writes its cache hits: `atelier_common.fast.protocol`); the request id the answer carries.
        `read`: the request's `X-Request-ID`, `Authorization` and `X-Anonymous-Token` (the last of
        each), when the caller has read its headers already."""
        if read is None:
            request_id, authorization, anon, _ = _request_fields(scope["headers"])
        else:
            raw_id, authorization, anon = read
            request_id = None if raw_id is None else valid_request_id(raw_id.decode("latin-1"))
        request_id = request_id or os.urandom(16).hex()
        if not self.enabled:
            self._record(scope, status, time.perf_counter() - started, request_id, authorization, anon, storefront)
            return request_id
        # What the line's formatter reads, as `__call__` sets it around a request.
        tokens = request_id_var.set(request_id), service_var.set(self.service), storefront_var.set(storefront)
        try:
            self._record(scope, status, time.perf_counter() - started, request_id, authorization, anon, storefront)
        finally:
            storefront_var.reset(tokens[2])
            service_var.reset(tokens[1])
            request_id_var.reset(tokens[0])
        return request_id

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str,
                authorization: bytes | None, anon: bytes | None, storefront: str) -> None:
        path: str = scope["path"]
        route = scope.get("route")
        label = getattr(route, "path", None) or (self.route_label(path) if self.route_label else None) or "other"
        # The labelled children, kept: `labels()` rebuilds and locks on every call (7 % of a cache hit).
        method = scope["method"]
        counted = self._counted.get((method, label, status, storefront))
        if counted is None:
            if len(self._counted) >= _MAX_CHILDREN:
                self._counted.clear()
            counted = self._counted[(method, label, status, storefront)] = metrics.HTTP_REQUESTS.labels(
                self.service, method, label, str(status), storefront)
        counted.inc()
        timed = self._timed.get((method, label))
        if timed is None:
            if len(self._timed) >= _MAX_CHILDREN:
                self._timed.clear()
            timed = self._timed[(method, label)] = metrics.HTTP_DURATION.labels(self.service, method, label)
        timed.observe(seconds)
        if not self.enabled or path in _QUIET_PATHS:
            return
        fields: dict[str, Any] = {
            "method": scope["method"], "path": path, "status": status,
            "duration_ms": round(seconds * 1000, 2), "request_id": request_id,
        }
        if storefront:
            fields["storefront"] = storefront
        if client := scope.get("client"):  # the gateway's resolved client (`trusted_proxies`)
            fields["client"] = client[0]
        user = _token_subject(authorization) if status != 401 else None
        if user is not None:
            fields["user_id"] = user
        elif (anon_id := _token_subject(anon)) is not None:
            fields["anon_id"] = anon_id
        if (trace_id := current_trace_id()) is not None:
            fields["trace_id"] = trace_id
        access_log.info("%s %s %s %.1fms", scope["method"], path, status, fields["duration_ms"],
                        extra={"fields": fields})


# --- business lines -----------------------------------------------------------------------------

_LOG_WHEN_COMMITTED = "log_when_committed"


def log_when_committed(session: AsyncSession, logger: logging.Logger, message: str, *args: object,
                       **fields: object) -> None:
    """Log `message % args` at INFO once (and if) `session`'s transaction commits: the business
    line of a state change (an order placed, paid, refunded) never tells of what a rollback took
    back. `fields` go on the JSON line (`order_number`, `storefront`, ...), so a log search finds
    them. Every service process registers `log_committed` (`service.Runtime`)."""
    session.info.setdefault(_LOG_WHEN_COMMITTED, []).append((logger, message, args, fields))


async def log_committed(info: dict[str, Any]) -> None:
    """`Database.on_session_commit` hook: write the lines the committed transaction noted."""
    for logger, message, args, fields in info.pop(_LOG_WHEN_COMMITTED, ()):
        logger.info(message, *args, extra={"fields": fields})


@contextmanager
def client_span(method: str, url: str) -> Iterator[tuple[list[tuple[bytes, bytes]], Callable[[int], None]]]:
    """A CLIENT span around a call to another service over the platform's own HTTP client
    (`InternalApi`), as `HTTPXClientInstrumentor` makes for httpx's: yields the headers that carry
    the trace context on and a function that records the answer's status. Tracing off: neither."""
    if not _configured_tracing:
        yield [], _no_status
        return
    with tracer.start_as_current_span(method, kind=trace.SpanKind.CLIENT,
                                      attributes={"http.request.method": method, "url.full": url}) as span:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield ([(name.encode(), value.encode("latin-1")) for name, value in carrier.items()],
               lambda status: span.set_attribute("http.response.status_code", status))


def _no_status(_status: int) -> None:
    return None


# --- the event bus ------------------------------------------------------------------------------

def _parent_of(env: Envelope, headers: Mapping[str, Any] | None = None) -> Any:
    carrier = {k: v for k, v in (headers or {}).items() if isinstance(v, str)}
    if "traceparent" not in carrier and env.traceparent:
        carrier["traceparent"] = env.traceparent
    return propagate.extract(carrier) if "traceparent" in carrier else None


@contextmanager
def publish_span(env: Envelope, *, system: str, destination: str) -> Iterator[dict[str, str]]:
    """A PRODUCER span around publishing `env`, child of the trace the envelope was written in
    (the outbox row's `traceparent`) or of the current one; yields the headers that carry it."""
    with tracer.start_as_current_span(
        f"publish {env.type}", context=_parent_of(env), kind=trace.SpanKind.PRODUCER,
        attributes={
            "messaging.system": system,
            "messaging.operation.type": "send",
            "messaging.operation.name": "publish",
            "messaging.destination.name": destination,
            "messaging.rabbitmq.destination.routing_key": env.type,
            "messaging.message.id": str(env.id),
            "messaging.message.conversation_id": env.correlation_id or "",
            "atelier.event.type": env.type,
            "atelier.event.producer": env.producer,
        },
    ):
        headers: dict[str, str] = {}
        propagate.inject(headers)
        metrics.EVENTS_PUBLISHED.labels(env.producer, env.type).inc()
        yield headers


def consumer_service(consumer: str) -> str:
    """The service a consumer belongs to: consumers are named `<service>` or `<service>-<what>`
    (`orders`, `generation-worker`, `catalog-storefronts`, `gateway-storefronts`)."""
    return consumer.split("-", 1)[0]


@contextmanager
def consume_span(env: Envelope, headers: Mapping[str, Any] | None, *, system: str, destination: str,
                 consumer: str) -> Iterator[None]:
    """A CONSUMER span around handling `env`, continued from the producer's context; the event's
    `correlation_id` becomes the request id of whatever the handler logs or publishes."""
    token = request_id_var.set(env.correlation_id)
    service_token = service_var.set(consumer_service(consumer))
    started = time.perf_counter()
    metrics.EVENT_LAG.labels(consumer).observe(max(0.0, time.time() - env.occurred_at.timestamp()))
    outcome = "ok"
    try:
        with tracer.start_as_current_span(
            f"process {env.type}", context=_parent_of(env, headers), kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": system,
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.destination.name": destination,
                "messaging.consumer.group.name": consumer,
                "messaging.message.id": str(env.id),
                "messaging.message.conversation_id": env.correlation_id or "",
                "atelier.event.type": env.type,
            },
        ):
            yield
    except BaseException:
        outcome = "error"
        raise
    finally:
        metrics.EVENTS_HANDLED.labels(consumer, env.type, outcome).inc()
        metrics.EVENT_HANDLE_SECONDS.labels(consumer, env.type).observe(time.perf_counter() - started)
        request_id_var.reset(token)
        service_var.reset(service_token)


async def forward_request_id(request: Any) -> None:
    """httpx request hook: calls to other services carry the current request id."""
    if (request_id := request_id_var.get()) is not None and "x-request-id" not in request.headers:
        request.headers["x-request-id"] = request_id
