"""Gift cards bought as products through the gateway: staff make a 50.00 gift card product; a guest
buys one for a friend and pays on the local provider's page; the friend's mail holds the code, and
the code pays part of another order."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import httpx
import pytest
from checkout.test_checkout import ADDRESS, order_with_status, pay_locally
from infra.journeys import poll, staff

pytestmark = pytest.mark.e2e
URLS = {"success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"}
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")


async def _guest(guest: httpx.AsyncClient) -> dict[str, str]:
    return {"X-Session-ID": (await guest.get("/api/v1/cart")).headers["x-anonymous-token"]}


async def test_a_gift_card_bought_for_a_friend_is_mailed_to_them_and_pays_their_order(
        api: httpx.AsyncClient) -> None:
    as_staff = await staff(api)
    sku = f"GIFT-{uuid.uuid4().hex[:8].upper()}"
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": "Gift card", "sku": sku, "price": "50.00", "kind": "gift_card", "currency": "USD"})
    assert r.status_code == 201, r.text
    card_product = r.json()
    assert (card_product["tax_class"], card_product["track_inventory"]) == ("zero", False)
    friend = f"friend-{uuid.uuid4().hex[:8]}@example.com"

    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        as_guest = await _guest(guest)
        r = await guest.post("/api/v1/orders", headers=as_guest, json={
            "email": f"buyer-{uuid.uuid4().hex[:8]}@example.com",
            "items": [{"product_id": card_product["id"], "quantity": 1, "gift_recipient_email": friend,
                       "gift_message": "Happy birthday!"}]})
        assert r.status_code == 201, r.text
        order = r.json()
        # Nothing ships and nothing is taxed at sale.
        assert (order["total_amount"], order["shipping_cost"], order["tax_amount"]) == ("50.00", "0.00", "0.00")
        await order_with_status(guest, order["id"], "awaiting_payment", as_guest)
        r = await guest.post("/api/v1/payments/checkout", headers=as_guest, json={"order_id": order["id"], **URLS})
        assert r.status_code == 200, r.text
        await pay_locally(guest, r.json()["checkout_url"])
        # Nothing to ship: paid, the order is complete at once (as a credit pack's).
        await order_with_status(guest, order["id"], "completed", as_guest)

    async def mailed() -> str | None:
        results = (await api.get("/api/dev/mailbox", params={"to": friend})).json()["results"]
        codes = [match.group(0) for m in results if (match := CODE.search(m["text"]))]
        return codes[0] if codes else None

    code = await poll(mailed, timeout=60, message="the gift card's mail to its recipient")
    mail = (await api.get("/api/dev/mailbox", params={"to": friend})).json()["results"][0]
    assert "50.00 USD" in mail["subject"] and "Happy birthday!" in mail["text"]

    # The friend spends it on an order worth more: the card pays 50.00, the provider the rest.
    # Its own product: the demo's stock is shared with every other test on this platform.
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": "Vase", "sku": f"VASE-{uuid.uuid4().hex[:8].upper()}", "price": "20.00", "currency": "USD",
        "stock_quantity": 10})
    assert r.status_code == 201, r.text
    product = r.json()
    quantity = 4  # 80.00: the card pays 50.00 of it
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as buyer:
        as_buyer = await _guest(buyer)
        r = await buyer.post("/api/v1/cart/items", headers=as_buyer,
                             json={"product_id": product["id"], "quantity": min(quantity, 10)})
        assert r.status_code == 201, r.text
        r = await buyer.post("/api/v1/addresses", headers=as_buyer, json={**ADDRESS, "email": friend})
        assert r.status_code == 201, r.text
        r = await buyer.post("/api/v1/orders", headers=as_buyer, json={"shipping_address_id": r.json()["id"]})
        assert r.status_code == 201, r.text
        second = r.json()
        assert Decimal(second["total_amount"]) > Decimal("50.00"), "the card pays only part of it"
        await order_with_status(buyer, second["id"], "awaiting_payment", as_buyer)
        r = await buyer.post("/api/v1/payments/checkout", headers=as_buyer,
                             json={"order_id": second["id"], "gift_cards": [code], **URLS})
        assert r.status_code == 200, r.text
        assert Decimal(r.json()["gift_card_amount"]) == Decimal("50.00")
        await pay_locally(buyer, r.json()["checkout_url"])
        await order_with_status(buyer, second["id"], "paid", as_buyer)
