"""Promotions and discount codes through the gateway, in both modes: staff create a code, the
cart shows what it saves, the order charges and freezes it; and the race the issue names — 100
guests with filled carts check out at once for a code with 10 uses left: exactly 10 orders get
the discount, the other 90 are refused (409 PROMOTION_EXHAUSTED, nothing created) and may order
again without it."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.journeys import ADDRESS, new_anonymous_token, staff

from atelier_testing import assert_error, poll_until

pytestmark = pytest.mark.e2e
BUYERS, USES = 100, 10


async def _product(api: httpx.AsyncClient, as_staff: dict[str, str], price: str, stock: int) -> dict[str, Any]:
    sku = f"PROMO-{uuid.uuid4().hex[:8]}"
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": f"Promo lamp {sku}", "sku": sku, "price": price, "stock_quantity": stock, "kind": "physical"})
    assert r.status_code == 201, r.text
    return r.json()


async def _guest(api: httpx.AsyncClient, product: dict[str, Any], quantity: int = 1) -> tuple[dict[str, str], str]:
    """A guest with the product in their cart and a delivery address: (headers, address id)."""
    as_guest = {"X-Session-ID": await new_anonymous_token(api)}
    r = await api.post("/api/v1/cart/items", headers=as_guest, json={"product_id": product["id"], "quantity": quantity})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/addresses", headers=as_guest, json=ADDRESS)
    assert r.status_code == 201, r.text
    return as_guest, r.json()["id"]


async def test_a_code_is_shown_in_the_cart_charged_and_frozen_on_the_order(api: httpx.AsyncClient) -> None:
    as_staff = await staff(api)
    product = await _product(api, as_staff, "40.00", 50)
    code = f"TEN{uuid.uuid4().hex[:6]}"
    r = await api.post("/api/v1/staff/promotions", headers=as_staff, json={
        "name": "Ten off", "code": code, "kind": "percentage", "value": "10", "min_subtotal": "50"})
    assert r.status_code == 201, r.text
    promotion = r.json()
    as_guest, address = await _guest(api, product)

    assert_error(await api.post("/api/v1/cart/promotion-code", headers=as_guest, json={"code": "NO-SUCH"}),
                 400, "PROMOTION_CODE_INVALID")
    below = assert_error(await api.post("/api/v1/cart/promotion-code", headers=as_guest, json={"code": code}),
                         400, "PROMOTION_CODE_INVALID")
    assert below["details"]["reason"] == "below_minimum"
    r = await api.post("/api/v1/cart/items", headers=as_guest, json={"product_id": product["id"], "quantity": 1})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/cart/promotion-code", headers=as_guest, json={"code": code.lower()})
    assert r.status_code == 200, r.text
    cart = r.json()
    # 80.00 − 10 % = 72.00, + 9 % tax on what is paid: 6.48 (not 7.20 on the undiscounted 80.00)
    assert (cart["subtotal"], cart["discount_total"], cart["tax_amount"], cart["total"], cart["promotion_code"]) == (
        "80.00", "8.00", "6.48", "78.48", code.lower())
    assert [(d["promotion_id"], d["code"], d["amount"]) for d in cart["discounts"]] == [
        (promotion["id"], code, "8.00")]
    assert (await api.get("/api/v1/cart", headers=as_guest)).json()["discount_total"] == "8.00"

    r = await api.post("/api/v1/orders", headers=as_guest, json={"shipping_address_id": address,
                                                                "expected_discount": cart["discount_total"]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["subtotal"], order["discount_total"]) == ("80.00", "8.00")
    assert Decimal(order["total_amount"]) == (Decimal("80.00") + Decimal(order["tax_amount"])
                                              + Decimal(order["shipping_cost"]) - Decimal("8.00"))
    # Frozen on the order, its share per line with it; the cart let the code go with its lines.
    staff_view = (await api.get(f"/api/v1/staff/orders/{order['id']}", headers=as_staff)).json()
    assert [(d["code"], d["amount"], d["lines"][0]["amount"]) for d in staff_view["discounts"]] == [
        (code, "8.00", "8.00")]
    assert (await api.get(f"/api/v1/staff/promotions/{promotion['id']}", headers=as_staff)).json()["uses"] == 1


async def test_a_code_typed_padded_and_in_lower_case_is_the_code(api: httpx.AsyncClient) -> None:
    """One rule matches a code wherever it is typed: a guest applying " summer10 " to the cart
    gets SUMMER10 (and the order placed from that cart too), and staff looking it up so find it."""
    as_staff = await staff(api)
    product = await _product(api, as_staff, "40.00", 10)
    code = f"SUMMER{uuid.uuid4().hex[:6].upper()}"
    r = await api.post("/api/v1/staff/promotions", headers=as_staff, json={
        "name": "Summer", "code": code, "kind": "percentage", "value": "10"})
    assert r.status_code == 201, r.text
    promotion = r.json()
    typed = f" {code.lower()} "
    r = await api.get("/api/v1/staff/promotions", headers=as_staff, params={"code": typed})
    assert [p["id"] for p in r.json()["results"]] == [promotion["id"]], r.text

    as_guest, address = await _guest(api, product)
    r = await api.post("/api/v1/cart/promotion-code", headers=as_guest, json={"code": typed})
    assert r.status_code == 200, r.text
    cart = r.json()
    assert (cart["discount_total"], [d["code"] for d in cart["discounts"]]) == ("4.00", [code])
    r = await api.post("/api/v1/orders", headers=as_guest, json={"shipping_address_id": address,
                                                                "expected_discount": "4.00"})
    assert r.status_code == 201, r.text
    assert [(d["promotion_id"], d["amount"]) for d in r.json()["discounts"]] == [(promotion["id"], "4.00")]


async def test_an_automatic_promotion_reaches_the_cart_while_it_runs(api: httpx.AsyncClient) -> None:
    """A promotion without a code shows in carts once `promotion.changed` reached the cart (which
    otherwise does not ask orders at all), is charged as shown, and leaves carts when deactivated."""
    as_staff = await staff(api)
    product = await _product(api, as_staff, "30.00", 50)
    as_guest, address = await _guest(api, product, quantity=2)
    assert (await api.get("/api/v1/cart", headers=as_guest)).json()["discount_total"] == "0.00"
    # Only this product's lines: other tests' carts on the same platform save nothing.
    r = await api.post("/api/v1/staff/promotions", headers=as_staff, json={
        "name": "Lamp week", "kind": "fixed", "value": "5", "product_ids": [product["id"]]})
    assert r.status_code == 201, r.text
    promotion = r.json()

    async def discounted() -> dict[str, Any] | None:
        cart = (await api.get("/api/v1/cart", headers=as_guest)).json()
        return cart if cart["discount_total"] == "5.00" else None

    cart = await poll_until(discounted, timeout=60, message="the automatic promotion in the cart")
    assert [(d["promotion_id"], d["code"], d["amount"]) for d in cart["discounts"]] == [(promotion["id"], None,
                                                                                        "5.00")]
    r = await api.post("/api/v1/orders", headers=as_guest, json={"shipping_address_id": address,
                                                                "expected_discount": cart["discount_total"]})
    assert r.status_code == 201, r.text
    assert (r.json()["subtotal"], r.json()["discount_total"]) == ("60.00", "5.00")

    r = await api.delete(f"/api/v1/staff/promotions/{promotion['id']}", headers=as_staff)
    assert r.status_code == 200, r.text
    later, _ = await _guest(api, product)

    async def undiscounted() -> bool:
        cart = (await api.get("/api/v1/cart", headers=later)).json()
        return cart["discount_total"] == "0.00" and cart["discounts"] == []

    await poll_until(undiscounted, timeout=60, message="the deactivated promotion gone from the cart")


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_100_parallel_checkouts_for_the_last_10_uses_get_exactly_10(api: httpx.AsyncClient) -> None:
    as_staff = await staff(api)
    product = await _product(api, as_staff, "10.00", BUYERS * 2)
    code = f"LAST{uuid.uuid4().hex[:6]}"
    r = await api.post("/api/v1/staff/promotions", headers=as_staff, json={
        "name": "The last ten", "code": code, "kind": "fixed", "value": "2.50", "usage_limit": USES})
    assert r.status_code == 201, r.text
    promotion = r.json()

    started = time.monotonic()
    guests = await asyncio.gather(*(_guest(api, product) for _ in range(BUYERS)))
    for as_guest, _ in guests:  # every cart shows the code: 10 uses are left for each of them
        r = await api.post("/api/v1/cart/promotion-code", headers=as_guest, json={"code": code})
        assert r.status_code == 200 and r.json()["discount_total"] == "2.50", r.text
    filled = time.monotonic()
    answers = await asyncio.gather(*(api.post("/api/v1/orders", headers=as_guest, json={
        "shipping_address_id": address, "expected_discount": "2.50"}) for as_guest, address in guests))
    raced = time.monotonic()
    print(f"\n{BUYERS} carts filled in {filled - started:.1f}s; {BUYERS} checkouts raced in {raced - filled:.1f}s")

    placed = [a.json() for a in answers if a.status_code == 201]
    refused = [a.json()["error"] for a in answers if a.status_code == 409]
    assert len(placed) + len(refused) == BUYERS, [a.text for a in answers if a.status_code not in (201, 409)]
    assert len(placed) == USES
    assert all(o["discount_total"] == "2.50" and o["discounts"][0]["code"] == code for o in placed)
    assert {e["code"] for e in refused} == {"PROMOTION_EXHAUSTED"}
    assert (await api.get(f"/api/v1/staff/promotions/{promotion['id']}", headers=as_staff)).json()["uses"] == USES
    # A refused guest's cart still holds its line and code; without the code they order at full price.
    as_guest, address = next(g for g, a in zip(guests, answers, strict=True) if a.status_code == 409)
    cart = (await api.get("/api/v1/cart", headers=as_guest)).json()
    assert (cart["promotion_code"], cart["discount_total"], cart["promotion_code_problem"]["reason"]) == (
        code, "0.00", "used_up")
    r = await api.delete("/api/v1/cart/promotion-code", headers=as_guest)
    assert r.status_code == 200 and r.json()["promotion_code"] is None
    r = await api.post("/api/v1/orders", headers=as_guest, json={"shipping_address_id": address,
                                                                "expected_discount": "0.00"})
    assert r.status_code == 201 and r.json()["discount_total"] == "0.00", r.text
