"""Scale-out, shown: 1 vs 2 processes of one role on this machine, the throughput ratio measured.

- API: `GET /api/v1/products?limit=20` straight at catalog's port with `--workers catalog=1`, then
  with `catalog=2` (a fresh platform each), load from a second process (wrk when installed, else
  bench/load.py).
- Consumers: N `catalog.product_changed` events for N new products published at once to the
  exchange, timed until cart's inbox holds all N (cart's read-model applied them), with one cart
  consumer process, then with a second one competing on the same queue (the inbox still applies
  each event once: the count of read-model rows is checked).

    uv run python -m bench.scale_out [--seconds 15] [--events 3000]

Figures and ratios only, no assertion. On 2 cores the ceiling of any ratio is well under 2: the
load generator, PostgreSQL and the other processes share the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import aio_pika
import psycopg

from atelier_common.contracts.catalog import ProductChanged
from atelier_common.events import Envelope
from atelier_testing.platform import wait_healthy
from bench import command_line
from bench.gateway_overhead import python_load
from bench.own_platform import Run
from bench.wrk import wrk

if TYPE_CHECKING:
    from atelier_platform.processes import Topology


@contextmanager
def platform(args: argparse.Namespace, catalog_workers: int) -> Iterator[tuple[Topology, Run]]:
    trial = Run.new("scale")
    topology = trial.topology(args.postgres, args.amqp, split=True, api_workers={"catalog": catalog_workers}, env={
        "ATELIER_CATALOG_SEED_DEMO_DATA": "true", "ATELIER_ACCESS_LOG": "false",
        "ATELIER_GATEWAY_RATE_LIMIT_DEFAULT": "1000000000/hour",
        "ATELIER_GATEWAY_RATE_LIMIT_PER_IP": "1000000000/hour"})
    topology.prepare()
    topology.start()
    with trial.cleanup(args.postgres, args.amqp, topology):
        wait_healthy(trial.url, topology.children[-1][1], 240)
        yield topology, trial


def api_figures(args: argparse.Namespace) -> dict[int, dict[str, float]]:
    load = wrk if shutil.which("wrk") else python_load
    out = {}
    for workers in (1, 2):
        with platform(args, workers) as (topology, _trial):
            url = topology.service_urls()["catalog"] + "/api/v1/products?limit=20"
            load(url, 3, args.concurrency, {})  # warm up
            out[workers] = load(url, args.seconds, args.concurrency, {})
    return out


async def _publish(amqp: str, exchange: str, count: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """`count` events for as many new products; returns (event ids, product ids)."""
    ids = [uuid.uuid4() for _ in range(count)]
    event_ids = []
    conn = await aio_pika.connect(amqp)
    async with conn:
        channel = await conn.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange)
        messages = []
        for n, product_id in enumerate(ids):
            event = ProductChanged(product_id=product_id, name=f"Scale slab {n}", sku=f"SCALE-{product_id.hex[:10]}",
                                   kind="physical", price=Decimal("25.00"), currency="USD", stock_quantity=10,
                                   is_active=True)
            env = Envelope.wrap(event, producer="catalog")
            event_ids.append(env.id)
            messages.append(aio_pika.Message(env.to_bytes(), message_id=str(env.id), type=env.type,
                                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT))
        # Confirms awaited 500 at a time: one at a time, the publisher (a few ms per persisted
        # message) and not the consumers would set the pace being measured.
        for start in range(0, len(messages), 500):
            await asyncio.gather(*(target.publish(m, routing_key=ProductChanged.type)
                                   for m in messages[start:start + 500]))
    return event_ids, ids


def _count(dsn: str, sql: str, ids: list[uuid.UUID]) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(sql, (ids,)).fetchone()  # type: ignore[arg-type]  # fixed statements
        return int(row[0]) if row else 0


APPLIED = "SELECT count(*) FROM inbox WHERE consumer = 'cart' AND event_id = ANY(%s)"
PRODUCTS = "SELECT count(*) FROM cart_product WHERE product_id = ANY(%s)"


async def _queue_consumers(amqp: str, queue: str) -> int:
    conn = await aio_pika.connect(amqp)
    async with conn:
        channel = await conn.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.consumer_count or 0


def consumer_figures(args: argparse.Namespace) -> dict[int, float]:
    out = {}
    with platform(args, 1) as (topology, trial):
        dsn = f"{args.postgres.rstrip('/')}/{trial.prefix}cart"
        queue = f"{trial.queues}cart.events"
        command, child_env = topology._launch["cart-consumer"]  # set by Topology.start(); the bench restarts one child by hand
        extra: subprocess.Popen[bytes] | None = None
        try:
            for consumers in (1, 2):
                if consumers == 2:
                    extra = subprocess.Popen(command, env=child_env)
                    while asyncio.run(_queue_consumers(args.amqp, queue)) < 2:
                        time.sleep(0.2)  # the second consumer registered before the timing starts
                started = time.perf_counter()
                events, products = asyncio.run(_publish(args.amqp, trial.exchange, args.events))
                while _count(dsn, APPLIED, events) < args.events:
                    time.sleep(0.05)
                out[consumers] = args.events / (time.perf_counter() - started)
                added = _count(dsn, PRODUCTS, products)
                if added != args.events:
                    print(f"!! {consumers} consumer(s): {added} read-model rows for {args.events} events")
        finally:
            if extra is not None:
                extra.terminate()
                extra.wait(30)
    return out


def main() -> None:
    parser = command_line(__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--only", choices=["api", "consumers"])
    args = parser.parse_args()

    if args.only != "consumers":
        api = api_figures(args)
        for workers, figures in api.items():
            print(f"catalog API, {workers} process(es): {figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                  f"p99 {figures['p99_ms']:.1f} ms, errors {figures['errors']}")
        print(f"catalog API 2 vs 1 processes: ×{api[2]['rps'] / api[1]['rps']:.2f} req/s")
    if args.only != "api":
        events = consumer_figures(args)
        for consumers, rate in events.items():
            print(f"cart consumers, {consumers} process(es) on one queue: {rate:.0f} events/s ({args.events} events)")
        print(f"cart consumers 2 vs 1: ×{events[2] / events[1]:.2f} events/s")


if __name__ == "__main__":
    main()
