"""Draft orders through the gateway: staff take an order for a new e-mail, with a custom price and a
discount, send it; the customer pays it through the mailed link on the local provider's page."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.journeys import latest_mail, poll, simple_product_in_stock, staff

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e

DRAFTS = "/api/v1/staff/draft-orders"
REDIRECTS = {"success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"}
ADDRESS = {"full_name": "Grace Hopper", "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105",
           "country": "GE"}


async def _sent_draft(api: httpx.AsyncClient, auth: dict[str, str], email: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A draft for `email`: two units of a demo product a euro below catalog's price (with the reason),
    a manual discount, shipped to Tbilisi; sent. (The draft as last previewed, the send's answer.)"""
    product = await simple_product_in_stock(api, min_stock=2)
    custom = str(Decimal(product["price"]) - Decimal("1.00"))
    r = await api.post(DRAFTS, headers=auth, json={"email": email})
    assert r.status_code == 201, r.text
    draft = r.json()
    r = await api.post(f"{DRAFTS}/{draft['id']}/lines", headers=auth, json={
        "product_id": product["id"], "quantity": 2, "unit_price": custom, "price_reason": "Agreed on the phone"})
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["unit_price"] == custom and r.json()["lines"][0]["custom_price"] is True
    r = await api.patch(f"{DRAFTS}/{draft['id']}", headers=auth, json={
        "manual_discount": "1.50", "manual_discount_reason": "Goodwill", "shipping_address": ADDRESS})
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["problem"] is None and draft["preview"]["discount"] == "1.50", draft
    r = await api.post(f"{DRAFTS}/{draft['id']}/send", headers=auth)
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["total_amount"] == draft["preview"]["total_amount"]
    return draft, sent


async def _staff_order(api: httpx.AsyncClient, auth: dict[str, str], order_id: str, status: str,
                       ready: Any = None) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        r = await api.get(f"/api/v1/staff/orders/{order_id}", headers=auth)
        assert r.status_code == 200, r.text
        order = r.json()
        return order if order["status"] == status and (ready is None or ready(order)) else None

    return await poll(check, timeout=30, message=f"order {status}")


async def _link(api: httpx.AsyncClient, email: str) -> httpx.URL:
    mail = await latest_mail(api, email, "to pay")
    found = re.search(r"https?://\S+/pay\?order_id=[^\s\"<>]+", mail["text"])
    assert found, mail["text"]
    return httpx.URL(found.group(0))


async def _checkout(guest: httpx.AsyncClient, link: httpx.URL) -> str:
    """What the storefront's pay page does with the link: a checkout of that order, with its token."""
    r = await guest.post("/api/v1/payments/checkout", json={
        "order_id": link.params["order_id"], "payment_token": link.params["token"], **REDIRECTS})
    assert r.status_code == 200, r.text
    return str(r.json()["checkout_url"])


async def _pay(guest: httpx.AsyncClient, checkout_url: str) -> None:
    assert (await guest.get(checkout_url)).status_code == 200
    r = await guest.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text


@pytest.mark.modes("embedded", "distributed",
                   why="the link across processes: orders signs it, identity mails it, payments checks it")
async def test_a_draft_sent_to_a_new_email_is_paid_through_its_link_at_the_previewed_total(
        api: httpx.AsyncClient) -> None:
    auth = await staff(api)
    email = f"phone-{uuid.uuid4().hex[:10]}@example.com"
    draft, sent = await _sent_draft(api, auth, email)
    # Sending again is the same order.
    again = await api.post(f"{DRAFTS}/{draft['id']}/send", headers=auth)
    assert again.status_code == 200 and again.json()["order_id"] == sent["order_id"]
    # Catalog reserved the stock: the order awaits payment, as a checkout's does.
    await _staff_order(api, auth, sent["order_id"], "awaiting_payment")
    link = await _link(api, email)
    assert link.params["order_id"] == sent["order_id"]
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        # A stranger's anonymous token, no account: the link's token is what lets it pay this order.
        assert_error(await guest.post("/api/v1/payments/checkout", json={"order_id": sent["order_id"], **REDIRECTS}),
                     404, "NOT_FOUND")
        await _pay(guest, await _checkout(guest, link))
    order = await _staff_order(api, auth, sent["order_id"], "paid")
    assert order["total_amount"] == draft["preview"]["total_amount"]
    assert order["discount"] == "1.50" and order["items"][0]["unit_price"] == draft["lines"][0]["unit_price"]

    async def invoiced() -> dict[str, Any] | None:
        r = await api.get(f"/api/v1/staff/orders/{sent['order_id']}/invoice", headers={**auth,
                                                                                        "Accept": "application/json"})
        return r.json() if r.status_code == 200 else None

    invoice = await poll(invoiced, timeout=30, message="the invoice")
    assert invoice["total_amount"] == draft["preview"]["total_amount"]


@pytest.mark.modes("embedded", why="payments' idempotency is the same in both modes")
async def test_a_draft_order_paid_twice_pays_once(api: httpx.AsyncClient) -> None:
    auth = await staff(api)
    email = f"twice-{uuid.uuid4().hex[:10]}@example.com"
    _, sent = await _sent_draft(api, auth, email)
    await _staff_order(api, auth, sent["order_id"], "awaiting_payment")
    link = await _link(api, email)
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        # The link opened twice (two tabs): two checkouts, both paid.
        first, second = await _checkout(guest, link), await _checkout(guest, link)
        await _pay(guest, first)
        await _pay(guest, second)
        # Once paid, the link starts no other payment.
        r = await guest.post("/api/v1/payments/checkout", json={
            "order_id": sent["order_id"], "payment_token": link.params["token"], **REDIRECTS})
        assert_error(r, 409, "ORDER_NOT_PAYABLE")
    # The second payment is given back in full; the order stays paid once.
    order = await _staff_order(api, auth, sent["order_id"], "paid", ready=lambda o: o["refunds"])
    assert [p["kind"] for p in order["payments"]] == ["payment"]
    assert [(r["kind"], r["amount"]) for r in order["refunds"]] == [("returned", sent["total_amount"])]
