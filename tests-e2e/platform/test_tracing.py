"""One checkout step is one trace: gateway → orders API → outbox → relay's publish → catalog's
consumer, followed through the span files every process writes (`ATELIER_OTEL_EXPORTER=file`),
in the embedded and the distributed mode; the request id travels as the events' correlation id.
Every process serves /metrics."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.journeys import poll

from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="spans in one process (embedded) or carried across processes and events (distributed)"),
]

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Ada", "last_name": "Lovelace",
           "street_address": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB",
           "phone": "+442071234567", "email": "ada@example.com"}


def read_spans(platform: Platform) -> list[dict[str, Any]]:
    spans = []
    for path in sorted(Path(platform.data_dir, "traces").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                with contextlib.suppress(ValueError):  # a line being written
                    spans.append({**json.loads(line), "file": path.name})
    return spans


def _is_root(span: dict[str, Any], known: set[str], request_id: str) -> bool:
    """The gateway's span of the request: no parent among the platform's spans (`known`; a
    caller's instrumented HTTP client may send a `traceparent` of its own)."""
    return (span["kind"] == "SERVER" and span["attributes"].get("atelier.request_id") == request_id
            and span["parent_id"] not in known)


async def test_an_order_is_one_trace_from_the_gateway_to_the_consumer(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as api:
        await _order_with_trace(api, platform)


async def _order_with_trace(api: httpx.AsyncClient, platform: Platform) -> None:
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    product = next(p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= 2)
    assert "x-anonymous-token" not in r.headers  # a public read needs no owner
    token = (await api.get("/api/v1/cart")).headers["x-anonymous-token"]  # a first visit to the cart: minted
    guest = {"X-Session-ID": token}
    r = await api.post("/api/v1/cart/items", headers=guest, json={"product_id": product["id"], "quantity": 1})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/addresses", headers=guest, json=ADDRESS)
    assert r.status_code == 201, r.text
    request_id = f"trace-{uuid.uuid4().hex}"
    r = await api.post("/api/v1/orders", headers={**guest, "X-Request-ID": request_id},
                       json={"shipping_address_id": r.json()["id"]})
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"] == request_id

    async def consumed() -> list[dict[str, Any]] | None:
        spans = read_spans(platform)
        consume = [s for s in spans if s["kind"] == "CONSUMER" and s["name"] == "process order.placed"
                   and s["attributes"].get("messaging.message.conversation_id") == request_id]
        known = {s["span_id"] for s in spans}
        gateway = [s for s in spans if _is_root(s, known, request_id)]
        # cart's consumer of order.placed may finish first; the checks below follow catalog's
        catalog = "atelier-catalog" in {c["service"] for c in consume}
        return spans if consume and gateway and catalog else None

    spans = await poll(consumed, timeout=60, message="the order.placed consumer spans and the gateway span")
    known = {s["span_id"] for s in spans}
    root = next(s for s in spans if _is_root(s, known, request_id))
    trace = [s for s in spans if s["trace_id"] == root["trace_id"]]
    by_id = {s["span_id"]: s for s in trace}
    # the gateway's and the orders API's request spans (SERVER in their own process; in the embedded
    # mode the service's is nested in the gateway's, INTERNAL)
    servers = [s for s in trace if s["attributes"].get("atelier.request_id") == request_id]
    assert len(servers) >= 2, "the gateway's span and the orders API's span, one trace"
    publish = next(s for s in trace if s["kind"] == "PRODUCER" and s["name"] == "publish order.placed")
    consume = [s for s in trace if s["kind"] == "CONSUMER" and s["name"] == "process order.placed"]
    assert consume, "the consumer continues the request's trace"
    assert all(c["parent_id"] == publish["span_id"] for c in consume)
    assert publish["attributes"]["messaging.message.conversation_id"] == request_id
    # the publish span hangs off the orders request (its span or a child of it)
    assert publish["parent_id"] in by_id
    # Each span names the service that made it, in the embedded mode's one process too (once
    # there every span said atelier-identity, the first service started).
    assert {"atelier-gateway", "atelier-orders"} <= {s["service"] for s in servers}
    assert publish["service"] == "atelier-orders"
    assert "atelier-catalog" in {c["service"] for c in consume}
    assert {s["service"] for s in trace} <= {f"atelier-{name}" for name in (
        "gateway", "identity", "catalog", "cart", "orders", "payments", "generation")}
    if platform.mode == "distributed":
        assert all(s["kind"] == "SERVER" for s in servers)
        assert publish["attributes"]["messaging.system"] == "rabbitmq"
        # orders' calls to cart and identity (`InternalApi.call`) carried the trace context on
        assert {"atelier-cart", "atelier-identity"} <= {s["service"] for s in trace if s["kind"] == "SERVER"}
        # four processes: the gateway, the orders API, the orders relay, the catalog consumer
        assert len({s["file"] for s in [*servers, publish, *consume]}) >= 4


async def test_gateway_serves_metrics_health_and_ready(api: httpx.AsyncClient) -> None:
    assert (await api.get("/health")).status_code == 200
    assert (await api.get("/ready")).status_code == 200
    r = await api.get("/metrics")
    assert r.status_code == 200 and 'service="gateway"' in r.text


def _listening_port(pid: int) -> int:
    """The TCP port process `pid` listens on: its sockets' inodes among the kernel's listeners.
    (Not its ATELIER_PROBE_PORT: a child `atelier up` forks keeps its parent's /proc/<pid>/environ.)"""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if (target := os.readlink(fd)).startswith("socket:["):
                inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            return int(fields[1].rsplit(":", 1)[1], 16)
    raise AssertionError(f"process {pid} listens on no TCP port")


async def test_every_process_role_serves_health_ready_and_metrics(distributed_platform: Platform) -> None:
    """Relay, consumer, worker and housekeeping processes answer on their probe port; service APIs on their own."""
    roles = {name: pid for name, pid in distributed_platform.children().items()
             if name.rsplit(" ", 1)[-1] in ("relay", "consumer", "worker", "housekeeping")}
    assert len(roles) == 20  # a relay, a consumer and a housekeeping process per service; the workers of
    # generation (jobs) and identity (outbound webhooks)
    ports = {name: _listening_port(pid) for name, pid in roles.items()}
    gateway_port = int(distributed_platform.url.rsplit(":", 1)[1])
    # Each role on its own port of the block `atelier up --probe-base-port` was given (the fixture: gateway + 7).
    assert sorted(ports.values()) == list(range(gateway_port + 7, gateway_port + 7 + 20))
    async with httpx.AsyncClient(timeout=10) as client:
        for name, port in ports.items():
            base = f"http://127.0.0.1:{port}"
            assert (await client.get(f"{base}/health")).json()["status"] == "ok", name

            async def ready(base: str = base) -> bool:
                return (await client.get(f"{base}/ready")).status_code == 200

            await poll(ready, timeout=30, message=f"{name} ready")
            metrics = (await client.get(f"{base}/metrics")).text
            service, role = name.split()
            if role == "relay":
                assert f'atelier_outbox_backlog{{service="{service}"}}' in metrics, name
            elif role == "housekeeping":
                async def swept(base: str = base, service: str = service) -> bool:
                    text = (await client.get(f"{base}/metrics")).text
                    return f'atelier_housekeeping_passes_total{{outcome="ok",service="{service}"}} 1.0' in text

                await poll(swept, timeout=60, message=f"{name}: a first pass without a failed sweep")
            else:
                consumer = service if role == "consumer" else f"{service}-worker"
                assert f'atelier_dlq_messages{{consumer="{consumer}"}}' in metrics, name
        for offset in range(1, 7):  # the six service APIs
            r = await client.get(f"http://127.0.0.1:{gateway_port + offset}/metrics")
            assert r.status_code == 200 and "atelier_http_requests_total" in r.text
