"""Business prices through the gateway, in both modes, with the shared cache on: a business
customer (one with a company name: identity signs the `business` group into the token) sees and
pays the storefront's price list in the catalog, the cart and the order; a consumer and an
anonymous visitor never see it — asked for the same product right after each other, in either
order, each is served its own price, from the cache too."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import ADDRESS, PASSWORD, customer, login, poll, register_verified, staff

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e
LISTS = "/api/v1/staff/price-lists"


async def _product(api: httpx.AsyncClient, admin: dict[str, str], price: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8].upper()
    made = await api.post("/api/v1/products", headers=admin, json={
        "name": f"Travertine slab {tag}", "sku": f"SLAB-{tag}", "price": price, "stock_quantity": 50})
    assert made.status_code == 201, made.text
    return made.json()


async def _business_customer(api: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, Any]]:
    account = await register_verified(api, company_name="Stone Works Ltd")
    tokens = await login(api, account["email"])
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    assert (await api.get("/api/v1/users/me", headers=auth)).json()["is_business_customer"] is True
    return auth, tokens


async def _price(api: httpx.AsyncClient, path: str, headers: dict[str, str], platform: Platform, *,
                 hit: bool = False) -> tuple[str, str | None]:
    response = await api.get(path, headers=headers)
    assert response.status_code == 200, response.text
    if hit and platform.caches:
        assert response.headers.get("x-cache") == "hit", path
    body = response.json()
    return body["price"], body.get("list_price")


async def _ordered(api: httpx.AsyncClient, auth: dict[str, str], product: dict[str, Any]) -> dict[str, Any]:
    added = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 2})
    assert added.status_code == 201, added.text
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    placed = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})
    assert placed.status_code == 201, placed.text
    return {"cart": added.json(), "order": placed.json()}


async def test_business_customers_see_and_pay_their_price_and_nobody_else_does(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    first, second = await _product(api, admin, "100.00"), await _product(api, admin, "40.00")
    made = await api.post(LISTS, headers=admin, json={
        "name": "Business", "storefront": "default", "currency": "USD", "customer_group": "business",
        "prices": [{"product_id": first["id"], "price": "80.00"}, {"product_id": second["id"], "price": "35.50"}]})
    assert made.status_code == 201, made.text
    business, _ = await _business_customer(api)
    consumer = await customer(api)
    anonymous: dict[str, str] = {}
    detail = f"/api/v1/products/{first['id']}"

    # The same detail as business, then as a consumer, then anonymous; and again, from the cache.
    business_price = ("80.00", "100.00")
    public_price = ("100.00", None)
    for round_ in range(2):
        assert await _price(api, detail, business, platform, hit=round_ == 1) == business_price
        assert await _price(api, detail, consumer, platform, hit=round_ == 1) == public_price
        assert await _price(api, detail, anonymous, platform, hit=round_ == 1) == public_price
    # The reverse order, on a product nobody has read yet.
    other = f"/api/v1/products/{second['id']}"
    for round_ in range(2):
        assert await _price(api, other, anonymous, platform, hit=round_ == 1) == ("40.00", None)
        assert await _price(api, other, consumer, platform, hit=round_ == 1) == ("40.00", None)
        assert await _price(api, other, business, platform, hit=round_ == 1) == ("35.50", "40.00")
    # Lists and searches too; a group's answer is never public (no CDN keeps it).
    search = await api.get("/api/v1/products", params={"search": first["sku"]}, headers=business)
    assert [(p["price"], p["price_list"]["name"]) for p in search.json()["results"]] == [("80.00", "Business")]
    assert search.headers["cache-control"].startswith("private")
    public = await api.get("/api/v1/products", params={"search": first["sku"]}, headers=consumer)
    assert [(p["price"], p["list_price"], p["price_list"]) for p in public.json()["results"]] == [
        ("100.00", None, None)]
    assert public.headers["cache-control"].startswith("public")

    # The cart freezes what each pays; the order charges it (the price shown is the price charged).
    bought = await _ordered(api, business, first)
    assert [(i["unit_price"]) for i in bought["cart"]["items"]] == ["80.00"]
    assert [(i["unit_price"], i["line_total"]) for i in bought["order"]["items"]] == [("80.00", "160.00")]
    assert bought["order"]["subtotal"] == "160.00"
    paid_full = await _ordered(api, consumer, first)
    assert [i["unit_price"] for i in paid_full["cart"]["items"]] == ["100.00"]
    assert paid_full["order"]["subtotal"] == "200.00"


async def test_a_company_name_takes_effect_at_the_next_refresh_and_a_list_change_at_once(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    product = await _product(api, admin, "60.00")
    made = (await api.post(LISTS, headers=admin, json={
        "name": "Business", "storefront": "default", "currency": "USD", "customer_group": "business",
        "prices": [{"product_id": product["id"], "price": "45.00"}]})).json()
    account = await register_verified(api)
    tokens = await login(api, account["email"], PASSWORD)
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    path = f"/api/v1/products/{product['id']}"
    assert await _price(api, path, auth, platform) == ("60.00", None)
    changed = await api.patch("/api/v1/users/me", headers=auth, json={"company_name": "Marble & Co"})
    assert changed.status_code == 200 and changed.json()["is_business_customer"] is True
    assert await _price(api, path, auth, platform) == ("60.00", None)  # the token still says no group
    refreshed = await api.post("/api/v1/auth/refresh", json={"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200, refreshed.text
    auth = {"Authorization": f"Bearer {refreshed.json()['access']}"}
    assert await _price(api, path, auth, platform) == ("45.00", "60.00")

    # Staff deactivate the list: the group's cached answer goes with the commit.
    off = await api.patch(f"{LISTS}/{made['id']}", headers={**admin, "If-Match": made["version"]},
                          json={"is_active": False})
    assert off.status_code == 200, off.text

    async def public_again() -> bool:
        return await _price(api, path, auth, platform) == ("60.00", None)

    await poll(public_again, message="the deactivated list's price gone")
