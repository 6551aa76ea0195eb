"""Each brand keeps its own rules, through the gateway in both modes: a cart line's cap is its
storefront's (99 on one, only the stock on the other), and a sale that takes a product down to a
storefront's low-stock threshold mails its alert address and emits `product.low_stock` (heard here
by an outbound webhook endpoint) once per crossing, while a storefront without a threshold hears
nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from infra.identity_steps import bearer, expect_error, signed_in_customer
from infra.journeys import ADDRESS, poll, staff

from atelier_testing.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


class Brands:
    """Storefront `capped` (cart lines up to 99, no low-stock threshold) and `uncapped` (lines up to
    the stock, low stock at 10 mailed to its alert address), made by staff for one test."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        suffix = uuid.uuid4().hex[:8]
        self.capped, self.uncapped = f"capped-{suffix}", f"uncapped-{suffix}"
        self.alert = f"stock-{suffix}@example.com"
        self.staff: dict[str, str] = {}
        self.address: str | None = None

    def on(self, slug: str) -> dict[str, str]:
        return {"X-Atelier-Storefront": slug}

    async def create(self) -> Brands:
        self.staff = await staff(self.api)
        for slug, policies in ((self.capped, {"cart_line_limit": 99}),
                               (self.uncapped, {"cart_line_limit": 0, "low_stock_threshold": 10,
                                                "alert_emails": [self.alert]})):
            origin = f"https://{slug}.example"
            r = await self.api.post("/api/v1/storefronts", headers=self.staff, json={
                "slug": slug, "name": f"Store {slug}", "origins": [origin], "frontend_url": origin,
                "currency": "USD", "sells": ["physical"], "policies": policies})
            assert r.status_code == 201, r.text

        async def known(slug: str) -> bool:
            r = await self.api.get("/api/v1/storefront", headers=self.on(slug))
            return r.status_code == 200 and r.json()["slug"] == slug

        for slug in (self.capped, self.uncapped):
            await poll(lambda slug=slug: known(slug), message=f"storefront {slug} known")
        return self

    async def product(self, stock: int) -> dict[str, Any]:
        r = await self.api.post("/api/v1/products", headers=self.staff, json={
            "name": f"Slab {uuid.uuid4().hex[:8]}", "sku": f"POL-{uuid.uuid4().hex[:10]}", "price": "10.00",
            "currency": "USD", "stock_quantity": stock, "kind": "physical",
            "storefronts": [self.capped, self.uncapped]})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def stock(self, product: dict[str, Any]) -> int:
        r = await self.api.get(f"/api/v1/products/{product['id']}", headers=self.staff)
        assert r.status_code == 200, r.text
        return int(r.json()["stock_quantity"])

    async def buy(self, auth: dict[str, str], product: dict[str, Any], quantity: int, stock_after: int) -> None:
        """An order of `quantity` (an explicit line, no cart) on the uncapped storefront, once
        catalog has reserved it."""
        if self.address is None:
            r = await self.api.post("/api/v1/addresses", headers=auth, json=ADDRESS)
            assert r.status_code == 201, r.text
            self.address = r.json()["id"]
        r = await self.api.post("/api/v1/orders", headers=auth, json={
            "shipping_address_id": self.address, "items": [{"product_id": product["id"], "quantity": quantity}]})
        assert r.status_code == 201, r.text

        async def reserved() -> bool:
            return await self.stock(product) == stock_after

        await poll(reserved, timeout=30, message=f"stock down to {stock_after}")


async def test_each_storefront_caps_a_cart_line_its_own_way(api: httpx.AsyncClient) -> None:
    brands = await Brands(api).create()
    product = await brands.product(288)
    customer = await signed_in_customer(api)

    async def added(slug: str, quantity: int) -> httpx.Response | None:
        r = await api.post("/api/v1/cart/items", headers={**bearer(customer["access"]), **brands.on(slug)},
                           json={"product_id": product["id"], "quantity": quantity})
        return None if r.status_code == 404 else r  # until the cart hears of the product

    accepted = await poll(lambda: added(brands.uncapped, 150), message="150 in the uncapped cart")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["item_count"] == 150
    refused = await poll(lambda: added(brands.capped, 150), message="an answer from the capped cart")
    expect_error(refused, 400, "VALIDATION_ERROR")
    assert refused.json()["error"]["details"]["fields"] == {"quantity": ["Input should be less than or equal to 99"]}
    assert (await added(brands.capped, 99)).status_code == 201
    # Up to the stock: 150 + 139 would pass 288.
    expect_error(await added(brands.uncapped, 139), 409, "INSUFFICIENT_STOCK")


async def test_a_crossing_to_low_stock_mails_and_emits_once(api: httpx.AsyncClient,
                                                            receiver: WebhookReceiver) -> None:
    brands = await Brands(api).create()
    r = await api.post("/api/v1/webhook-endpoints", headers=brands.staff,
                       json={"url": receiver.url, "events": ["product.low_stock"], "description": "e2e low stock"})
    assert r.status_code == 201, r.text
    endpoint = r.json()
    try:
        product = await brands.product(12)
        customer = await signed_in_customer(api)
        auth = {**bearer(customer["access"]), **brands.on(brands.uncapped)}

        async def heard(count: int) -> list[dict[str, Any]] | None:
            bodies = [json.loads(request.body) for request in receiver.requests()]
            events = [b["data"] for b in bodies if b["data"].get("product_id") == product["id"]]
            return events if len(events) >= count else None

        async def alerts(count: int) -> list[dict[str, Any]] | None:
            r = await api.get("/api/dev/mailbox", params={"to": brands.alert})
            assert r.status_code == 200, r.text
            mails = [m for m in r.json()["results"] if product["name"] in m["subject"]]
            return mails if len(mails) >= count else None

        await brands.buy(auth, product, 5, 7)  # 12 → 7: below the threshold of 10
        [mail] = await poll(lambda: alerts(1), timeout=30, message="the low-stock mail")
        assert mail["subject"] == f"Low stock: {product['name']} at Main stock"  # its one location, the default
        assert f"down to 7 in stock at Main stock on Store {brands.uncapped}" in mail["text"]
        [event] = await poll(lambda: heard(1), timeout=30, message="product.low_stock at the endpoint")
        assert (event["storefront"], event["stock_quantity"], event["previous_stock_quantity"],
                event["threshold"]) == (brands.uncapped, 7, 12, 10)
        low = await api.get("/api/v1/products/low-stock", headers=brands.staff,
                            params={"storefront": brands.uncapped})
        assert product["id"] in {item["product_id"] for item in low.json()["results"]}

        await brands.buy(auth, product, 2, 5)  # 7 → 5: below already, no second alert
        # Back above, then down again: the next crossing alerts. Only its mail follows the first.
        r = await api.post(f"/api/v1/products/{product['id']}/stock", headers=brands.staff,
                           json={"delta": 10, "reason": "restock"})
        assert r.status_code == 200, r.text
        await brands.buy(auth, product, 7, 8)  # 15 → 8
        mails = await poll(lambda: alerts(2), timeout=30, message="the second crossing's mail")
        assert len(mails) == 2 and "down to 8 in stock" in mails[0]["text"]
        events = await poll(lambda: heard(2), timeout=30, message="two events")
        # The capped storefront sets no threshold: every event is the uncapped one's.
        assert [(e["storefront"], e["stock_quantity"]) for e in events] == [(brands.uncapped, 7), (brands.uncapped, 8)]
    finally:
        assert (await api.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=brands.staff)).status_code == 204
