"""One trace across the real broker: request → outbox row → relay's publish (PRODUCER span, its
context in the AMQP headers) → another process's consume (CONSUMER span); the request id as the
event's correlation id; consumer metrics and queue depths."""

from __future__ import annotations

import uuid

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from atelier_common import outbox
from atelier_common.contracts.identity import UserDeleted
from atelier_common.db import Database
from atelier_common.inbox import EventContext, subscribe_all
from atelier_common.outbox import OutboxRelay
from atelier_common.telemetry import current_request_id, request_id_var
from atelier_testing import poll_until
from atelier_testing.spans import hex_trace, memory_spans

from .test_rabbitmq import cleanup_broker, make_bus, pg_db  # noqa: F401 (fixtures)

pytestmark = pytest.mark.infra


def _handled(consumer: str, type_: str) -> float:
    return REGISTRY.get_sample_value("atelier_events_handled_total",
                                     {"consumer": consumer, "type": type_, "outcome": "ok"}) or 0.0


async def test_request_publish_and_consume_share_one_trace_over_rabbitmq(
        amqp_url: str, namespace: str, cleanup_broker, pg_db: Database) -> None:  # noqa: F811
    spans = memory_spans()
    # two buses: the relay's process and the consumer's process
    publisher_bus, consumer_bus = make_bus(amqp_url, namespace), make_bus(amqp_url, namespace)
    seen: list[tuple[str, str | None, str | None]] = []

    async def on_user_deleted(event: UserDeleted, ctx: EventContext) -> None:
        span = trace.get_current_span().get_span_context()
        seen.append((format(span.trace_id, "032x"), current_request_id(), ctx.envelope.correlation_id))

    subscribe_all(consumer_bus, pg_db, "consumer", {UserDeleted: on_user_deleted}, context=None)
    before = _handled("consumer", UserDeleted.type)
    await consumer_bus.start()
    await publisher_bus.start()
    try:
        token = request_id_var.set("req-rmq-1")
        with trace.get_tracer("test").start_as_current_span("DELETE /api/v1/users/me",
                                                            kind=SpanKind.SERVER) as request_span:
            async with pg_db.transaction() as session:
                await outbox.add(session, UserDeleted(user_id=uuid.uuid4()))
        request_id_var.reset(token)
        assert await OutboxRelay(pg_db, publisher_bus).flush() == 1

        async def delivered() -> bool:
            return bool(seen)

        await poll_until(delivered, timeout=30, message="delivery")
        depths = await consumer_bus.queue_depths()
        assert depths["consumer"] == {"main": 0, "retry": 0, "dlq": 0}
    finally:
        await publisher_bus.stop()
        await consumer_bus.stop()

    trace_id = format(request_span.get_span_context().trace_id, "032x")
    assert seen == [(trace_id, "req-rmq-1", "req-rmq-1")]
    finished = spans.get_finished_spans()
    publish = next(s for s in finished if s.name == f"publish {UserDeleted.type}")
    process = next(s for s in finished if s.name == f"process {UserDeleted.type}")
    assert publish.kind is SpanKind.PRODUCER and process.kind is SpanKind.CONSUMER
    assert hex_trace(publish) == hex_trace(process) == trace_id
    assert publish.parent is not None and publish.parent.span_id == request_span.get_span_context().span_id
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert publish.attributes["messaging.system"] == "rabbitmq"
    assert publish.attributes["messaging.destination.name"] == f"{namespace}exchange"
    assert publish.attributes["messaging.rabbitmq.destination.routing_key"] == UserDeleted.type
    assert process.attributes["messaging.destination.name"] == f"{namespace}consumer.events"
    assert _handled("consumer", UserDeleted.type) == before + 1
