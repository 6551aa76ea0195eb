"""Cart's housekeeping: `cleared_order` rows past the inbox window and owner rows that learned
nothing go; carts stay. SQLite, and PostgreSQL when set."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import select

from atelier_cart.housekeeping import sweeps
from atelier_cart.models import Cart, CartOwner, ClearedOrder
from atelier_common.columns import utcnow
from atelier_common.housekeeping import Housekeeper
from atelier_testing import ServiceHarness


async def test_cleared_orders_and_plain_owners_past_the_window_go(harness: ServiceHarness) -> None:
    runtime = harness.runtime
    old, recent = utcnow() - timedelta(days=7, hours=1), utcnow() - timedelta(days=6)
    gone_orders = [uuid.uuid4() for _ in range(5)]
    kept_order = uuid.uuid4()
    plain, claimed, erased = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old_cart = Cart(owner_id=uuid.uuid4(), currency="USD", created_at=old - timedelta(days=90),
                    updated_at=old - timedelta(days=90))
    async with runtime.db.transaction() as session:
        session.add_all([ClearedOrder(order_id=o, created_at=old) for o in gone_orders])
        session.add_all([ClearedOrder(order_id=kept_order, created_at=recent), old_cart,
                         CartOwner(owner_id=plain, created_at=old, updated_at=old),
                         CartOwner(owner_id=claimed, claimed_by=uuid.uuid4(), created_at=old, updated_at=old),
                         CartOwner(owner_id=erased, erased_at=old, created_at=old, updated_at=old)])

    report = await Housekeeper(runtime.db, sweeps(runtime.context), service="cart", batch_size=2).run_once()

    assert report.removed["cleared_orders"] == 5 and report.removed["cart_owner_plain"] == 1
    async with runtime.db.read_only() as session:
        assert set((await session.exec(select(ClearedOrder.order_id))).all()) == {kept_order}
        assert set((await session.exec(select(CartOwner.owner_id))).all()) == {claimed, erased}
        assert set((await session.exec(select(Cart.id))).all()) == {old_cart.id}  # a cart is not ours to drop
