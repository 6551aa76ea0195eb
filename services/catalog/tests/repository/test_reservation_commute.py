"""`order.placed` and `order.paid` of one order handled at once on PostgreSQL (two consumers of a
queue with prefetch 32): the stock ends committed every time, and nothing stays `reserved`."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from atelier_catalog import sweeper
from atelier_catalog.events import SUBSCRIPTIONS
from atelier_catalog.models import Product, StockReservation
from atelier_catalog.repository import LocationRepository
from atelier_common.columns import utcnow
from atelier_common.contracts.orders import OrderLine, OrderPlaced
from atelier_common.contracts.payments import OrderPaid
from atelier_common.db import Database
from atelier_common.events.envelope import Envelope
from atelier_common.inbox import handle_once

from .test_reservation_races import CONSUMER, _setup, _stock

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search")

ROUNDS = 40


def _paid(order: OrderPlaced) -> OrderPaid:
    return OrderPaid(order_id=order.order_id, owner_id=order.owner_id, amount=Decimal("10.00"), currency="USD",
                     payment_id=uuid.uuid4(), provider="local", lines=order.lines)


async def _race(db: Database, state: object, events: list[OrderPlaced | OrderPaid]) -> None:
    """Each event delivered twice, all at once (a redelivery racing the first delivery)."""
    envelopes = {id(e): Envelope.wrap(e, producer="orders") for e in events}
    deliveries = events * 2
    barrier = asyncio.Barrier(len(deliveries))

    async def one(event: OrderPlaced | OrderPaid) -> None:
        await barrier.wait()
        await handle_once(db, CONSUMER, envelopes[id(event)], event, SUBSCRIPTIONS[type(event)], state)

    results = await asyncio.gather(*(one(e) for e in deliveries), return_exceptions=True)
    # A loser of the inbox-insert race raises, and the bus would deliver it again.
    for event, result in zip(deliveries, results, strict=True):
        if isinstance(result, BaseException):
            await handle_once(db, CONSUMER, envelopes[id(event)], event, SUBSCRIPTIONS[type(event)], state)


class TestPlacedAndPaidAtOnce:
    async def test_placed_and_paid_racing_always_end_committed(self, service_database) -> None:
        db, state, product, _ = await _setup(service_database)
        async with db.transaction() as session:
            row = await session.get(Product, product.id)
            assert row is not None
            row.stock_quantity = ROUNDS * 2
            await LocationRepository(session).change(None, product.id, None, ROUNDS * 2 - 10)
        try:
            for _ in range(ROUNDS):
                order_id = uuid.uuid4()
                order = OrderPlaced(order_id=order_id, order_number=f"ORD-{order_id.hex[:6]}",
                                    owner_id=uuid.uuid4(), lines=[OrderLine(
                                        product_id=product.id, sku=product.sku, kind="physical", quantity=2,
                                        unit_price=product.price)])
                await _race(db, state, [order, _paid(order)])

            async with db.read_only() as session:
                statuses = (await session.exec(select(StockReservation.status, func.count())
                                               .group_by(StockReservation.status))).all()
            assert dict(statuses) == {"committed": ROUNDS}
            assert await _stock(db) == (0, 10, 0)

            async with db.transaction() as session:  # half an hour later: the sweep finds nothing to return
                for reservation in (await session.exec(select(StockReservation))).all():
                    reservation.expires_at = utcnow() - timedelta(minutes=1)
            assert await sweeper.sweep(db, state) == 0  # type: ignore[arg-type]  # it reads only the settings
            assert await _stock(db) == (0, 10, 0)
        finally:
            await db.dispose()
