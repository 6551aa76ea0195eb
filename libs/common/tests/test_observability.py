"""Traces across the bus, the access log and request id, `/metrics`, and the probe listener of the
processes without an API (in-process: SQLite, and PostgreSQL when set; the in-memory bus)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.trace import SpanKind

import atelier_cart
from atelier_common import outbox
from atelier_common.contracts.identity import UserDeleted
from atelier_common.db import Database
from atelier_common.events import Envelope
from atelier_common.outbox import OutboxRelay
from atelier_common.service import Runtime, ServiceSpec
from atelier_common.settings import AtelierSettings
from atelier_common.telemetry import (
    JsonFormatter,
    current_request_id,
    instrument_app,
    log_committed,
    log_when_committed,
    request_id_var,
    service_tracer_provider,
    service_var,
)
from atelier_testing import RecordingBus
from atelier_testing.spans import hex_trace, memory_spans

pytestmark = pytest.mark.databases("sqlite", "postgres", why="statement spans and pool metrics of each driver")

MIGRATIONS = Path(atelier_cart.__file__).parent / "migrations"


@pytest.fixture
def db(open_database) -> Database:
    return open_database("cart", MIGRATIONS)


def fake_jwt(sub: str) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part({'sub': sub})}.sig"


class TestTraceAcrossTheBus:
    async def test_outbox_row_carries_the_request_trace_to_publish_and_consume(self, db: Database) -> None:
        spans = memory_spans()
        bus = RecordingBus()
        seen: list[tuple[str | None, str | None]] = []

        async def handler(env: Envelope) -> None:
            ctx = trace.get_current_span().get_span_context()
            seen.append((format(ctx.trace_id, "032x"), current_request_id()))

        bus.subscribe("consumer", [UserDeleted.type], handler)
        await bus.start()
        try:
            token = request_id_var.set("req-42")
            with trace.get_tracer("test").start_as_current_span("POST /api/v1/users/me") as request_span:
                async with db.transaction() as session:
                    await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
            request_id_var.reset(token)
            # The relay publishes later, outside the request: the row's context links them.
            assert await OutboxRelay(db, bus).flush() == 1
            await bus.drain()
        finally:
            await bus.stop()

        trace_id = format(request_span.get_span_context().trace_id, "032x")
        assert bus.published[0].correlation_id == "req-42"
        assert seen == [(trace_id, "req-42")]  # the handler runs in the trace, with the correlation id
        by_name = {s.name: s for s in spans.get_finished_spans()}
        publish, process = by_name[f"publish {UserDeleted.type}"], by_name[f"process {UserDeleted.type}"]
        assert publish.kind is SpanKind.PRODUCER and process.kind is SpanKind.CONSUMER
        assert {hex_trace(publish), hex_trace(process)} == {trace_id}
        assert publish.parent is not None and publish.parent.span_id == request_span.get_span_context().span_id
        assert process.parent is not None and process.parent.span_id == publish.context.span_id
        assert publish.attributes["messaging.system"] == "memory"
        assert publish.attributes["messaging.operation.type"] == "send"
        assert process.attributes["messaging.operation.type"] == "process"
        assert process.attributes["messaging.consumer.group.name"] == "consumer"
        assert process.attributes["messaging.message.id"] == str(bus.published[0].id)


def small_app(settings: AtelierSettings) -> FastAPI:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict:
        return {"request_id": current_request_id()}

    instrument_app(app, settings, "things")
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    memory_spans()
    app = small_app(AtelierSettings(environment="test"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


class TestAccessLog:
    async def test_one_line_per_request_with_ids(self, client: httpx.AsyncClient,
                                                 caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.INFO, logger="atelier.access"):
            r = await client.get("/things/7", headers={"X-Request-ID": "req-7",
                                                      "Authorization": f"Bearer {fake_jwt('user-1')}"})
        assert r.status_code == 200
        assert r.headers["x-request-id"] == "req-7" and r.json() == {"request_id": "req-7"}
        records = [rec for rec in caplog.records if rec.name == "atelier.access"]
        assert len(records) == 1
        fields = records[0].fields  # type: ignore[attr-defined]  # the access log's structured fields, set as an extra on the record
        assert fields["method"] == "GET" and fields["path"] == "/things/7" and fields["status"] == 200
        assert fields["request_id"] == "req-7" and fields["user_id"] == "user-1"
        assert isinstance(fields["duration_ms"], float)
        assert len(fields["trace_id"]) == 32
        line = orjson.loads(JsonFormatter("things").format(records[0]))
        assert {"method", "path", "status", "duration_ms", "request_id", "user_id", "trace_id"} <= line.keys()

    async def test_anonymous_caller_and_a_made_request_id(self, client: httpx.AsyncClient,
                                                          caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.INFO, logger="atelier.access"):
            r = await client.get("/things/8", headers={"X-Anonymous-Token": fake_jwt("anon-9"),
                                                      "X-Request-ID": "not a valid id!"})
        made = r.headers["x-request-id"]
        assert made != "not a valid id!" and len(made) == 32 and r.json() == {"request_id": made}
        fields = next(rec for rec in caplog.records if rec.name == "atelier.access").fields  # type: ignore[attr-defined]  # the access log's structured fields, set as an extra on the record
        assert fields["anon_id"] == "anon-9" and "user_id" not in fields and fields["request_id"] == made

    async def test_a_call_cancelled_before_its_answer_is_a_499_not_a_500(self, caplog: pytest.LogCaptureFixture) -> None:
        # In one process a service's internal call runs the callee in the caller's task: a caller
        # that gives up (orders dropping its address look-up once the cart is empty) cancels it.
        app, started = FastAPI(), asyncio.Event()

        @app.get("/internal/addresses/{address_id}")
        async def address(address_id: str) -> dict:
            started.set()
            await asyncio.Event().wait()  # the callee is still working when its caller gives up
            return {}

        instrument_app(app, AtelierSettings(environment="test"), "callee")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://callee") as callee:
            with caplog.at_level(logging.INFO, logger="atelier.access"):
                call = asyncio.create_task(callee.get("/internal/addresses/a1"))
                await started.wait()
                call.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await call
            metrics = (await callee.get("/metrics")).text
        [record] = [rec for rec in caplog.records if rec.name == "atelier.access"]
        assert record.fields["status"] == 499  # type: ignore[attr-defined]  # the access log's structured fields, set as an extra on the record
        assert 'route="/internal/addresses/{address_id}",service="callee",status="499"' in metrics
        assert 'service="callee",status="500"' not in metrics

    async def test_metrics_count_requests_by_route_template(self, client: httpx.AsyncClient) -> None:
        await client.get("/things/1")
        await client.get("/nowhere")
        r = await client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
        assert 'atelier_http_requests_total{method="GET",route="/things/{thing_id}",service="things",status="200",storefront=""}' in text
        assert 'atelier_http_requests_total{method="GET",route="other",service="things",status="404",storefront=""}' in text
        assert "atelier_http_request_duration_seconds_bucket" in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestProbeListener:
    async def test_relay_and_consumer_process_serves_health_ready_and_metrics(self, service_database,
                                                                              tmp_path: Path) -> None:
        url = service_database("cart", MIGRATIONS)
        settings = AtelierSettings(environment="test", data_dir=tmp_path, database_url=url, probe_port=free_port(),
                                   probe_host="127.0.0.1", auto_migrate=False)
        runtime = Runtime(ServiceSpec(name="cart", migrations=MIGRATIONS), settings,
                          roles=frozenset({"relay", "consumer"}))
        await runtime.start()
        try:
            assert runtime.observability is not None and runtime.observability.port == settings.probe_port
            base = f"http://127.0.0.1:{settings.probe_port}"
            async with httpx.AsyncClient(base_url=base) as probe:
                r = await probe.get("/health")
                assert r.status_code == 200 and r.json()["status"] == "ok"
                r = await probe.get("/ready")
                assert r.status_code == 200 and r.json()["checks"] == {"db": "ok", "broker": "ok"}
                r = await probe.get("/metrics")
                assert r.status_code == 200
                assert 'atelier_outbox_backlog{service="cart"} 0.0' in r.text
                assert "atelier_outbox_oldest_age_seconds" in r.text
                assert (await probe.get("/nope")).status_code == 404
        finally:
            await runtime.stop()
        assert runtime.observability.server is None  # closed with the runtime

    async def test_no_listener_by_default_nor_in_the_api_process(self, service_database, tmp_path: Path) -> None:
        url = service_database("cart", MIGRATIONS)
        for roles, port in ((frozenset({"relay"}), 0), (frozenset({"api", "relay"}), free_port())):
            settings = AtelierSettings(environment="test", data_dir=tmp_path, database_url=url, probe_port=port,
                                       auto_migrate=False)
            runtime = Runtime(ServiceSpec(name="cart"), settings, roles=roles)
            await runtime.start()
            try:
                assert runtime.observability is not None and runtime.observability.server is None
            finally:
                await runtime.stop()

    async def test_outbox_backlog_and_age_before_the_relay_runs(self, db: Database) -> None:
        async with db.transaction() as session:
            await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
        count, age = await OutboxRelay(db, RecordingBus()).backlog()
        assert count == 1 and 0 <= age < 60


async def test_calls_to_other_services_carry_the_request_id(service_database, tmp_path: Path) -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-request-id"))
        return httpx.Response(200, json={})

    settings = AtelierSettings(environment="test", data_dir=tmp_path,
                               database_url=service_database("cart", MIGRATIONS), auto_migrate=False)
    runtime = Runtime(ServiceSpec(name="cart"), settings, roles=frozenset({"api"}),
                      http_mounts={"http://orders.internal": httpx.MockTransport(answer)})
    await runtime.start()
    try:
        token = request_id_var.set("req-internal")
        await runtime.http.get("http://orders.internal/internal/orders/1")
        request_id_var.reset(token)
        await runtime.http.get("http://orders.internal/internal/orders/2")
    finally:
        await runtime.stop()
    assert seen == ["req-internal", None]


@contextlib.contextmanager
def written(process: str) -> Iterator[list[dict]]:
    """The JSON lines of the `atelier.*` loggers as a process named `process` writes them (each
    formatted when it is logged, as the process's stream handler does)."""
    lines: list[dict] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name.startswith("atelier."):
                lines.append(orjson.loads(self.format(record)))

    handler = Lines()
    handler.setFormatter(JsonFormatter(process))
    logging.getLogger().addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger().removeHandler(handler)


class TestTheServiceThatDidTheWork:
    """The embedded mode runs the gateway and six services in one process: each log line and span
    names the one that did the work, not the mode."""

    async def test_each_hop_of_a_call_writes_its_own_line_under_its_own_name(
            self, caplog: pytest.LogCaptureFixture) -> None:
        inner = FastAPI()

        @inner.get("/orders")
        async def orders() -> dict:
            logging.getLogger("atelier.orders").info("order placed")
            return {}

        instrument_app(inner, AtelierSettings(environment="test"), "orders")
        outer = FastAPI()

        @outer.get("/api/orders")
        async def forward() -> dict:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=inner), base_url="http://orders") as call:
                return (await call.get("/orders", headers={"X-Request-ID": current_request_id() or ""})).json()

        instrument_app(outer, AtelierSettings(environment="test"), "gateway")
        with caplog.at_level(logging.INFO), written("embedded") as lines:  # the embedded process's one formatter
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=outer), base_url="http://edge") as client:
                assert (await client.get("/api/orders", headers={"X-Request-ID": "req-51"})).status_code == 200
        assert [(line["logger"], line["service"]) for line in lines] == [
            ("atelier.orders", "orders"), ("atelier.access", "orders"), ("atelier.access", "gateway")]
        assert {line["request_id"] for line in lines} == {"req-51"}
        assert service_var.get() is None  # nothing leaks past the call

    async def test_a_consumer_logs_as_its_service(self, caplog: pytest.LogCaptureFixture) -> None:
        bus = RecordingBus()
        heard: list[str | None] = []

        async def handler(env: Envelope) -> None:
            heard.append(service_var.get())
            logging.getLogger("atelier.test").info("heard %s", env.type)

        bus.subscribe("generation-worker", [UserDeleted.type], handler)
        await bus.start()
        try:
            with caplog.at_level(logging.INFO, logger="atelier.test"), written("embedded") as lines:
                await bus.publish([Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity")])
                await bus.drain()
        finally:
            await bus.stop()
        assert heard == ["generation"]
        assert [line["service"] for line in lines if line["logger"] == "atelier.test"] == ["generation"]

    def test_each_span_names_the_service_it_was_made_for(self) -> None:
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        provider = service_tracer_provider("embedded")  # not installed: this test's own
        exported = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exported))
        tracer = provider.get_tracer("atelier")
        with tracer.start_as_current_span("setup"):
            pass
        token = service_var.set("orders")
        try:
            with tracer.start_as_current_span("publish order.placed"):
                provider.of("catalog").get_tracer("fastapi").start_span("GET /internal/products").end()
        finally:
            service_var.reset(token)
        services = {span.name: span.resource.attributes["service.name"] for span in exported.get_finished_spans()}
        assert services == {"setup": "atelier-embedded", "publish order.placed": "atelier-orders",
                            "GET /internal/products": "atelier-catalog"}


class TestBusinessLines:
    async def test_a_line_is_written_when_its_transaction_commits_and_never_for_a_rollback(
            self, db: Database, caplog: pytest.LogCaptureFixture) -> None:
        db.on_session_commit(log_committed)
        business = logging.getLogger("atelier.orders")
        with caplog.at_level(logging.INFO, logger="atelier.orders"):
            async with db.transaction() as session:
                log_when_committed(session, business, "order %s placed", "ORD-1", order_number="ORD-1")
                assert not caplog.records  # not before the commit
            with pytest.raises(RuntimeError):
                async with db.transaction() as session:
                    log_when_committed(session, business, "order %s placed", "ORD-2", order_number="ORD-2")
                    raise RuntimeError("rolled back")
        assert [(rec.getMessage(), rec.levelname) for rec in caplog.records] == [("order ORD-1 placed", "INFO")]
        assert orjson.loads(JsonFormatter("orders").format(caplog.records[0]))["order_number"] == "ORD-1"
