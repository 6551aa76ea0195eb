"""`order.placed` and `order.paid` through RabbitMQ to the catalog consumer (prefetch 32, so the
two of one order run at once), published in both orders: every paid order ends committed, nothing
stays `reserved`. PostgreSQL and RabbitMQ (the distributed mode's pair)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from atelier_catalog.app import create_app
from atelier_catalog.models import Product, StockReservation
from atelier_catalog.repository import LocationRepository
from atelier_catalog.settings import CatalogSettings
from atelier_common.contracts.orders import OrderLine, OrderPlaced
from atelier_common.contracts.payments import OrderPaid
from atelier_common.events.envelope import Envelope
from atelier_common.events.rabbitmq import RabbitMQBus
from atelier_testing import poll_until
from atelier_testing.infra import delete_namespace

from ..conftest import MIGRATIONS

pytestmark = [
    pytest.mark.infra,
    pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search"),
]
ORDERS = 40


@pytest.fixture
async def cleanup_broker(amqp_url: str, namespace: str):
    yield
    await delete_namespace(amqp_url, namespace, "catalog")


async def test_placed_and_paid_racing_through_rabbitmq_all_commit(service_database, amqp_url: str, namespace: str,
                                                                  cleanup_broker, test_settings_overrides) -> None:
    settings = CatalogSettings(database_url=service_database("catalog", MIGRATIONS), bus="rabbitmq",
                               amqp_url=amqp_url, amqp_exchange=f"{namespace}exchange", amqp_queue_prefix=namespace,
                               consumer_prefetch=32, consumer_retry_delay_ms=50, reservation_sweep_seconds=0,
                               **test_settings_overrides)
    app = create_app(settings)
    publisher = RabbitMQBus(amqp_url, exchange=f"{namespace}exchange", queue_prefix=namespace)
    async with app.router.lifespan_context(app):
        db = app.state.runtime.db
        async with db.transaction() as session:
            product = Product(name="Slab", slug="slab", sku="SLAB-1", price=Decimal("10.00"), stock_quantity=ORDERS * 2)
            session.add(product)
            await session.flush()
            await LocationRepository(session).seed([(product.id, None, ORDERS * 2)])
        envelopes: list[Envelope] = []
        for n in range(ORDERS):
            order_id = uuid.uuid4()
            placed = OrderPlaced(order_id=order_id, order_number=f"ORD-{order_id.hex[:6]}", owner_id=uuid.uuid4(),
                                 lines=[OrderLine(product_id=product.id, sku="SLAB-1", kind="physical", quantity=2,
                                                  unit_price=Decimal("10.00"))])
            paid = OrderPaid(order_id=order_id, owner_id=placed.owner_id, amount=Decimal("20.00"), currency="USD",
                             payment_id=uuid.uuid4(), provider="local", lines=placed.lines)
            pair = [Envelope.wrap(placed, producer="orders"), Envelope.wrap(paid, producer="payments")]
            envelopes += pair if n % 2 else pair[::-1]  # half of the payments overtake their order
        await publisher.start()
        try:
            await publisher.publish(envelopes)
        finally:
            await publisher.stop()

        async def settled() -> dict[str, int] | None:
            async with db.read_only() as session:
                rows = (await session.exec(select(StockReservation.status, func.count())
                                           .group_by(StockReservation.status))).all()
            statuses = dict(rows)
            # Settled: a row per order and none still waiting for its payment (the two events of
            # the last order may be applied a moment apart).
            return statuses if sum(statuses.values()) == ORDERS and "reserved" not in statuses else None

        assert await poll_until(settled, timeout=60, message="every order reserved") == {"committed": ORDERS}
        async with db.read_only() as session:
            assert (await session.exec(select(Product.stock_quantity))).one() == 0
