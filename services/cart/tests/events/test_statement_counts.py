"""The SQL statements a guest checkout costs the cart (`-s` prints them): under load each one is a
round trip and statement-building CPU. On PostgreSQL the counts are pinned; change them here when
a path changes on purpose."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.orders import OrderLine, OrderPlaced
from atelier_testing import ServiceHarness
from atelier_testing.statements import statements

from ..conftest import Catalog, Shopper

pytestmark = pytest.mark.databases("sqlite", "postgres", why="statement counts differ by dialect")


async def test_a_guest_checkout(harness: ServiceHarness, catalog: Catalog, guest: Shopper, cart_settings,
                                db_backend) -> None:
    product = await catalog.product(stock=50)
    await harness.drain()

    with statements(harness.runtime.db, "GET /api/v1/cart (the guest's first request)") as first_view:
        viewed = await guest.cart()
        assert viewed["items"] == []
    with statements(harness.runtime.db, "POST /api/v1/cart/items") as add:
        added = await guest.add(product.product_id, 2)
    assert added["id"] == viewed["id"]
    with statements(harness.runtime.db, "GET /internal/carts/{owner} (orders placing the order)") as internal:
        response = await harness.client.get(f"/internal/carts/{guest.owner_id}",
                                            headers={SERVICE_HEADER: cart_settings.service_token})
    assert response.status_code == 200
    assert {k: v for k, v in response.json().items()
            if k not in ("owner_id", "shipping_address_id", "shipping_method_id")} == {
        k: v for k, v in added.items()
        if k not in ("discount_total", "promotion_code_problem", "discounts", "free_shipping", "shipping")}
    line = OrderLine(product_id=product.product_id, sku=product.sku, kind=product.kind, quantity=2,
                     unit_price=product.price)
    order = OrderPlaced(order_id=uuid.uuid4(), order_number="ORD-20261121-AAAAAA", owner_id=guest.owner_id,
                        from_cart=True, lines=[line])
    with statements(harness.runtime.db, "order.placed") as placed:
        await harness.deliver(order, producer="orders")
    with statements(harness.runtime.db, "catalog.product_changed (the reservation's stock)") as changed:
        await catalog.change(product, stock_quantity=48)
    with statements(harness.runtime.db, "identity.anonymous_claimed") as claimed:
        await harness.deliver(AnonymousClaimed(anon_id=guest.owner_id, user_id=uuid.uuid4()), producer="identity")
    with statements(harness.runtime.db, "GET /api/v1/cart (again)") as again:
        # The guest cart went to the user: the guest id gets a new (empty) cart.
        assert (await guest.cart())["items"] == []
    with statements(harness.runtime.db, "GET /api/v1/cart (a later visit)") as later_view:
        assert (await guest.cart())["items"] == []

    if db_backend != "postgres":
        return
    # Views and orders' read: the cart (created if missing) and its lines with their kinds in one
    # statement, orders' without a transaction. The add: the cart locked and touched with the
    # product's facts in one statement, then the lines, then the line written. The order: the
    # inbox row, the owner's lock, the cleared-order record and the cart's lock in one statement,
    # then the ordered units taken off the lines in one (after the lock: it sees an add that went
    # first). The claim: the inbox row, both owners' locks, both carts locked, the hand-over
    # inside a savepoint (the user's cart may appear meanwhile). A cart with lines also reads its
    # discount code (#56: the add, orders' read), and an order from the cart removes it. The claim
    # also hands the guest's shipping choice over (one statement).
    counts = {"first view": len(first_view), "add": len(add), "internal": len(internal), "placed": len(placed),
              "changed": len(changed), "claimed": len(claimed), "again": len(again), "later view": len(later_view)}
    assert counts == {"first view": 1, "add": 4, "internal": 2, "placed": 5, "changed": 2, "claimed": 8,
                      "again": 1, "later view": 1}
