"""A platform's leftovers on the shared servers are deleted (`delete_queues`, `delete_redis_keys`)
also when it is stopped from inside an event loop, where `asyncio.run` refuses to start: an async
test's second platform (`test_backup_restore`) left its queues and keys behind."""

from __future__ import annotations

import uuid

import aio_pika
import coredis
import pytest

from atelier_common.events.rabbitmq import consumer_queues
from atelier_testing.platform import _RETRY_DEFAULTS, delete_queues, delete_redis_keys

pytestmark = pytest.mark.infra


async def test_redis_keys_go_when_called_inside_an_event_loop(redis_url: str) -> None:
    prefix = f"cleanup{uuid.uuid4().hex[:8]}:"
    client = coredis.Redis.from_url(redis_url)
    await client.set(f"{prefix}a", "1")
    await client.set(f"{prefix}b", "2")
    await client.set(f"other{prefix}", "3")  # another prefix: kept

    delete_redis_keys(redis_url, prefix)

    assert [key async for key in client.scan_iter(match=f"{prefix}*")] == []
    assert await client.get(f"other{prefix}") == b"3"
    await client.delete([f"other{prefix}"])


async def test_queues_and_exchange_go_when_called_inside_an_event_loop(amqp_url: str) -> None:
    run = uuid.uuid4().hex[:8]
    prefix, exchange = f"cleanup{run}.", f"atelier.events.cleanup{run}"
    names = consumer_queues(prefix, "cart", max_retries=_RETRY_DEFAULTS.consumer_max_retries,
                            retry_delay_ms=_RETRY_DEFAULTS.consumer_retry_delay_ms)
    async with await aio_pika.connect(amqp_url) as conn:
        channel = await conn.channel()
        await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC)
        await channel.declare_queue(names[0])

    delete_queues(amqp_url, prefix, exchange)

    async with await aio_pika.connect(amqp_url) as conn:
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
            await (await conn.channel()).declare_queue(names[0], passive=True)
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
            await (await conn.channel()).declare_exchange(exchange, passive=True)
