"""order.edited: the units an edit removed go back in stock once, and the order's reservation holds
that many fewer, so that a later cancellation gives back only the rest. order.edit_requested: the
units an edit adds are held for the order, all or none, once; order.edit_refused gives them back."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.orders import (
    OrderCancelled,
    OrderEdited,
    OrderEditLine,
    OrderEditRefused,
    OrderEditRequested,
    OrderEditUnits,
    OrderLine,
    OrderPlaced,
)
from atelier_common.contracts.payments import OrderPaid
from atelier_testing import ServiceHarness

from ..conftest import Catalog
from .test_reservations import reservations, stock

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


def _requested(order_id: uuid.UUID, edit_id: uuid.UUID, *units: tuple[dict[str, Any], int]) -> OrderEditRequested:
    return OrderEditRequested(edit_id=edit_id, edit_version=1, order_id=order_id, order_number="ORD-20261126-EDIT01",
                              lines=[OrderEditUnits(product_id=p["id"], quantity=q) for p, q in units])


def _answers(harness: ServiceHarness, order_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, e.data) for e in harness.bus.published
            if e.type in ("stock.edit_reserved", "stock.edit_rejected") and e.data["order_id"] == str(order_id)]


class TestEditReserve:
    async def test_added_units_are_held_once_and_go_with_the_order(self, harness: ServiceHarness,
                                                                   catalog: Catalog) -> None:
        lamp, hat = await catalog.product(stock_quantity=10), await catalog.product(stock_quantity=4)
        order_id, edit_id = uuid.uuid4(), uuid.uuid4()
        await harness.deliver(_placed(order_id, lamp, 2), producer="orders")
        event = _requested(order_id, edit_id, (lamp, 1), (hat, 3))
        envelope = await harness.deliver(event, producer="orders")
        await harness.deliver(event, producer="orders", envelope_id=envelope.id)  # redelivered
        assert (await stock(harness, lamp), await stock(harness, hat)) == (7, 1)
        assert _answers(harness, order_id) == [("stock.edit_reserved", {"order_id": str(order_id),
                                                                         "edit_id": str(edit_id)})]
        rows = await reservations(harness, order_id)
        assert sorted(r.line_no for r in rows) == [0, 1, 2] and {r.status for r in rows} == {"reserved"}
        # The edit's rows are the order's: paid, they are committed with the rest.
        await harness.deliver(OrderPaid(order_id=order_id, owner_id=uuid.uuid4(), amount=Decimal("60.00"),
                                        currency="USD", payment_id=uuid.uuid4(), provider="local", lines=[]),
                              producer="payments")
        assert {r.status for r in await reservations(harness, order_id)} == {"committed"}
        assert harness.bus.dead_letters == []

    async def test_too_few_units_take_nothing_and_a_cancelled_order_holds_nothing_more(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        lamp, hat = await catalog.product(stock_quantity=10), await catalog.product(stock_quantity=2)
        order_id, edit_id = uuid.uuid4(), uuid.uuid4()
        await harness.deliver(_placed(order_id, lamp, 2), producer="orders")
        await harness.deliver(_requested(order_id, edit_id, (lamp, 1), (hat, 3)), producer="orders")
        assert (await stock(harness, lamp), await stock(harness, hat)) == (8, 2)
        [(kind, data)] = _answers(harness, order_id)
        assert (kind, data["reason"], data["lines"][0]["available"]) == ("stock.edit_rejected", "insufficient_stock", 2)
        await harness.deliver(OrderCancelled(order_id=order_id, owner_id=uuid.uuid4()), producer="orders")
        late = uuid.uuid4()
        await harness.deliver(_requested(order_id, late, (lamp, 1)), producer="orders")
        assert await stock(harness, lamp) == 10
        assert _answers(harness, order_id)[-1] == ("stock.edit_rejected", {
            "order_id": str(order_id), "edit_id": str(late), "reason": "not_held", "lines": []})
        assert harness.bus.dead_letters == []

    async def test_a_refused_edit_gives_its_units_back_once_and_not_after_a_cancellation(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        lamp = await catalog.product(stock_quantity=10)
        order_id, edit_id = uuid.uuid4(), uuid.uuid4()
        await harness.deliver(_placed(order_id, lamp, 2), producer="orders")
        await harness.deliver(_requested(order_id, edit_id, (lamp, 3)), producer="orders")
        assert await stock(harness, lamp) == 5
        refused = OrderEditRefused(edit_id=edit_id, edit_version=1, order_id=order_id,
                                   order_number="ORD-20261126-EDIT01", lines=[OrderEditUnits(product_id=lamp["id"],
                                                                                            quantity=3)])
        envelope = await harness.deliver(refused, producer="orders")
        await harness.deliver(refused, producer="orders", envelope_id=envelope.id)  # redelivered
        assert await stock(harness, lamp) == 8
        await harness.deliver(OrderCancelled(order_id=order_id, owner_id=uuid.uuid4()), producer="orders")
        assert await stock(harness, lamp) == 10
        assert harness.bus.dead_letters == []
