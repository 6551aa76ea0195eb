"""Returns through the gateway, in both modes: a customer returns part of a delivered order,
staff receive it, the refund and its credit note follow and the resaleable line's stock comes back
(the other's does not); a return received twice refunds once; a staff refund racing a return's
never refunds more than was paid."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.journeys import customer, poll, staff
from infra.returns import delivered_order, stock, two_products

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e


async def _open(api: httpx.AsyncClient, auth: dict[str, str], order: dict[str, Any],
                items: list[dict[str, Any]]) -> dict[str, Any]:
    response = await api.post(f"/api/v1/orders/{order['id']}/returns", headers=auth, json={
        "items": [{"order_item_id": item["id"], "quantity": item["quantity"]} for item in items], "reason": "Not as shown"})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _receive(api: httpx.AsyncClient, as_staff: dict[str, str], ret: dict[str, Any], restock: dict[str, bool],
                   *, refund_shipping: bool) -> httpx.Response:
    return await api.post(f"/api/v1/staff/returns/{ret['id']}/receive", headers=as_staff, json={
        "items": [{"order_item_id": line["order_item_id"], "quantity": line["quantity"],
                   "resaleable": restock.get(line["sku"], False)} for line in ret["items"]],
        "refund_shipping": refund_shipping})


async def _refunded_return(api: httpx.AsyncClient, auth: dict[str, str], order: dict[str, Any]) -> dict[str, Any]:
    async def settled() -> dict[str, Any] | None:
        [ret] = (await api.get(f"/api/v1/orders/{order['id']}/returns", headers=auth)).json()
        return dict(ret) if ret["status"] == "refunded" else None

    return await poll(settled, timeout=40, message="the return refunded")


async def _money(api: httpx.AsyncClient, as_staff: dict[str, str], order: dict[str, Any]) -> dict[str, Any]:
    response = await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=as_staff)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_a_return_is_received_refunded_credited_and_restocked_once(api: httpx.AsyncClient) -> None:
    auth, as_staff = await customer(api), await staff(api)
    products = await two_products(api)
    order = await delivered_order(api, auth, as_staff, products)
    resaleable, damaged = (next(i for i in order["items"] if i["product_id"] == p["id"]) for p in products)
    stranger = await customer(api)
    assert_error(await api.post(f"/api/v1/orders/{order['id']}/returns", headers=stranger, json={
        "items": [{"order_item_id": resaleable["id"]}], "reason": "mine?"}), 404, "NOT_FOUND")
    ret = await _open(api, auth, order, [resaleable, damaged])
    assert_error(await api.post(f"/api/v1/orders/{order['id']}/returns", headers=auth, json={
        "items": [{"order_item_id": resaleable["id"]}], "reason": "again"}), 409, "RETURN_QUANTITY_EXCEEDED")
    listed = (await api.get("/api/v1/staff/returns", params={"status": "requested", "order_id": order["id"]},
                            headers=as_staff)).json()
    assert [r["id"] for r in listed["results"]] == [ret["id"]]
    before = {p["id"]: await stock(api, p["id"]) for p in products}

    # Staff receive it twice at once: one receipt, one refund.
    answers = await asyncio.gather(*(_receive(api, as_staff, ret, {resaleable["sku"]: True}, refund_shipping=True)
                                     for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    received = next(a.json() for a in answers if a.status_code == 200)
    assert Decimal(received["amount"]) == Decimal(order["total_amount"])  # everything, shipping included

    settled = await _refunded_return(api, auth, order)
    assert settled["refunded_amount"] == received["amount"]

    async def credited() -> dict[str, Any] | None:
        invoice: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                                                 headers={**auth, "Accept": "application/json"})).json()
        return invoice if invoice["credit_notes"] else None

    invoice = await poll(credited, timeout=40, message="the return's credit note")
    [note] = invoice["credit_notes"]
    assert note["amount"] == received["amount"] and note["reason"] == f"Return {ret['number']}"

    async def restocked() -> bool:
        return await stock(api, products[0]["id"]) == before[products[0]["id"]] + 1

    await poll(restocked, timeout=40, message="the resaleable unit back in stock")
    assert await stock(api, products[1]["id"]) == before[products[1]["id"]]  # damaged: not resold

    async def returned() -> bool:
        return bool((await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()["status"] == "returned")

    await poll(returned, timeout=40, message="the order returned")
    money = await _money(api, as_staff, order)
    assert money["total_refunded"] == order["total_amount"] and len(money["refunds"]) == 1


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_a_staff_refund_racing_a_return_never_refunds_more_than_paid(api: httpx.AsyncClient) -> None:
    auth, as_staff = await customer(api), await staff(api)
    products = await two_products(api)
    order = await delivered_order(api, auth, as_staff, products)
    ret = await _open(api, auth, order, order["items"])
    total = Decimal(order["total_amount"])
    staff_refund, receipt = await asyncio.gather(
        api.post("/api/v1/payments/refunds", headers=as_staff,
                 json={"order_id": order["id"], "amount": str(total - Decimal("1.00")), "reason": "goodwill"}),
        _receive(api, as_staff, ret, {}, refund_shipping=True))
    assert receipt.status_code == 200, receipt.text
    # The staff refund loses in one of two ways: 409 while the return's refund holds the payment, or
    # 400 REFUND_EXCEEDS_PAYMENT once that refund has taken everything.
    lost_to_the_return = (staff_refund.status_code == 400
                          and staff_refund.json()["error"]["code"] == "REFUND_EXCEEDS_PAYMENT")
    assert staff_refund.status_code in (201, 409) or lost_to_the_return, staff_refund.text
    settled = await _refunded_return(api, auth, order)
    money = await _money(api, as_staff, order)
    refunded = [Decimal(r["amount"]) for r in money["refunds"] if r["status"] == "succeeded"]
    assert sum(refunded) <= total and Decimal(money["total_refunded"]) <= total
    assert len([r for r in money["refunds"] if r["reason"] == f"Return {ret['number']}"]) == 1
    if staff_refund.status_code == 201:  # the return got what was left
        assert Decimal(settled["refunded_amount"]) == Decimal("1.00")
        assert Decimal(money["total_refunded"]) == total
    if lost_to_the_return:  # the return got everything, and nothing else was refunded
        assert Decimal(staff_refund.json()["error"]["details"]["refundable"]) == 0
        assert Decimal(settled["refunded_amount"]) == Decimal(money["total_refunded"]) == total
