"""Stock reservations driven by order events: all lines or none, commit, release, expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from atelier_catalog import sweeper
from atelier_catalog.models import Purchase, StockMovement, StockReservation
from atelier_common.columns import utcnow
from atelier_common.contracts.orders import OrderCancelled, OrderLine, OrderPlaced
from atelier_common.contracts.payments import OrderPaid
from atelier_testing import ServiceHarness

from ..conftest import Catalog, product_changed_events

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def line(product: dict[str, Any], quantity: int, *, variant: dict[str, Any] | None = None) -> OrderLine:
    return OrderLine(product_id=product["id"], variant_id=variant["id"] if variant else None,
                     sku=(variant or product)["sku"], kind=product["kind"], quantity=quantity,
                     unit_price=Decimal(product["price"]))


def placed(*lines: OrderLine, order_id: uuid.UUID | None = None) -> OrderPlaced:
    order_id = order_id or uuid.uuid4()
    return OrderPlaced(order_id=order_id, order_number=f"ORD-20261121-{str(order_id)[:6].upper()}",
                       owner_id=uuid.uuid4(), lines=list(lines))


def paid(order: OrderPlaced, *, user_id: uuid.UUID | None = None, lines: list[OrderLine] | None = None) -> OrderPaid:
    return OrderPaid(order_id=order.order_id, owner_id=order.owner_id, user_id=user_id, amount=Decimal("10.00"),
                     currency="USD", payment_id=uuid.uuid4(), provider="local",
                     lines=order.lines if lines is None else lines)


async def stock(harness: ServiceHarness, product: dict[str, Any], variant: dict[str, Any] | None = None) -> int:
    body = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
    if variant is None:
        return body["stock_quantity"]
    return next(v["stock_quantity"] for v in body["variants"] if v["id"] == variant["id"])


async def reservations(harness: ServiceHarness, order_id: uuid.UUID) -> list[StockReservation]:
    async with harness.runtime.db.read_only() as session:
        stmt = select(StockReservation).where(StockReservation.order_id == order_id)
        return list((await session.exec(stmt)).all())


def decisions(harness: ServiceHarness, order_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    # Where the units come from (`sources`) is test_locations.py's.
    return [(e.type, {k: v for k, v in e.data.items() if k != "sources"}) for e in harness.bus.published
            if e.type in ("stock.reserved", "stock.rejected") and e.data["order_id"] == str(order_id)]


class TestReserveOnOrderPlaced:
    async def test_every_line_is_held_and_the_order_hears_reserved(self, harness: ServiceHarness,
                                                                   catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        tile = await catalog.product(stock_quantity=0)
        variant = await catalog.variant(tile, "Big", stock_quantity=4)
        order = placed(line(slab, 2), line(tile, 3, variant=variant), line(slab, 1))

        await harness.deliver(order)

        assert decisions(harness, order.order_id) == [
            ("stock.reserved", {"order_id": str(order.order_id)})]
        assert await stock(harness, slab) == 2  # the two slab lines are summed: 3 taken
        assert await stock(harness, tile, variant) == 1
        assert await stock(harness, tile) == 0  # the variant's stock moved, not the product's
        rows = await reservations(harness, order.order_id)
        assert sorted((r.quantity, r.status) for r in rows) == [(3, "reserved"), (3, "reserved")]
        assert all(r.expires_at > utcnow() + timedelta(minutes=29) for r in rows)
        changed = await product_changed_events(harness)
        assert {(c["product_id"], c["variant_id"], c["stock_quantity"], c["stock_only"]) for c in changed[-2:]} == {
            (slab["id"], None, 2, True), (tile["id"], variant["id"], 1, True)}
        # Each says its stock before the order (the slab's two lines: before both), for a cart
        # that skips a change from and to plenty.
        assert {(c["variant_id"], c["previous_stock_quantity"]) for c in changed[-2:]} == {
            (None, 5), (variant["id"], 4)}
        # Only the stock moved: a reader of the product's other facts may skip these (generation).
        assert not any(c["stock_only"] for c in changed[:-2])

    async def test_each_held_line_is_a_numbered_row_with_its_stock_movement(self, harness: ServiceHarness,
                                                                            catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        tile = await catalog.product(stock_quantity=0)
        variant = await catalog.variant(tile, "Big", stock_quantity=4)
        order = placed(line(slab, 2), line(tile, 3, variant=variant))

        await harness.deliver(order)

        rows = await reservations(harness, order.order_id)
        assert sorted(r.line_no for r in rows) == [0, 1]
        assert sorted((str(r.product_id), r.variant_id and str(r.variant_id), r.quantity) for r in rows) == sorted(
            [(slab["id"], None, 2), (tile["id"], variant["id"], 3)])
        async with harness.runtime.db.read_only() as session:
            movements = (await session.exec(select(StockMovement).where(
                StockMovement.reason == f"reserved for order {order.order_number}"))).all()
        assert sorted((str(m.product_id), m.variant_id and str(m.variant_id), m.delta, m.quantity_after)
                      for m in movements) == sorted([(slab["id"], None, -2, 3), (tile["id"], variant["id"], -3, 1)])

    async def test_one_short_line_rejects_the_order_and_holds_nothing(self, harness: ServiceHarness,
                                                                      catalog: Catalog) -> None:
        plenty = await catalog.product(stock_quantity=10)
        scarce = await catalog.product(stock_quantity=1)
        order = placed(line(plenty, 4), line(scarce, 2))

        await harness.deliver(order)

        [(kind, data)] = decisions(harness, order.order_id)
        assert kind == "stock.rejected" and data["reason"] == "insufficient_stock"
        assert data["lines"] == [{"product_id": scarce["id"], "variant_id": None, "requested": 2, "available": 1}]
        assert await stock(harness, plenty) == 10
        assert await stock(harness, scarce) == 1
        assert await reservations(harness, order.order_id) == []

    async def test_unknown_or_inactive_products_are_rejected_as_unavailable(self, harness: ServiceHarness,
                                                                            catalog: Catalog) -> None:
        gone = await catalog.product(stock_quantity=10)
        await catalog.deactivate_product(gone["id"])
        ghost = {**gone, "id": str(uuid.uuid4())}
        order = placed(line(gone, 1), line(ghost, 1))

        await harness.deliver(order)

        [(kind, data)] = decisions(harness, order.order_id)
        assert kind == "stock.rejected" and data["reason"] == "unavailable"
        assert {item["product_id"] for item in data["lines"]} == {gone["id"], ghost["id"]}
        assert await reservations(harness, order.order_id) == []

    async def test_a_variant_named_under_another_product_is_unavailable(self, harness: ServiceHarness,
                                                                       catalog: Catalog) -> None:
        shirt = await catalog.product(stock_quantity=5)
        mug = await catalog.product(stock_quantity=5)
        large = await catalog.variant(shirt, "L", stock_quantity=4)
        order = placed(line(shirt, 1), line(mug, 1, variant=large))

        await harness.deliver(order)

        [(kind, data)] = decisions(harness, order.order_id)
        assert kind == "stock.rejected" and data["reason"] == "unavailable"
        assert [(item["product_id"], item["variant_id"]) for item in data["lines"]] == [(mug["id"], large["id"])]
        assert (await stock(harness, shirt), await stock(harness, shirt, large), await stock(harness, mug)) == (5, 4, 5)

    async def test_digital_and_untracked_products_need_no_stock(self, harness: ServiceHarness,
                                                                catalog: Catalog) -> None:
        pack = await catalog.product(kind="credit_pack", attributes={"credits": 5}, stock_quantity=0)
        untracked = await catalog.product(stock_quantity=0, track_inventory=False)
        order = placed(line(pack, 3), line(untracked, 2))

        await harness.deliver(order)

        assert decisions(harness, order.order_id) == [("stock.reserved", {"order_id": str(order.order_id)})]
        assert await reservations(harness, order.order_id) == []

    async def test_a_redelivered_event_or_a_resent_order_takes_stock_once(self, harness: ServiceHarness,
                                                                          catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))

        envelope = await harness.deliver(order)
        await harness.deliver(order, envelope_id=envelope.id)  # the bus redelivers
        await harness.deliver(order)  # orders sends the same order again (new event id)

        assert await stock(harness, slab) == 3
        assert len(await reservations(harness, order.order_id)) == 1


class TestCommitOnOrderPaid:
    async def test_paid_stock_stays_taken_and_the_buyer_is_a_verified_purchaser(self, harness: ServiceHarness,
                                                                                 catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))
        await harness.deliver(order)
        user_id = uuid.uuid4()

        await harness.deliver(paid(order, user_id=user_id))
        await harness.deliver(paid(order, user_id=user_id))  # a second payment event changes nothing

        assert await stock(harness, slab) == 3
        assert [r.status for r in await reservations(harness, order.order_id)] == ["committed"]
        async with harness.runtime.db.read_only() as session:
            purchases = (await session.exec(select(Purchase))).all()
        assert [(p.owner_id, str(p.product_id)) for p in purchases] == [(user_id, slab["id"])]

    async def test_without_lines_in_the_event_purchases_come_from_the_reservations(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 1))
        await harness.deliver(order)

        await harness.deliver(paid(order, lines=[]))

        async with harness.runtime.db.read_only() as session:
            purchases = (await session.exec(select(Purchase))).all()
        assert [(p.owner_id, str(p.product_id)) for p in purchases] == [(order.owner_id, slab["id"])]


class TestReleaseOnOrderCancelled:
    async def test_cancelling_returns_reserved_stock_once(self, harness: ServiceHarness, catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 4))
        await harness.deliver(order)
        cancelled = OrderCancelled(order_id=order.order_id, owner_id=order.owner_id)

        await harness.deliver(cancelled)
        await harness.deliver(cancelled)  # sent twice by orders: the stock comes back once

        assert await stock(harness, slab) == 5
        assert [r.status for r in await reservations(harness, order.order_id)] == ["released"]
        last = (await product_changed_events(harness))[-1]
        assert (last["stock_quantity"], last["previous_stock_quantity"], last["stock_only"]) == (5, 1, True)

    async def test_cancelling_a_paid_order_returns_committed_stock(self, harness: ServiceHarness,
                                                                   catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))
        await harness.deliver(order)
        await harness.deliver(paid(order))

        await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id, was_paid=True))

        assert await stock(harness, slab) == 5

    async def test_cancelling_a_rejected_order_returns_nothing(self, harness: ServiceHarness,
                                                               catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=1)
        order = placed(line(slab, 2))
        await harness.deliver(order)

        await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id))

        assert await stock(harness, slab) == 1


class TestExpiry:
    async def test_the_sweep_releases_unpaid_reservations_past_their_deadline(self, harness: ServiceHarness,
                                                                              catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        stale, fresh = placed(line(slab, 2)), placed(line(slab, 1))
        await harness.deliver(stale)
        await harness.deliver(fresh)
        async with harness.runtime.db.transaction() as session:
            for row in (await session.exec(select(StockReservation).where(
                    StockReservation.order_id == stale.order_id))).all():
                row.expires_at = utcnow() - timedelta(minutes=1)

        assert await sweeper.sweep_once(harness.runtime) == 1
        assert await sweeper.sweep_once(harness.runtime) == 0

        assert await stock(harness, slab) == 4
        assert [r.status for r in await reservations(harness, stale.order_id)] == ["expired"]
        assert [r.status for r in await reservations(harness, fresh.order_id)] == ["reserved"]
        # A cancel after the expiry has nothing left to give back.
        await harness.deliver(OrderCancelled(order_id=stale.order_id, owner_id=stale.owner_id))
        assert await stock(harness, slab) == 4

    async def test_paid_after_expiry_takes_the_stock_again_when_it_is_still_there(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))
        await harness.deliver(order)
        async with harness.runtime.db.transaction() as session:
            for row in (await session.exec(select(StockReservation))).all():
                row.expires_at = utcnow() - timedelta(minutes=1)
        await sweeper.sweep_once(harness.runtime)
        assert await stock(harness, slab) == 5

        await harness.deliver(paid(order))

        assert await stock(harness, slab) == 3
        assert [r.status for r in await reservations(harness, order.order_id)] == ["committed"]


class TestEventsInAnyOrder:
    """`order.placed`, `order.paid` and `order.cancelled` of one order commute: the catalog keeps
    what it heard first (a payment, a cancellation) in the order's `stock_order` row."""

    async def test_paid_then_placed_commits_at_once_and_the_sweep_leaves_it(self, harness: ServiceHarness,
                                                                            catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))
        user_id = uuid.uuid4()

        await harness.deliver(paid(order, user_id=user_id, lines=[]))
        await harness.deliver(order)

        assert decisions(harness, order.order_id) == [("stock.reserved", {"order_id": str(order.order_id)})]
        assert await stock(harness, slab) == 3
        assert [r.status for r in await reservations(harness, order.order_id)] == ["committed"]
        await _past_deadline(harness)
        assert await sweeper.sweep_once(harness.runtime) == 0
        assert await stock(harness, slab) == 3
        async with harness.runtime.db.read_only() as session:
            purchases = (await session.exec(select(Purchase))).all()
        assert [(p.owner_id, str(p.product_id)) for p in purchases] == [(user_id, slab["id"])]

    async def test_a_settled_order_commits_at_once_and_the_sweep_leaves_it(self, harness: ServiceHarness,
                                                                           catalog: Catalog) -> None:
        """A claim's replacement: nothing will be paid, so no reservation waits to expire."""
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2)).model_copy(update={"settled": True})

        await harness.deliver(order)

        assert decisions(harness, order.order_id) == [("stock.reserved", {"order_id": str(order.order_id)})]
        assert [r.status for r in await reservations(harness, order.order_id)] == ["committed"]
        await _past_deadline(harness)
        assert await sweeper.sweep_once(harness.runtime) == 0
        assert await stock(harness, slab) == 3
        await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id))
        assert await stock(harness, slab) == 5  # a replacement cancelled before it ships: back on the shelf

    async def test_placed_then_paid_commits(self, harness: ServiceHarness, catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))

        await harness.deliver(order)
        await harness.deliver(paid(order))

        assert [r.status for r in await reservations(harness, order.order_id)] == ["committed"]
        await _past_deadline(harness)
        assert await sweeper.sweep_once(harness.runtime) == 0
        assert await stock(harness, slab) == 3

    @pytest.mark.parametrize("paid_first", [True, False], ids=["paid_first", "placed_first"])
    @pytest.mark.parametrize("interleaved", [True, False], ids=["interleaved", "back_to_back"])
    async def test_each_event_delivered_twice_in_either_order_commits_once(
            self, harness: ServiceHarness, catalog: Catalog, paid_first: bool, interleaved: bool) -> None:
        slab = await catalog.product(stock_quantity=10)
        order = placed(line(slab, 3))
        first, second = (paid(order), order) if paid_first else (order, paid(order))
        ids = {id(first): uuid.uuid4(), id(second): uuid.uuid4()}
        sequence = [first, second, first, second] if interleaved else [first, first, second, second]

        for event in sequence:  # the second delivery of each is the bus redelivering the same envelope
            await harness.deliver(event, envelope_id=ids[id(event)])

        assert [r.status for r in await reservations(harness, order.order_id)] == ["committed"]
        assert decisions(harness, order.order_id) == [("stock.reserved", {"order_id": str(order.order_id)})]
        assert await stock(harness, slab) == 7
        await _past_deadline(harness)
        assert await sweeper.sweep_once(harness.runtime) == 0
        assert await stock(harness, slab) == 7

    async def test_cancelled_before_placed_holds_nothing(self, harness: ServiceHarness, catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))

        await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id))
        await harness.deliver(order)

        assert await stock(harness, slab) == 5
        assert await reservations(harness, order.order_id) == []
        assert decisions(harness, order.order_id) == []

    async def test_paid_and_cancelled_before_placed_returns_everything(self, harness: ServiceHarness,
                                                                       catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=5)
        order = placed(line(slab, 2))

        await harness.deliver(paid(order))
        await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id, was_paid=True))
        await harness.deliver(order)

        assert await stock(harness, slab) == 5
        assert await reservations(harness, order.order_id) == []


async def _past_deadline(harness: ServiceHarness) -> None:
    """Every reservation's deadline passes, as if the sweep ran half an hour later."""
    async with harness.runtime.db.transaction() as session:
        for row in (await session.exec(select(StockReservation))).all():
            row.expires_at = utcnow() - timedelta(minutes=1)
