"""Two storefronts on one platform, through the gateway in both modes: each has its own
catalog, currency, tax, mail links and passkeys; an order records where it was placed."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.identity_steps import (
    PASSKEYS,
    bearer,
    expect_error,
    passkey_login_begin,
    passkey_login_complete,
    signed_in_customer,
    unique_email,
)
from infra.journeys import latest_mail, poll, staff

from atelier_testing.fakes.authenticator import SoftwareAuthenticator
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Lyon", "postal_code": "69001", "country": "FR",
           "phone": "+33400000000", "email": "grace@example.com"}


class Two:
    """Storefronts A (USD, 10 % tax, 5.00 shipping) and B (EUR, 20 % tax, 7.50 shipping), each with
    a product of its own, made by staff for one test."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        suffix = uuid.uuid4().hex[:8]
        self.a, self.b = f"a-{suffix}", f"b-{suffix}"
        self.a_origin, self.b_origin = f"https://{self.a}.example", f"https://{self.b}.example"
        self.staff: dict[str, str] = {}
        self.products: dict[str, dict[str, Any]] = {}

    def on(self, slug: str) -> dict[str, str]:
        return {"X-Atelier-Storefront": slug}

    async def create(self) -> Two:
        self.staff = await staff(self.api)
        for slug, origin, currency, rate, shipping in ((self.a, self.a_origin, "USD", "0.10", "5.00"),
                                                       (self.b, self.b_origin, "EUR", "0.20", "7.50")):
            r = await self.api.post("/api/v1/storefronts", headers=self.staff, json={
                "slug": slug, "name": f"Store {slug}", "origins": [origin], "frontend_url": f"{origin}/app",
                "link_paths": {"reset_password": "/password-reset?token={token}",
                               "verify_email": "/auth/verify?token={token}&code={code}"},
                "mail_from": f"Store {slug} <hello@{slug}.example>", "currency": currency,
                "tax": {"rate": rate, "inclusive": False, "shipping_rate": shipping},
                "sells": ["physical", "credit_pack"], "passkey": {"rp_id": f"{slug}.example", "origins": [origin]},
                "statement_descriptor": slug[:10].upper()})
            assert r.status_code == 201, r.text

        async def known_everywhere(slug: str) -> bool:
            r = await self.api.get("/api/v1/storefront", headers=self.on(slug))
            return r.status_code == 200 and r.json()["slug"] == slug

        for slug in (self.a, self.b):
            await poll(lambda slug=slug: known_everywhere(slug), message=f"storefront {slug} known")
        for slug, currency in ((self.a, "USD"), (self.b, "EUR")):
            r = await self.api.post("/api/v1/products", headers=self.staff, json={
                "name": f"Slab of {slug}", "sku": f"SF-{slug}", "price": "100.00", "currency": currency,
                "stock_quantity": 20, "kind": "physical", "storefronts": [slug]})
            assert r.status_code == 201, r.text
            self.products[slug] = r.json()
        return self

    async def listed(self, slug: str, **params: Any) -> set[str]:
        r = await self.api.get("/api/v1/products", headers=self.on(slug), params={"limit": 100, **params})
        assert r.status_code == 200, r.text
        return {p["id"] for p in r.json()["results"]}


async def test_each_storefront_shows_and_sells_only_its_own(api: httpx.AsyncClient) -> None:
    two = await Two(api).create()
    a_product, b_product = two.products[two.a], two.products[two.b]

    async def b_lists_its_own() -> bool:
        return b_product["id"] in await two.listed(two.b, search=f"Slab of {two.b}")

    await poll(b_lists_its_own, timeout=60, message="B's product listed on B")
    assert a_product["id"] not in await two.listed(two.b)
    assert a_product["id"] not in await two.listed(two.b, search=f"Slab of {two.a}")
    assert b_product["id"] not in await two.listed(two.a)
    assert a_product["id"] in await two.listed(two.a, search=f"Slab of {two.a}")
    # The same by the browser's Origin instead of the header.
    r = await api.get("/api/v1/products", headers={"Origin": two.b_origin}, params={"search": f"Slab of {two.a}"})
    assert a_product["id"] not in {p["id"] for p in r.json()["results"]}
    assert r.headers["access-control-allow-origin"] == two.b_origin
    # As if it did not exist: the answer an unknown product gets.
    unknown = await api.get(f"/api/v1/products/{uuid.uuid4()}", headers=two.on(two.b))
    for path in (f"/api/v1/products/{a_product['id']}", f"/api/v1/products/{a_product['slug']}",
                 f"/api/v1/products/{a_product['id']}/reviews"):
        expect_error(await api.get(path, headers=two.on(two.b)), 404, unknown.json()["error"]["code"])
    # The demo stones (every demo product is also the default storefront's) are not B's either.
    assert not await two.listed(two.b, kind="print_tier")

    # Unbuyable through B: the cart refuses it and keeps nothing; an explicit order line too.
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        token = (await guest.get("/api/v1/cart", headers=two.on(two.b))).headers["x-anonymous-token"]
        as_guest = {"X-Session-ID": token, **two.on(two.b)}
        r = await guest.post("/api/v1/cart/items", headers=as_guest, json={"product_id": a_product["id"], "quantity": 1})
        assert r.status_code == 404, r.text
        assert (await guest.get("/api/v1/cart", headers=as_guest)).json()["item_count"] == 0
        address = (await guest.post("/api/v1/addresses", headers=as_guest, json=ADDRESS)).json()
        unknown = await guest.post("/api/v1/orders", headers=as_guest, json={
            "shipping_address_id": address["id"], "items": [{"product_id": str(uuid.uuid4()), "quantity": 1}]})
        r = await guest.post("/api/v1/orders", headers=as_guest, json={
            "shipping_address_id": address["id"], "items": [{"product_id": a_product["id"], "quantity": 1}]})
        expect_error(r, unknown.status_code, unknown.json()["error"]["code"])  # as if it did not exist
        assert (await guest.get("/api/v1/orders", headers=as_guest)).json()["count"] == 0

    # An unknown storefront is refused, and an origin nobody lists is the default without a CORS grant.
    expect_error(await api.get("/api/v1/products", headers=two.on("no-such-store")), 400, "UNKNOWN_STOREFRONT")
    r = await api.get("/api/v1/products", headers={"Origin": "https://nobody.example"}, params={"limit": 100})
    assert "access-control-allow-origin" not in r.headers


async def test_an_order_on_b_has_bs_currency_tax_and_label(platform: Platform, api: httpx.AsyncClient) -> None:
    two = await Two(api).create()
    product = two.products[two.b]
    customer = await signed_in_customer(api)
    auth = {**bearer(customer["access"]), **two.on(two.b)}

    async def added() -> dict | None:
        r = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 2})
        return r.json() if r.status_code == 201 else None  # the cart hears of the product by event

    cart = await poll(added, message="B's product in B's cart")
    assert cart["currency"] == "EUR"
    assert Decimal(cart["tax_amount"]) == Decimal("40.00")  # 20 % of 200.00
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    r = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["storefront"], order["currency"]) == (two.b, "EUR")
    assert (Decimal(order["subtotal"]), Decimal(order["tax_amount"]), Decimal(order["shipping_cost"])) == (
        Decimal("200.00"), Decimal("40.00"), Decimal("7.50"))
    assert Decimal(order["total_amount"]) == Decimal("247.50")

    # Staff see it under B and not under A.
    r = await api.get("/api/v1/orders", headers=two.staff, params={"storefront": two.b, "all": "true", "limit": 100})
    assert r.status_code == 200, r.text
    assert [o["storefront"] for o in r.json()["results"] if o["id"] == order["id"]] == [two.b]
    r = await api.get("/api/v1/orders", headers=two.staff, params={"storefront": two.a, "all": "true", "limit": 100})
    assert order["id"] not in {o["id"] for o in r.json()["results"]}

    # The metrics say where it was sold: the gateway's requests and the orders placed.
    gateway_metrics = (await api.get("/metrics")).text
    assert re.search(rf'atelier_http_requests_total{{[^}}]*storefront="{two.b}"[^}}]*}}', gateway_metrics)
    orders_url = platform.url if platform.mode == "embedded" else _service_url(platform, "orders")
    async with httpx.AsyncClient(timeout=30) as client:
        orders_metrics = (await client.get(f"{orders_url}/metrics")).text
    assert re.search(rf'atelier_orders_placed_total{{[^}}]*storefront="{two.b}"[^}}]*}} 1\.0', orders_metrics)

    # The storefront cannot go while it has orders, nor change currency while one is unpaid.
    expect_error(await api.delete(f"/api/v1/storefronts/{two.b}", headers=two.staff), 409, "STOREFRONT_IN_USE")
    expect_error(await api.patch(f"/api/v1/storefronts/{two.b}", headers=two.staff, json={"currency": "USD"}),
                 409, "STOREFRONT_IN_USE")
    assert (await api.get(f"/api/v1/storefronts/{two.b}", headers=two.staff)).json()["currency"] == "EUR"


def _service_url(platform: Platform, service: str) -> str:
    """A service API's own port in the distributed mode: the gateway's plus its place in the list."""
    from atelier_gateway.settings import SERVICES

    port = int(platform.url.rsplit(":", 1)[1])
    return f"http://127.0.0.1:{port + 1 + SERVICES.index(service)}"


async def test_a_reset_mail_links_into_the_storefront_it_was_asked_from(api: httpx.AsyncClient) -> None:
    two = await Two(api).create()
    customer = await signed_in_customer(api)
    r = await api.post("/api/v1/auth/password-reset", headers={"Origin": two.b_origin},
                       json={"email": customer["email"]})
    assert r.status_code in (200, 202), r.text
    mail = await latest_mail(api, customer["email"], "reset your password")
    assert re.search(rf"{re.escape(two.b_origin)}/app/password-reset\?token=[A-Za-z0-9_\-.%]+", mail["text"]), mail["text"]
    assert two.a_origin not in mail["text"]
    if "from" in mail:
        assert two.b in mail["from"]


async def test_a_passkey_belongs_to_the_storefront_it_was_made_on(api: httpx.AsyncClient) -> None:
    two = await Two(api).create()
    customer = await signed_in_customer(api, unique_email("passkey"))
    on_b = {**two.on(two.b), "Origin": two.b_origin}
    authenticator = SoftwareAuthenticator(origin=two.b_origin)
    begun = await api.post(f"{PASSKEYS}/register/begin", json={"name": "Laptop"},
                           headers={**bearer(customer["access"]), **on_b})
    assert begun.status_code == 200, begun.text
    options = begun.json()
    assert options["rp"]["id"] == f"{two.b}.example"
    done = await api.post(f"{PASSKEYS}/register/complete", headers={**bearer(customer["access"]), **on_b}, json={
        "registration_id": options["registration_id"], "credential": authenticator.create(options)})
    assert done.status_code == 201, done.text

    async with httpx.AsyncClient(base_url=api.base_url, timeout=30, headers=on_b) as browser_b:
        options = await passkey_login_begin(browser_b, customer["email"])
        r = await passkey_login_complete(browser_b, options, authenticator.get(options))
        assert r.status_code == 200, r.text
        assert r.json()["user"]["id"] == customer["id"]

    # On A the same key is refused: A's relying party is not the one it was made for.
    on_a = {**two.on(two.a), "Origin": two.a_origin}
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30, headers=on_a) as browser_a:
        options = await passkey_login_begin(browser_a, customer["email"])
        assert options.get("rpId") == f"{two.a}.example"
        signed = authenticator.get(options, origin=two.a_origin)
        expect_error(await passkey_login_complete(browser_a, options, signed), 400, "PASSKEY_INVALID")


async def test_a_compatibility_profile_sees_its_storefronts_catalog(api: httpx.AsyncClient) -> None:
    """`/compat/marbelle` is the stone shop's storefront: stones yes, print tiers and another
    storefront's product no."""
    two = await Two(api).create()
    a_product = two.products[two.a]
    r = await api.get("/compat/marbelle/api/v1/products/", params={"search": f"Slab of {two.a}"})
    assert r.status_code == 200, r.text
    assert a_product["id"] not in {p["id"] for p in r.json()["results"]}
    r = await api.get(f"/compat/marbelle/api/v1/products/{a_product['id']}/")
    assert r.status_code == 404, r.text
    r = await api.get("/compat/marbelle/api/v1/products/", params={"search": "marble"})
    assert r.status_code == 200 and r.json()["count"] >= 1
    r = await api.get("/api/v1/storefront", headers={"Origin": "http://localhost:3000"})
    assert r.json()["slug"] == "marbelle" and r.json()["sells"] == ["physical"]
