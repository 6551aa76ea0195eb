"""The SQL statements a guest checkout costs the catalog (`-s` prints them): under load each one is
a round trip and statement-building CPU, and those after the stock UPDATE are spent holding the
row lock every checkout of that product queues on. On PostgreSQL the counts are pinned; change
them here when a path changes on purpose."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.orders import OrderLine, OrderPlaced
from atelier_common.contracts.payments import OrderPaid
from atelier_testing import ServiceHarness
from atelier_testing.statements import statements

from ..conftest import Catalog

pytestmark = pytest.mark.databases("sqlite", "postgres", why="statement counts differ by dialect")


async def test_a_guest_checkout(harness: ServiceHarness, catalog: Catalog, catalog_settings, db_backend) -> None:
    product = await catalog.product(stock_quantity=50)
    owner = uuid.uuid4()
    line = OrderLine(product_id=product["id"], sku=product["sku"], kind=product["kind"], quantity=1,
                     unit_price=Decimal(product["price"]))
    order = OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261121-AAAAAA", owner_id=owner, lines=[line])
    await harness.drain()

    with statements(harness.runtime.db, "internal lookup (orders pricing the order)") as lookup:
        response = await harness.client.post("/internal/products/lookup", json={"ids": [product["id"]]},
                                             headers={SERVICE_HEADER: catalog_settings.service_token})
        assert response.status_code == 200
    with statements(harness.runtime.db, "order.placed") as placed:
        await harness.deliver(order)
    with statements(harness.runtime.db, "order.paid") as paid:
        await harness.deliver(OrderPaid(order_id=order.order_id, owner_id=owner, amount=Decimal("10.00"),
                                        currency="USD", payment_id=uuid.uuid4(), provider="local", lines=[line]))
    with statements(harness.runtime.db, "identity.anonymous_claimed") as claimed:
        await harness.deliver(AnonymousClaimed(anon_id=owner, user_id=uuid.uuid4()))

    assert [e.type for e in harness.bus.published if e.type.startswith("stock.")] == ["stock.reserved"]
    if db_backend != "postgres":
        return
    # The inbox row, the order's lock, one read; the stock UPDATE; then the locations holding it and
    # the one location's UPDATE, the reservation with its movement and both events in one INSERT
    # (no NOTIFY: the relay runs in this process).
    after_lock = next(i for i, text in enumerate(placed) if text.startswith("UPDATE product SET stock_quantity"))
    assert (len(placed), len(placed) - after_lock - 1) == (8, 4)
    assert (len(lookup), len(paid), len(claimed)) == (2, 6, 4)
