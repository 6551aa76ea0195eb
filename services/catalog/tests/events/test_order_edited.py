"""order.edited: the units an edit removed go back in stock once, and the order's reservation holds
that many fewer, so that a later cancellation gives back only the rest."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.orders import OrderCancelled, OrderEdited, OrderEditLine, OrderLine, OrderPlaced
from atelier_testing import ServiceHarness

from ..conftest import Catalog
from .test_reservations import stock

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def _placed(order_id: uuid.UUID, product: dict[str, Any], quantity: int) -> OrderPlaced:
    return OrderPlaced(order_id=order_id, order_number="ORD-20261126-EDIT01", owner_id=uuid.uuid4(),
                       lines=[OrderLine(product_id=product["id"], sku=product["sku"], kind="physical",
                                        quantity=quantity, unit_price=Decimal("10.00"))],
                       currency="USD", total_amount=Decimal("10.00") * quantity)


def _edited(order_id: uuid.UUID, product: dict[str, Any], old: int, new: int) -> OrderEdited:
    return OrderEdited(edit_id=uuid.uuid4(), edit_version=1, order_id=order_id, order_number="ORD-20261126-EDIT01",
                       owner_id=uuid.uuid4(), reason="Customer asked", old_total=Decimal("30.00"),
                       new_total=Decimal("10.00"), refund=Decimal("20.00"), currency="USD",
                       lines=[OrderEditLine(order_item_id=uuid.uuid4(), product_id=product["id"], sku=product["sku"],
                                            old_quantity=old, new_quantity=new)])


class TestEditRelease:
    async def test_removed_units_come_back_once_and_a_cancellation_gives_back_only_the_rest(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        lamp = await catalog.product(stock_quantity=10)
        order_id = uuid.uuid4()
        await harness.deliver(_placed(order_id, lamp, 3), producer="orders")
        assert await stock(harness, lamp) == 7
        event = _edited(order_id, lamp, 3, 1)
        envelope = await harness.deliver(event, producer="orders")
        await harness.deliver(event, producer="orders", envelope_id=envelope.id)  # redelivered
        assert await stock(harness, lamp) == 9
        await harness.deliver(OrderCancelled(order_id=order_id, owner_id=uuid.uuid4()), producer="orders")
        assert await stock(harness, lamp) == 10  # the one unit left, not three
        assert harness.bus.dead_letters == []

    async def test_a_removed_line_releases_its_row(self, harness: ServiceHarness, catalog: Catalog) -> None:
        lamp = await catalog.product(stock_quantity=5)
        order_id = uuid.uuid4()
        await harness.deliver(_placed(order_id, lamp, 2), producer="orders")
        await harness.deliver(_edited(order_id, lamp, 2, 0), producer="orders")
        assert await stock(harness, lamp) == 5
        await harness.deliver(OrderCancelled(order_id=order_id, owner_id=uuid.uuid4()), producer="orders")
        assert await stock(harness, lamp) == 5
        assert harness.bus.dead_letters == []
