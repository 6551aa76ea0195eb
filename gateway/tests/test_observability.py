"""The gateway's access log, request id, `/metrics`, `/health`, `/ready` and trace propagation."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from atelier_common.telemetry import _token_subject
from atelier_testing.gateway import Gateway
from atelier_testing.spans import hex_trace, memory_spans


async def test_request_id_is_made_forwarded_returned_and_logged(gateway: Gateway,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="atelier.access"):
        r = await gateway.client.get("/api/v1/cart")
    assert r.status_code == 200
    request_id = r.headers["x-request-id"]
    assert r.json()["headers"]["x-request-id"] == request_id  # the service got the same id
    records = [rec for rec in caplog.records if rec.name == "atelier.access"]
    assert len(records) == 1
    fields = records[0].fields  # type: ignore[attr-defined]  # the access log's structured fields, set as an extra on the record
    assert fields["method"] == "GET" and fields["path"] == "/api/v1/cart" and fields["status"] == 200
    assert fields["request_id"] == request_id
    # a first visit: the anonymous id is the one minted for it
    assert fields["anon_id"] == _token_subject(r.headers["x-anonymous-token"])


async def test_callers_request_id_is_kept(gateway: Gateway) -> None:
    r = await gateway.client.get("/api/v1/products", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert r.json()["headers"]["x-request-id"] == "abc-123"
    assert r.headers.get_list("x-request-id") == ["abc-123"]  # once, not twice


async def test_user_id_of_a_bearer_caller_is_logged(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    user = uuid.uuid4()
    with caplog.at_level(logging.INFO, logger="atelier.access"):
        r = await gateway.client.get("/api/v1/cart", headers=gateway.keys.user_headers(user))
    assert r.status_code == 200
    fields = next(rec for rec in caplog.records if rec.name == "atelier.access").fields  # type: ignore[attr-defined]  # the access log's structured fields, set as an extra on the record
    assert fields["user_id"] == str(user) and "anon_id" not in fields


async def test_metrics_health_and_ready(gateway: Gateway) -> None:
    await gateway.client.get("/api/v1/cart")
    r = await gateway.client.get("/metrics")
    assert r.status_code == 200
    assert 'atelier_http_requests_total{method="GET",route="cart",service="gateway",status="200",storefront="default"}' in r.text
    assert (await gateway.client.get("/health")).json() == {"status": "ok", "pid": os.getpid()}
    r = await gateway.client.get("/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"broker": "ok"}


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return memory_spans()  # before the gateway is built: it then traces into memory


async def test_trace_context_goes_to_the_service(spans: InMemorySpanExporter, gateway: Gateway) -> None:
    with trace.get_tracer("test").start_as_current_span("client") as client_span:
        r = await gateway.client.get("/api/v1/cart", headers=_traceparent())
    forwarded = r.json()["headers"]["traceparent"]
    trace_id = format(client_span.get_span_context().trace_id, "032x")
    assert forwarded.split("-")[1] == trace_id  # the caller's trace continues at the service
    # The gateway's own background load of the storefronts (`/internal/storefronts`) is a trace of its own.
    server = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER
              and not str((s.attributes or {}).get("url.path", "")).startswith("/internal/")]
    assert server and {hex_trace(s) for s in server} == {trace_id}


def _traceparent() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier

