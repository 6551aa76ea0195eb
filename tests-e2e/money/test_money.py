"""Money integrity through the gateway, in both modes: a retried order is placed once (Idempotency-Key),
and staff refund part of a paid order, then the rest, and never more."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest
from infra.journeys import customer, poll, simple_product_in_stock, staff

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105", "country": "GE",
           "phone": "+995555000111", "email": "grace@example.com"}


async def _cart_and_address(api: httpx.AsyncClient, headers: dict[str, str]) -> dict:
    product = await simple_product_in_stock(api)
    r = await api.post("/api/v1/cart/items", headers=headers, json={"product_id": product["id"], "quantity": 1})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/addresses", headers=headers, json=ADDRESS)
    assert r.status_code == 201, r.text
    return {"shipping_address_id": r.json()["id"]}


async def _order(api: httpx.AsyncClient, order_id: str, headers: dict[str, str], status: str) -> dict:
    async def check() -> dict | None:
        r = await api.get(f"/api/v1/orders/{order_id}", headers=headers)
        if r.status_code == 503:
            return None
        assert r.status_code == 200, r.text
        return r.json() if r.json()["status"] == status else None

    return await poll(check, timeout=30, message=f"order {status}")


@pytest.mark.modes("embedded", "distributed",
                   why="one idempotency key held in one process's SQLite (embedded) or across processes on PostgreSQL (distributed)")
async def test_ten_parallel_retries_with_one_idempotency_key_place_one_order(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    body = await _cart_and_address(api, auth)
    keyed = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    responses = await asyncio.gather(*(api.post("/api/v1/orders", headers=keyed, json=body) for _ in range(10)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    listed = await api.get("/api/v1/orders", headers=auth)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert listed.json()["results"][0]["id"] == responses[0].json()["id"]
    # The same key with another body is refused; no header places as before.
    other = await api.post("/api/v1/orders", headers=keyed, json={**body, "notes": "another body"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_staff_refund_part_then_the_rest_and_never_more(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    order = (await api.post("/api/v1/orders", headers=auth, json=await _cart_and_address(api, auth))).json()
    await _order(api, order["id"], auth, "awaiting_payment")
    r = await api.post("/api/v1/payments/checkout", headers=auth, json={
        "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    assert r.status_code == 200, r.text
    checkout_url = r.json()["checkout_url"]
    r = await api.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    await _order(api, order["id"], auth, "paid")

    total = Decimal(order["total_amount"])
    as_staff = await staff(api)
    refund = {"order_id": order["id"], "reason": "damaged in transit"}
    # A customer refunds nothing (the refundable amount below is the whole total less staff's 10.00).
    assert_error(await api.post("/api/v1/payments/refunds", headers=auth, json={**refund, "amount": "1.00"}),
                 403, "PERMISSION_DENIED")
    first = await api.post("/api/v1/payments/refunds", headers=as_staff, json={**refund, "amount": "10.00"})
    assert first.status_code == 201, first.text
    assert Decimal(first.json()["refundable"]) == total - Decimal("10.00")
    rest = await api.post("/api/v1/payments/refunds", headers=as_staff,
                          json={**refund, "amount": str(total - Decimal("10.00"))})
    assert rest.status_code == 201, rest.text
    assert Decimal(rest.json()["total_refunded"]) == total
    more = await api.post("/api/v1/payments/refunds", headers=as_staff, json={**refund, "amount": "0.01"})
    assert more.status_code == 400 and more.json()["error"]["code"] == "REFUND_EXCEEDS_PAYMENT", more.text

    ledger = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
    refunds = sorted(Decimal(str(e["amount"])) for e in ledger if e["kind"] == "refund")
    assert refunds == sorted([Decimal("-10.00"), -(total - Decimal("10.00"))])

    # Orders heard both payment.refunded events; a live (not cancelled) order stays paid.
    async def both_noted() -> dict | None:
        found = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        notes = [h.get("note") or "" for h in found["status_history"]]
        return found if sum("Refund of" in n for n in notes) == 2 else None

    final = await poll(both_noted, timeout=30, message="two refunds noted on the order")
    assert final["status"] == "paid"
