"""Concurrent changes of one order: the row lock makes them queue, so exactly one wins."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from sqlmodel import col, select

from atelier_common.contracts.payments import OrderPaid
from atelier_common.events.envelope import Envelope
from atelier_common.inbox import handle_once
from atelier_orders.events import on_order_paid
from atelier_orders.models import Order, OrderStatusHistory
from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform, Staff


async def _physical_order(customer: Customer, platform: FakePlatform) -> dict:
    lamp = platform.product()
    return await customer.placed(items=[{"product_id": lamp["id"]}],
                                 shipping_address_id=platform.address(customer.owner_id))


async def _history(harness: ServiceHarness, order_id: str) -> list[tuple[str | None, str]]:
    async with harness.runtime.db.read_only() as session:
        rows = (await session.exec(select(OrderStatusHistory)
                                   .where(col(OrderStatusHistory.order_id) == uuid.UUID(order_id))
                                   .order_by(col(OrderStatusHistory.id)))).all()
    return [(row.from_status, row.to_status) for row in rows]


class TestConcurrentChanges:
    async def test_one_order_is_cancelled_once(self, harness: ServiceHarness, customer: Customer, staff: Staff,
                                               platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await staff.moved(order["id"], "paid")
        responses = await asyncio.gather(*(customer.cancel(order["id"]) for _ in range(4)))
        assert sorted(r.status_code for r in responses) == [200, 400, 400, 400]
        await harness.drain()
        assert len([e for e in harness.published("order.cancelled") if e.data["order_id"] == order["id"]]) == 1
        assert (await _history(harness, order["id"]))[-1] == ("paid", "cancelled")
        assert [h for h in await _history(harness, order["id"]) if h[1] == "cancelled"] == [("paid", "cancelled")]

    async def test_two_different_payment_confirmations_have_one_effect(self, harness: ServiceHarness,
                                                                       customer: Customer,
                                                                       platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        events = [OrderPaid(order_id=order["id"], owner_id=customer.owner_id, amount=Decimal(order["total_amount"]),
                            currency="USD", payment_id=uuid.uuid4(), provider="local") for _ in range(4)]
        runtime = harness.runtime
        await asyncio.gather(*(handle_once(runtime.db, "orders", Envelope.wrap(e, producer="payments"), e,
                                           on_order_paid, runtime) for e in events))
        assert await _history(harness, order["id"]) == [(None, "pending"), ("pending", "paid")]
        await harness.drain()
        paid = [e for e in harness.published("order.status_changed")
                if e.data["order_id"] == order["id"] and e.data["new_status"] == "paid"]
        assert len(paid) == 1

    async def test_shipping_and_cancelling_at_once_never_both_happen(self, harness: ServiceHarness,
                                                                     customer: Customer, staff: Staff,
                                                                     platform: FakePlatform) -> None:
        for _ in range(3):
            order = await _physical_order(customer, platform)
            await staff.moved(order["id"], "paid", "processing")
            shipped, cancelled = await asyncio.gather(staff.set_status(order["id"], "shipped"),
                                                      customer.cancel(order["id"]))
            assert sorted([shipped.status_code, cancelled.status_code]) in ([200, 400], [200, 409])
            final = await customer.order(order["id"])
            assert final["status"] in ("shipped", "cancelled")
            assert [h["status"] for h in final["status_history"]][-1] == final["status"]
            assert [h["status"] for h in final["status_history"]].count("processing") == 1
            assert len(final["status_history"]) == 4


class TestIdempotentPlacement:
    async def test_ten_parallel_placements_with_one_key_place_one_order(self, harness: ServiceHarness,
                                                                        customer: Customer,
                                                                        platform: FakePlatform) -> None:
        lamp = platform.product(price="59.48")
        body = {"items": [{"product_id": lamp["id"]}], "shipping_address_id": platform.address(customer.owner_id)}
        headers = {**customer.headers, "Idempotency-Key": str(uuid.uuid4())}
        responses = await asyncio.gather(*(customer.client.post("/api/v1/orders", json=body, headers=headers)
                                           for _ in range(10)))
        assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
        assert len({r.content for r in responses}) == 1
        listed = await customer.client.get("/api/v1/orders", headers=customer.headers)
        assert listed.json()["count"] == 1
        async with harness.runtime.db.read_only() as session:
            rows = (await session.exec(select(Order).where(col(Order.owner_id) == customer.owner_id))).all()
        assert [str(row.id) for row in rows] == [responses[0].json()["id"]]
