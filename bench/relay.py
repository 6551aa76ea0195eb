"""Benchmark: how many outbox rows one relay publishes per second (the capacity model's relay figure).

A fresh database with the outbox table, `--events` rows written at once, then the real
`OutboxRelay.flush` in a loop (batches of 200, publisher confirms, persistent messages routed to a
durable queue, as in production) until none is left unsent.

    uv run python -m bench.relay [--events 5000]      # prints events/s; --json for bench/all.py
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aio_pika
import psycopg

from atelier_common.columns import table_of
from atelier_common.db import Database
from atelier_common.events.envelope import Envelope
from atelier_common.events.rabbitmq import RabbitMQBus
from atelier_common.outbox import OutboxMessage, OutboxRelay
from bench import command_line


async def measure(postgres: str, amqp: str, events: int) -> dict[str, float]:
    run_id = uuid.uuid4().hex[:8]
    name = f"atelier_relay_{run_id}"
    server = postgres.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{server}/{name}".replace("postgresql://", "postgresql+psycopg://", 1), service="bench",
                  pool_size=2, max_overflow=0)
    bus = RabbitMQBus(amqp, exchange=f"atelier.events.relay{run_id}", queue_prefix=f"relay{run_id}.")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: table_of(OutboxMessage).create(sync))
        await bus.declare_topology({"bench": ["bench.published"]})  # routed to a durable queue
        await bus.start()
        async with db.transaction() as session:
            for i in range(events):
                env = Envelope(type="bench.published", producer="bench", data={"n": i, "pad": "x" * 200})
                session.add(OutboxMessage(id=env.id, type=env.type, version=env.version, producer=env.producer,
                                          occurred_at=env.occurred_at, data=env.data))
        relay = OutboxRelay(db, bus)
        started = time.perf_counter()
        sent = 0
        while (batch := await relay.flush()) > 0:
            sent += batch
        elapsed = time.perf_counter() - started
    finally:
        await bus.stop()
        await db.dispose()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn2 = await aio_pika.connect(amqp)
        async with conn2:
            channel = await conn2.channel()
            for queue in bus.queue_names("bench"):
                await channel.queue_delete(queue)
            await channel.exchange_delete(f"atelier.events.relay{run_id}")
    return {"events": sent, "seconds": elapsed, "events_per_s": sent / elapsed}


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    r = asyncio.run(measure(args.postgres, args.amqp, args.events))
    if args.json:
        print(json.dumps(r))
        return
    print(f"one relay: {r['events']} outbox rows published in {r['seconds']:.2f}s = {r['events_per_s']:.0f} events/s")


if __name__ == "__main__":
    main()
