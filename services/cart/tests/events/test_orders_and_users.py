"""order.placed from the cart empties it; identity.user_deleted erases the user's cart."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import select

from atelier_cart.models import Cart, CartItem
from atelier_common.contracts.identity import UserDeleted
from atelier_common.contracts.orders import OrderLine, OrderPlaced

from ..conftest import Catalog, Shopper


def placed(owner: Shopper, *, from_cart: bool) -> OrderPlaced:
    return OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261121-ABC123", owner_id=owner.owner_id,
                       from_cart=from_cart, lines=[OrderLine(product_id=uuid.uuid4(), sku="X", kind="physical",
                                                             quantity=1, unit_price=Decimal("1.00"))])


class TestOrderPlaced:
    async def test_an_order_from_the_cart_clears_it(self, harness, catalog: Catalog, guest: Shopper,
                                                    user: Shopper) -> None:
        product = await catalog.product()
        cart_id = (await guest.add(product.product_id, 2))["id"]
        await user.add(product.product_id, 1)
        await harness.deliver(placed(guest, from_cart=True), producer="orders")
        cart = await guest.cart()
        assert (cart["id"], cart["items"], cart["total"]) == (cart_id, [], "0.00")
        assert (await user.cart())["item_count"] == 1

    async def test_an_order_of_explicit_items_leaves_the_cart(self, harness, catalog: Catalog,
                                                              guest: Shopper) -> None:
        product = await catalog.product()
        await guest.add(product.product_id, 2)
        await harness.deliver(placed(guest, from_cart=False), producer="orders")
        assert (await guest.cart())["item_count"] == 2

    async def test_an_owner_without_a_cart(self, harness, guest: Shopper) -> None:
        await harness.deliver(placed(guest, from_cart=True), producer="orders")
        assert harness.bus.dead_letters == []


class TestUserDeleted:
    async def test_the_users_cart_and_lines_are_erased(self, harness, catalog: Catalog, user: Shopper,
                                                       guest: Shopper) -> None:
        product = await catalog.product()
        await user.add(product.product_id, 2)
        await guest.add(product.product_id, 1)
        await harness.deliver(UserDeleted(user_id=user.owner_id), producer="identity")
        async with harness.runtime.db.read_only() as session:
            assert [c.owner_id for c in (await session.exec(select(Cart))).all()] == [guest.owner_id]
            assert len((await session.exec(select(CartItem))).all()) == 1
        assert harness.bus.dead_letters == []
