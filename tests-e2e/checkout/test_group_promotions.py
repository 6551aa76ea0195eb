"""Promotions for a customer group through the gateway: staff make a group, put a customer in and
make promotions for it; the member's cart, checkout and order get the discount, and the order
charges exactly what the checkout showed. A customer in no group and an anonymous visitor never
do: their carts show none, and the group's code is refused to them with a clear 400."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import (
    ADDRESS,
    customer,
    customer_group,
    join_group,
    login,
    new_anonymous_token,
    poll,
    register_verified,
    staff,
)

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e
PROMOTIONS = "/api/v1/staff/promotions"


async def _promotion(api: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    """A promotion, made as soon as orders heard of its groups (`customer_group.changed`, an event away)."""
    async def made() -> httpx.Response | None:
        response = await api.post(PROMOTIONS, headers=admin, json=body)
        if response.status_code == 400 and "customer_groups" in response.text:
            return None
        return response

    response = await poll(made, message=f"orders knows the groups {body.get('customer_groups')}")
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _checkout(api: httpx.AsyncClient, auth: dict[str, str], product: dict[str, Any]) -> dict[str, Any]:
    """The cart with one unit of `product`, shipping to a new address: what the checkout shows."""
    added = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 1})
    assert added.status_code == 201, added.text
    address = await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)
    assert address.status_code == 201, address.text
    shipped = await api.put("/api/v1/cart/shipping", headers=auth, json={"address_id": address.json()["id"]})
    assert shipped.status_code == 200, shipped.text
    return dict(shipped.json())


async def test_a_groups_promotion_reaches_its_members_alone(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    tag = uuid.uuid4().hex[:8]
    made = await api.post("/api/v1/products", headers=admin, json={
        "name": f"Onyx tile {tag}", "sku": f"ONYX-{tag.upper()}", "price": "100.00", "stock_quantity": 50})
    assert made.status_code == 201, made.text
    product = made.json()
    group = await customer_group(api, admin, f"vip-{tag}")
    account = await register_verified(api)
    await join_group(api, admin, group, account["email"])
    member = {"Authorization": f"Bearer {(await login(api, account['email']))['access']}"}
    # On this product only, so the storefront's other carts are left alone.
    automatic = await _promotion(api, admin, name=f"VIP {tag}", kind="percentage", value="10",
                                 product_ids=[product["id"]], customer_groups=[group["code"]])
    assert automatic["customer_groups"] == [group["code"]]
    code = f"VIP{tag.upper()}"
    await _promotion(api, admin, name=f"VIP code {tag}", code=code, kind="fixed", value="5",
                     product_ids=[product["id"]], customer_groups=[group["code"]])

    shown = await _checkout(api, member, product)
    assert (shown["discount_total"], [d["name"] for d in shown["discounts"]]) == ("10.00", [f"VIP {tag}"])
    placed = await api.post("/api/v1/orders", headers=member, json={"expected_total": shown["total"],
                                                                    "expected_discount": shown["discount_total"]})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["discount_total"], order["total_amount"]) == ("10.00", shown["total"])

    outsider = await customer(api)
    anonymous = {"X-Anonymous-Token": await new_anonymous_token(api)}
    for auth in (outsider, anonymous):
        cart = await _checkout(api, auth, product)
        assert (cart["discount_total"], cart["discounts"]) == ("0.00", [])
        refused = await api.post("/api/v1/cart/promotion-code", headers=auth, json={"code": code.lower()})
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["details"]["reason"]) == ("PROMOTION_CODE_INVALID", "customer_group")
        placed = await api.post("/api/v1/orders", headers=auth, json={"expected_total": cart["total"]})
        assert placed.status_code == 201, placed.text
        assert (placed.json()["discount_total"], placed.json()["total_amount"]) == ("0.00", cart["total"])
    # The member's code applies (in place of the automatic promotion: neither combines).
    again = await api.post("/api/v1/cart/items", headers=member, json={"product_id": product["id"], "quantity": 1})
    assert again.status_code == 201 and again.json()["discount_total"] == "10.00", again.text
    applied = await api.post("/api/v1/cart/promotion-code", headers=member, json={"code": code.lower()})
    assert applied.status_code == 200, applied.text
    assert applied.json()["discount_total"] == "5.00"
