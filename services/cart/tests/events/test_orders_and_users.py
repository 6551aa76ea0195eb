"""order.placed from the cart takes its lines out of it; identity.user_deleted erases the user's cart."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from atelier_cart.models import Cart, CartItem
from atelier_common.contracts.identity import UserDeleted
from atelier_common.contracts.orders import OrderLine, OrderPlaced

from ..conftest import Catalog, Shopper

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def placed(owner: Shopper, *lines: tuple[uuid.UUID, int] | tuple[uuid.UUID, int, uuid.UUID], from_cart: bool = True,
           order_id: uuid.UUID | None = None) -> OrderPlaced:
    """The order of `lines` ((product, quantity[, variant])), as orders announces it."""
    return OrderPlaced(order_id=order_id or uuid.uuid4(), order_number="ORD-20261121-ABC123", owner_id=owner.owner_id,
                       from_cart=from_cart, lines=[
                           OrderLine(product_id=line[0], variant_id=line[2] if len(line) > 2 else None, sku="X",
                                     kind="physical", quantity=line[1], unit_price=Decimal("1.00"))
                           for line in lines or [(uuid.uuid4(), 1)]])


def units(cart: dict[str, Any]) -> dict[tuple[str, str | None], int]:
    return {(i["product_id"], i["variant_id"]): i["quantity"] for i in cart["items"]}


class TestOrderPlaced:
    async def test_an_order_from_the_cart_clears_it(self, harness, catalog: Catalog, guest: Shopper,
                                                    user: Shopper) -> None:
        product = await catalog.product()
        cart_id = (await guest.add(product.product_id, 2))["id"]
        await user.add(product.product_id, 1)
        await harness.deliver(placed(guest, (product.product_id, 2)), producer="orders")
        cart = await guest.cart()
        assert (cart["id"], cart["items"], cart["total"]) == (cart_id, [], "0.00")
        assert (await user.cart())["item_count"] == 1

    async def test_lines_added_after_the_order_stay(self, harness, catalog: Catalog, guest: Shopper) -> None:
        # The order came from [A x1]; B x2 went in before its event was heard (the cart's
        # consumer was behind): the late event takes A out, not the whole cart.
        a, b = await catalog.product(), await catalog.product()
        await guest.add(a.product_id, 1)
        order = placed(guest, (a.product_id, 1))
        await guest.add(b.product_id, 2)
        await harness.deliver(order, producer="orders")
        assert units(await guest.cart()) == {(str(b.product_id), None): 2}
        assert harness.bus.dead_letters == []

    async def test_a_line_raised_after_the_order_keeps_the_difference(self, harness, catalog: Catalog,
                                                                       user: Shopper) -> None:
        a = await catalog.product()
        await user.add(a.product_id, 1)
        order = placed(user, (a.product_id, 1))
        await user.add(a.product_id, 2)  # A x3 now: 1 ordered, 2 added since
        await harness.deliver(order, producer="orders")
        assert units(await user.cart()) == {(str(a.product_id), None): 2}

    async def test_only_the_ordered_variant_leaves(self, harness, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product()
        red, blue = [await catalog.product(product.product_id, variant_id=uuid.uuid4(), variant_name=name)
                     for name in ("red", "blue")]
        await guest.add(product.product_id, 1)
        await guest.add(product.product_id, 2, variant_id=red.variant_id)
        await guest.add(product.product_id, 1, variant_id=blue.variant_id)
        order = placed(guest, (product.product_id, 1, red.variant_id), (product.product_id, 1, blue.variant_id))
        await harness.deliver(order, producer="orders")
        assert units(await guest.cart()) == {(str(product.product_id), None): 1,
                                             (str(product.product_id), str(red.variant_id)): 1}

    async def test_a_product_and_its_variant_ordered_together(self, harness, catalog: Catalog,
                                                              guest: Shopper) -> None:
        # Ordered lines with and without a variant in one order: a NULL among the variants.
        product = await catalog.product()
        red = await catalog.product(product.product_id, variant_id=uuid.uuid4(), variant_name="red")
        await guest.add(product.product_id, 3)
        await guest.add(product.product_id, 1, variant_id=red.variant_id)
        order = placed(guest, (product.product_id, 1), (product.product_id, 1, red.variant_id))
        await harness.deliver(order, producer="orders")
        assert units(await guest.cart()) == {(str(product.product_id), None): 2}

    async def test_an_order_of_explicit_items_leaves_the_cart(self, harness, catalog: Catalog,
                                                              guest: Shopper) -> None:
        product = await catalog.product()
        await guest.add(product.product_id, 2)
        await harness.deliver(placed(guest, (product.product_id, 2), from_cart=False), producer="orders")
        assert (await guest.cart())["item_count"] == 2

    async def test_an_owner_without_a_cart(self, harness, guest: Shopper) -> None:
        await harness.deliver(placed(guest), producer="orders")
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
