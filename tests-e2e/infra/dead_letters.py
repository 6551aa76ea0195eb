"""Dead letters on demand (distributed mode): an event of a version no consumer knows, published on
the platform's exchange, is failed, retried and dead-lettered by every consumer of its type."""

from __future__ import annotations

import uuid

import aio_pika

from atelier_common.contracts.identity import UserDeleted
from atelier_common.events import Envelope
from atelier_testing.platform import Platform


async def _publish(platform: Platform, amqp_url: str, envelope: Envelope) -> None:
    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel()
        exchange = await channel.get_exchange(platform.amqp_exchange)
        await exchange.publish(aio_pika.Message(envelope.to_bytes(), message_id=str(envelope.id), type=envelope.type,
                                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                               routing_key=envelope.type)


async def poison(platform: Platform, amqp_url: str) -> Envelope:
    """A `UserDeleted` of version 99, published: catalog (among others) dead-letters it."""
    poisoned = Envelope.wrap(UserDeleted(user_id=uuid.uuid4()), producer="identity").model_copy(update={"version": 99})
    await _publish(platform, amqp_url, poisoned)
    return poisoned
