"""The distributed mode really is distributed: one database per service, the exchange and one
durable queue per consuming service on the broker, and a separate process per role."""

from __future__ import annotations

import aio_pika
import httpx
import psycopg
import pytest

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

SERVICES = ("identity", "catalog", "cart", "orders", "payments", "generation")
CONSUMERS = ("identity", "catalog", "cart", "orders", "payments", "generation", "generation-worker", "identity-worker")


def test_one_database_per_service(distributed_platform: Platform, postgres_server_url: str) -> None:
    prefix = distributed_platform.database_prefix
    dsn = postgres_server_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(dsn) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",))}
    assert names >= {f"{prefix}{s}" for s in SERVICES}


async def test_exchange_and_one_queue_per_consuming_service(distributed_platform: Platform, amqp_url: str) -> None:
    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel()
        await channel.declare_exchange(distributed_platform.amqp_exchange, aio_pika.ExchangeType.TOPIC, passive=True)
        for consumer in CONSUMERS:
            queue = await channel.declare_queue(f"{distributed_platform.queue_prefix}{consumer}.events", passive=True)
            assert queue.declaration_result.consumer_count >= 1, consumer


def test_each_role_runs_in_its_own_process(distributed_platform: Platform) -> None:
    roles = distributed_platform.children()
    for service in SERVICES:
        assert {f"{service} api", f"{service} relay", f"{service} consumer",
                f"{service} housekeeping"} <= roles.keys(), service
    assert "generation worker" in roles and "identity worker" in roles and "gateway" in roles
    assert len(set(roles.values())) == len(roles)


async def test_an_answer_through_the_gateway_has_one_date_and_one_server_header(distributed_platform: Platform) -> None:
    # Each service's server stamps Date and Server, and so does the gateway's: the proxied answer
    # carries the gateway's alone.
    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=30) as client:
        response = await client.get("/api/v1/generation/models")
    assert response.status_code == 200
    assert len(response.headers.get_list("date")) == 1 and len(response.headers.get_list("server")) == 1
