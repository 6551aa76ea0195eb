"""Gift cards through the gateway: staff issue a card; a guest pays part of a physical order with it
and the rest on the local provider's page; another order is paid by the card alone; balances and
the orders' paid status follow, and a refund goes back to the card."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from checkout.test_checkout import order_with_status, pay_locally, physical_product, place_from_cart
from infra.journeys import poll, staff

pytestmark = pytest.mark.e2e
URLS = {"success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"}


async def _balance(api: httpx.AsyncClient, as_staff: dict[str, str], card_id: str) -> Decimal:
    r = await api.get(f"/api/v1/staff/gift-cards/{card_id}", headers=as_staff)
    assert r.status_code == 200, r.text
    return Decimal(r.json()["balance"])


async def _guest_order(guest: httpx.AsyncClient, product: dict) -> tuple[dict[str, str], dict]:
    """A new guest's order of `product`, awaiting payment (the guest's client keeps its cookie)."""
    token = (await guest.get("/api/v1/cart")).headers["x-anonymous-token"]
    as_guest = {"X-Session-ID": token}
    order = await place_from_cart(guest, as_guest, product, 1, email=f"guest-{uuid.uuid4().hex[:8]}@example.com")
    await order_with_status(guest, order["id"], "awaiting_payment", as_guest)
    return as_guest, order


@pytest.mark.modes("embedded", "distributed",
                   why="the card's balance moves in one process's SQLite (embedded) or under PostgreSQL's row locks")
async def test_a_gift_card_pays_part_of_one_order_and_all_of_another_and_takes_a_refund(
        api: httpx.AsyncClient) -> None:
    as_staff = await staff(api)
    product = await physical_product(api)

    # Whole: the card pays the first order alone; no provider page.
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        as_guest, whole = await _guest_order(guest, product)
        # Worth the first order and 10.00 more: the second order it pays only in part.
        issued = await api.post("/api/v1/staff/gift-cards", headers=as_staff, json={
            "amount": str(Decimal(whole["total_amount"]) + Decimal("10.00")), "note": "e2e",
            "recipient_email": "e2e@example.com"})
        assert issued.status_code == 201, issued.text
        card_id, code, initial = issued.json()["id"], issued.json()["code"], Decimal(issued.json()["balance"])
        r = await guest.post("/api/v1/payments/gift-cards/balance", headers=as_guest, json={"code": code})
        assert r.status_code == 200 and Decimal(r.json()["balance"]) == initial, r.text
        r = await guest.post("/api/v1/payments/checkout", headers=as_guest,
                             json={"order_id": whole["id"], "gift_cards": [code], **URLS})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "succeeded" and r.json()["session_id"] is None
        await order_with_status(guest, whole["id"], "paid", as_guest)
    total_whole = Decimal(whole["total_amount"])
    left = initial - total_whole
    assert left == Decimal("10.00")
    assert await _balance(api, as_staff, card_id) == left

    # Part: the card pays what it has left, the local provider the rest.
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        as_guest, part = await _guest_order(guest, product)
        total_part = Decimal(part["total_amount"])
        assert total_part > left, "the card covers only part of the second order"
        r = await guest.post("/api/v1/payments/checkout", headers=as_guest,
                             json={"order_id": part["id"], "gift_cards": [code], **URLS})
        assert r.status_code == 200, r.text
        assert Decimal(r.json()["gift_card_amount"]) == left
        assert Decimal(r.json()["amount_due"]) == total_part - left
        await pay_locally(guest, r.json()["checkout_url"])
        paid = await order_with_status(guest, part["id"], "paid", as_guest)
        # The card is a means of payment: the order's total (and its invoice) is as it was.
        assert Decimal(paid["total_amount"]) == total_part
    assert await _balance(api, as_staff, card_id) == Decimal("0.00")

    # A refund of the whole second order: the provider its part, the card the rest.
    r = await api.post("/api/v1/payments/refunds", headers=as_staff,
                       json={"order_id": part["id"], "reason": "e2e refund"})
    assert r.status_code == 201, r.text
    assert await _balance(api, as_staff, card_id) == left
    detail = (await api.get(f"/api/v1/staff/gift-cards/{card_id}", headers=as_staff)).json()
    assert [t["kind"] for t in detail["transactions"]] == ["issued", "used", "used", "refunded"]

    async def refunded() -> bool:
        # Orders heard one refund of the order's whole total, whatever it was paid with.
        r = await api.get(f"/api/v1/staff/orders/{part['id']}", headers=as_staff)
        assert r.status_code in (200, 503), r.text
        notes = [h.get("note") or "" for h in r.json().get("status_history", [])] if r.status_code == 200 else []
        return any(note.startswith("Refund of") and str(total_part) in note for note in notes)

    await poll(refunded, timeout=30, message="the refund recorded on the order")
