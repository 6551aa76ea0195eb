"""Group prices through the gateway, in both modes, with the shared cache on: a member of a
customer group (staff put it there: identity signs the group into the token for that storefront)
sees and pays the storefront's price list in the catalog, the cart and the order; a consumer and an
anonymous visitor never see it — asked for the same product right after each other, in either
order, each is served its own price, from the cache too. A company name alone gives nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jwt
import pytest
from infra.journeys import (
    ADDRESS,
    GROUPS,
    PASSWORD,
    customer,
    customer_group,
    join_group,
    login,
    poll,
    price_list,
    refreshed_auth,
    register_verified,
    staff,
)

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e
LISTS = "/api/v1/staff/price-lists"


async def _product(api: httpx.AsyncClient, admin: dict[str, str], price: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8].upper()
    made = await api.post("/api/v1/products", headers=admin, json={
        "name": f"Travertine slab {tag}", "sku": f"SLAB-{tag}", "price": price, "stock_quantity": 50})
    assert made.status_code == 201, made.text
    return made.json()


async def _business_customer(api: httpx.AsyncClient, admin: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """A member of the default storefront's `business` group, signed in after staff put it there."""
    account = await register_verified(api, company_name="Stone Works Ltd")
    await join_group(api, admin, await customer_group(api, admin, "business"), account["email"])
    tokens = await login(api, account["email"])
    return {"Authorization": f"Bearer {tokens['access']}"}, tokens


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
    await customer_group(api, admin, "business")
    await price_list(api, admin, name="Business", storefront="default", currency="USD", customer_group="business",
                     prices=[{"product_id": first["id"], "price": "80.00"}, {"product_id": second["id"], "price": "35.50"}])
    business, _ = await _business_customer(api, admin)
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


async def test_a_company_name_gives_no_group_price(platform: Platform, api: httpx.AsyncClient) -> None:
    """A customer reaches no group price by what it sends: the company name is shown, nothing more."""
    admin = await staff(api)
    product = await _product(api, admin, "60.00")
    await customer_group(api, admin, "business")
    await price_list(api, admin, name="Business", storefront="default", currency="USD", customer_group="business",
                     prices=[{"product_id": product["id"], "price": "45.00"}])
    account = await register_verified(api)
    tokens = await login(api, account["email"], PASSWORD)
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    changed = await api.patch("/api/v1/users/me", headers=auth, json={"company_name": "Totally Real Ltd"})
    assert changed.status_code == 200 and changed.json()["is_business_customer"] is True
    auth = await refreshed_auth(api, tokens)
    assert await _price(api, f"/api/v1/products/{product['id']}", auth, platform) == ("60.00", None)


@pytest.mark.modes("embedded", "distributed", why="the group's events reach catalog and the gateway in process "
                  "(embedded) and through the broker (distributed)")
async def test_staff_assign_a_new_group_its_price_reaches_its_members_alone(
        platform: Platform, api: httpx.AsyncClient) -> None:
    """Staff make `wholesale` on marbelle and a price list for it, and put a customer in: from its
    next refresh that customer (on marbelle) sees and pays the wholesale price; another customer
    and an anonymous caller never get it, not even from the cache right after; on another
    storefront the member's token carries no group. Staff remove it: the price goes with its next token."""
    admin = await staff(api)
    marbelle = {"X-Atelier-Storefront": "marbelle"}
    tag = uuid.uuid4().hex[:8].upper()
    made = await api.post("/api/v1/products", headers=admin, json={
        "name": f"Calacatta slab {tag}", "sku": f"CALA-{tag}", "price": "200.00", "stock_quantity": 50,
        "storefronts": ["marbelle"]})
    assert made.status_code == 201, made.text
    product = made.json()
    group = await customer_group(api, admin, f"wholesale-{tag.lower()}", "marbelle")
    await price_list(api, admin, name="Wholesale", storefront="marbelle", currency="USD",
                     customer_group=group["code"], prices=[{"product_id": product["id"], "price": "150.00"}])
    member_account, other_account = await register_verified(api), await register_verified(api)
    member = await login(api, member_account["email"], **marbelle)
    other = await login(api, other_account["email"], **marbelle)
    path = f"/api/v1/products/{product['id']}"
    assert await _price(api, path, {"Authorization": f"Bearer {member['access']}", **marbelle}, platform) == (
        "200.00", None)

    joined = await join_group(api, admin, group, member_account["email"])
    assert [m["email"] for m in joined["changed"]] == [member_account["email"]]
    # Its old token is refused once the gateway heard of the change; the refreshed one carries the group.
    old = {"Authorization": f"Bearer {member['access']}", **marbelle}

    async def old_token_refused() -> bool:
        return (await api.get("/api/v1/users/me", headers=old)).status_code == 401

    await poll(old_token_refused, message="the member's old token refused")
    as_member = {**await refreshed_auth(api, member, **marbelle), **marbelle}
    as_other = {"Authorization": f"Bearer {other['access']}", **marbelle}
    for round_ in range(2):  # the second time from the cache
        assert await _price(api, path, as_member, platform, hit=round_ == 1) == ("150.00", "200.00")
        assert await _price(api, path, as_other, platform, hit=round_ == 1) == ("200.00", None)
        assert await _price(api, path, marbelle, platform, hit=round_ == 1) == ("200.00", None)
    added = await api.post("/api/v1/cart/items", headers=as_member, json={"product_id": product["id"], "quantity": 1})
    assert added.status_code == 201 and [i["unit_price"] for i in added.json()["items"]] == ["150.00"]
    # The same account on the default storefront is in no group there.
    await refreshed_auth(api, member)
    assert "grp" not in jwt.decode(member["access"], options={"verify_signature": False})

    removed = await api.delete(f"{GROUPS}/{group['id']}/members/{member_account['user']['user']['id']}", headers=admin)
    assert removed.status_code == 200, removed.text
    as_member = {**await refreshed_auth(api, member, **marbelle), **marbelle}
    assert await _price(api, path, as_member, platform) == ("200.00", None)


async def test_staff_assign_many_customers_at_once_all_or_nothing(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    group = await customer_group(api, admin, f"bulk-{uuid.uuid4().hex[:8]}")
    accounts = [await register_verified(api) for _ in range(3)]
    emails = [account["email"] for account in accounts]
    missing = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    refused = await api.post(f"{GROUPS}/{group['id']}/members", headers=admin, json={"customers": [*emails, missing]})
    assert refused.status_code == 404, refused.text
    assert refused.json()["error"]["details"]["not_found"] == [missing]
    assert (await api.get(f"{GROUPS}/{group['id']}", headers=admin)).json()["members"] == 0
    joined = await join_group(api, admin, group, *emails)
    assert sorted(m["email"] for m in joined["changed"]) == sorted(emails)
    members = (await api.get(f"{GROUPS}/{group['id']}/members", headers=admin)).json()
    assert sorted(m["email"] for m in members["results"]) == sorted(emails)
    tokens = await login(api, emails[0])
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert (claims["grp"], claims["grp_sf"]) == (group["code"], "default")


async def test_a_list_change_reaches_the_groups_cached_answers_at_once(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    product = await _product(api, admin, "60.00")
    await customer_group(api, admin, "business")
    made = await price_list(api, admin, name="Business", storefront="default", currency="USD",
                            customer_group="business", prices=[{"product_id": product["id"], "price": "45.00"}])
    auth, _ = await _business_customer(api, admin)
    path = f"/api/v1/products/{product['id']}"
    assert await _price(api, path, auth, platform) == ("45.00", "60.00")

    # Staff deactivate the list: the group's cached answer goes with the commit.
    off = await api.patch(f"{LISTS}/{made['id']}", headers={**admin, "If-Match": made["version"]},
                          json={"is_active": False})
    assert off.status_code == 200, off.text

    async def public_again() -> bool:
        return await _price(api, path, auth, platform) == ("60.00", None)

    await poll(public_again, message="the deactivated list's price gone")
