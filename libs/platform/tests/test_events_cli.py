"""`atelier events dlq list|show|replay|drop` against the broker's dead-letter queues."""

from __future__ import annotations

import asyncio
import json
import uuid

import aio_pika
import pytest
from typer.testing import CliRunner

from atelier_common.contracts.identity import UserDeleted
from atelier_common.events import Envelope
from atelier_platform.cli import app

pytestmark = pytest.mark.infra


@pytest.fixture
def broker(amqp_url: str, monkeypatch: pytest.MonkeyPatch):
    prefix = f"cli{uuid.uuid4().hex[:8]}."
    for key, value in {"ATELIER_BUS": "rabbitmq", "ATELIER_AMQP_URL": amqp_url, "ATELIER_AMQP_QUEUE_PREFIX": prefix,
                       "ATELIER_AMQP_EXCHANGE": f"{prefix}exchange"}.items():
        monkeypatch.setenv(key, value)
    yield prefix

    async def cleanup() -> None:
        conn = await aio_pika.connect(amqp_url)
        async with conn:
            channel = await conn.channel()
            for suffix in ("", ".dlq"):
                await channel.queue_delete(f"{prefix}catalog.events{suffix}")

    asyncio.run(cleanup())


def _queue_ops(amqp_url: str, prefix: str, put: list[Envelope]) -> dict[str, int]:
    """Put these envelopes in catalog's DLQ as the bus would; return the main and DLQ depths."""

    async def run() -> dict[str, int]:
        conn = await aio_pika.connect(amqp_url)
        async with conn:
            channel = await conn.channel()
            depths = {}
            for kind, name in (("main", f"{prefix}catalog.events"), ("dlq", f"{prefix}catalog.events.dlq")):
                depths[kind] = (await channel.declare_queue(name, durable=True)).declaration_result.message_count
            for env in put:
                await channel.default_exchange.publish(aio_pika.Message(
                    env.to_bytes(), message_id=str(env.id), type=env.type,
                    headers={"x-atelier-retries": 5, "x-atelier-error": "LookupError: boom"}),
                    routing_key=f"{prefix}catalog.events.dlq")
            return depths

    return asyncio.run(run())


def test_list_show_replay_drop(amqp_url: str, broker: str) -> None:
    first, second = (Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity") for _ in range(2))
    _queue_ops(amqp_url, broker, [first, second])
    runner = CliRunner()

    listed = runner.invoke(app, ["events", "dlq", "list"])
    assert listed.exit_code == 0, listed.output
    assert "catalog\t2" in listed.output.splitlines()

    one = runner.invoke(app, ["events", "dlq", "list", "catalog"])
    rows = [json.loads(line) for line in one.output.splitlines()]
    assert [(r["id"], r["retries"], r["error"]) for r in rows] == [
        (str(first.id), 5, "LookupError: boom"), (str(second.id), 5, "LookupError: boom")]

    shown = runner.invoke(app, ["events", "dlq", "show", "catalog", str(second.id)])
    assert json.loads(shown.output)["envelope"]["data"] == second.data

    replayed = runner.invoke(app, ["events", "dlq", "replay", "catalog", str(first.id)])
    assert replayed.output.strip() == "catalog: 1 replayed"
    assert _queue_ops(amqp_url, broker, []) == {"main": 1, "dlq": 1}

    dropped = runner.invoke(app, ["events", "dlq", "drop", "catalog", "--all"])
    assert dropped.output.strip() == "catalog: 1 dropped"
    assert _queue_ops(amqp_url, broker, []) == {"main": 1, "dlq": 0}
    assert runner.invoke(app, ["events", "dlq", "show", "catalog", str(second.id)]).exit_code == 1


def test_refusals(broker: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["events", "dlq", "list", "nobody"]).exit_code == 2
    assert runner.invoke(app, ["events", "dlq", "replay", "catalog"]).exit_code == 2  # neither ids nor --all
    assert runner.invoke(app, ["events", "dlq", "drop", "catalog", "x", "--all"]).exit_code == 2


def test_the_embedded_bus_points_to_the_staff_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_BUS", "memory")
    result = CliRunner().invoke(app, ["events", "dlq", "list"])
    assert result.exit_code == 2 and "/api/v1/ops/dead-letters" in result.output
