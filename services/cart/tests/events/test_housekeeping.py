"""Cart's housekeeping: `cleared_order` rows past the inbox window and owner rows that learned
nothing go; carts stay. SQLite, and PostgreSQL when set."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from atelier_cart.housekeeping import sweeps
from atelier_cart.models import Cart, CartItem, CartOwner, CartShipping, ClearedOrder
from atelier_common.columns import utcnow
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.housekeeping import Housekeeper
from atelier_testing import ServiceHarness

from ..conftest import Catalog

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")


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


async def _age_carts(harness: ServiceHarness, owner_ids: list[uuid.UUID], days: float) -> None:
    then = utcnow() - timedelta(days=days)
    async with harness.runtime.db.transaction() as session:
        carts = select(Cart.id).where(col(Cart.owner_id).in_(owner_ids))
        await session.execute(update(CartItem).where(col(CartItem.cart_id).in_(carts))
                              .values(created_at=then, updated_at=then))
        await session.execute(update(Cart).where(col(Cart.owner_id).in_(owner_ids))
                              .values(created_at=then, updated_at=then))


class TestAnonymousCarts:
    async def test_untouched_guest_carts_go_users_and_recent_ones_stay(self, harness: ServiceHarness,
                                                                      catalog: Catalog, new_shopper) -> None:
        product = await catalog.product(stock=100)
        gone = [new_shopper() for _ in range(3)]
        recent_guest, user, claimed_guest, claimer = new_shopper(), new_shopper(anonymous=False), new_shopper(), \
            new_shopper(anonymous=False)
        for shopper in [*gone, recent_guest, user, claimed_guest]:
            await shopper.add(product.product_id, 2)
        await harness.deliver(AnonymousClaimed(anon_id=claimed_guest.owner_id, user_id=claimer.owner_id))
        old_ids = [s.owner_id for s in [*gone, user, claimer]]
        await _age_carts(harness, old_ids, days=31)
        await _age_carts(harness, [recent_guest.owner_id], days=29)
        kept_carts = {(await s.cart())["id"] for s in (recent_guest, user, claimer)}

        report = await Housekeeper(harness.runtime.db, sweeps(harness.runtime.context), service="cart",
                                   batch_size=2).run_once()

        assert report.removed["anonymous_carts"] == 3 * 2  # each cart and its one line
        async with harness.runtime.db.read_only() as session:
            assert {str(c) for c in (await session.exec(select(Cart.id))).all()} == kept_carts
        for shopper in (recent_guest, user, claimer):
            assert [line["quantity"] for line in (await shopper.cart())["items"]] == [2]
        assert (await gone[0].cart())["items"] == []  # the visitor coming back starts a new cart

    async def test_a_guest_cart_with_a_recent_add_stays_whatever_its_row_says(
            self, harness: ServiceHarness, catalog: Catalog, new_shopper) -> None:
        # On PostgreSQL an add locks the cart row without writing it: the new line's timestamps
        # are what show that the cart is in use.
        first, second = await catalog.product(stock=100), await catalog.product(stock=100)
        back = new_shopper()
        await back.add(first.product_id, 1)
        await _age_carts(harness, [back.owner_id], days=31)
        await back.add(second.product_id, 1)

        report = await Housekeeper(harness.runtime.db, sweeps(harness.runtime.context), service="cart",
                                   batch_size=2).run_once()

        assert report.removed.get("anonymous_carts", 0) == 0
        assert [line["quantity"] for line in (await back.cart())["items"]] == [1, 1]


async def test_a_shipping_choice_goes_once_its_cart_is_gone_and_it_is_old(harness: ServiceHarness) -> None:
    old, recent = utcnow() - timedelta(days=31), utcnow() - timedelta(days=29)
    with_cart, orphan, recent_orphan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with harness.runtime.db.transaction() as session:
        session.add(Cart(owner_id=with_cart, storefront="default", currency="USD", created_at=old, updated_at=old))
        session.add_all([CartShipping(owner_id=owner, storefront="default", country="FR", chosen_at=at)
                         for owner, at in ((with_cart, old), (orphan, old), (recent_orphan, recent))])

    report = await Housekeeper(harness.runtime.db, sweeps(harness.runtime.context), service="cart",
                               batch_size=2).run_once()

    assert report.removed["shipping_choices"] == 1
    async with harness.runtime.db.read_only() as session:
        assert set((await session.exec(select(CartShipping.owner_id))).all()) == {with_cart, recent_orphan}
