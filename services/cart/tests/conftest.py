"""Cart test fixtures: the app on a migrated database, an in-memory bus and a fake catalog.

Catalog is reached two ways, both faked here: its `catalog.product_changed` events (delivered on
the bus as catalog would publish them) and its `GET /internal/products/{id}` route (a small
FastAPI app mounted at catalog's internal URL).
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

import atelier_cart
from atelier_cart.app import create_app
from atelier_cart.settings import CartSettings
from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.catalog import ProductChanged
from atelier_common.events.envelope import Envelope, IntegrationEvent
from atelier_testing import RecordingBus, ServiceHarness, TestKeys
from atelier_testing import assert_error as assert_error  # tests import it from here
from atelier_testing.storefronts import on_storefront

MIGRATIONS = Path(atelier_cart.__file__).parent / "migrations"
_numbers = itertools.count(1)


@dataclass
class FakeCatalog:
    """Catalog's internal product route, answering from `products` (ids as strings)."""

    token: str
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    failing: bool = False
    # (product id, variant id or None, storefront, group) → what that group pays there
    group_prices: dict[tuple[str, str | None, str, str], str] = field(default_factory=dict)
    lookups: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/products/{ref}")
        async def get_product(ref: str, token: str = Header(default="", alias=SERVICE_HEADER)) -> Any:
            self.calls.append(ref)
            if token != self.token:
                return JSONResponse({"error": {"code": "AUTHENTICATION_REQUIRED"}}, status_code=401)
            if self.failing:
                return JSONResponse({"error": {"code": "INTERNAL_ERROR"}}, status_code=500)
            if ref not in self.products:
                return JSONResponse({"error": {"code": "NOT_FOUND"}}, status_code=404)
            return self.products[ref]

        @app.post("/internal/products/lookup")
        async def lookup(body: dict[str, Any], token: str = Header(default="", alias=SERVICE_HEADER)) -> Any:
            self.lookups.append(body)
            if token != self.token:
                return JSONResponse({"error": {"code": "AUTHENTICATION_REQUIRED"}}, status_code=401)
            where = (body.get("storefront"), body.get("customer_group"))
            results = []
            for ref in body.get("ids", []):
                if (product := self.products.get(ref)) is None:
                    continue
                priced = {**product, "price": self.group_prices.get((ref, None, *where), product["price"]),
                          "variants": [{**v, "price": self.group_prices.get((ref, v["id"], *where), v["price"])}
                                       for v in product["variants"]]}
                results.append(priced)
            return {"results": results}

        return app

    def add(self, *, price: str = "10.00", stock: int = 10, currency: str = "USD", track_inventory: bool = True,
            is_active: bool = True, variants: list[dict[str, Any]] = (), **fields: Any) -> dict[str, Any]:
        """A product only catalog knows about (no event was published for it)."""
        n = next(_numbers)
        product = {"id": str(uuid.uuid4()), "name": f"Product {n}", "slug": f"product-{n}", "sku": f"SKU-{n:05d}",
                   "kind": "physical", "price": price, "currency": currency, "stock_quantity": stock,
                   "track_inventory": track_inventory, "in_stock": stock > 0, "is_active": is_active,
                   "attributes": {}, "image_url": f"/media/p{n}.jpg", "variants": list(variants), **fields}
        self.products[product["id"]] = product
        return product


@dataclass
class FakeOrders:
    """Orders' promotion quote: by default nothing saved; `codes` maps a code to what it
    saves, `refusals` a code to orders' error answer (status, code) when the cart applies it."""

    codes: dict[str, str] = field(default_factory=dict)
    refusals: dict[str, tuple[int, str]] = field(default_factory=dict)
    asked: list[dict[str, Any]] = field(default_factory=list)
    # Given a shipping choice: what shipping costs (its total added to the lines'), or orders'
    # refusal of the choice (status, code).
    shipping_cost: str = "5.00"
    shipping_refusal: tuple[int, str] | None = None

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/internal/promotions/quote")
        async def quote(body: dict[str, Any]) -> Any:
            self.asked.append(body)
            if (shipping := body.get("shipping")) is not None:
                return self._shipped(body, shipping)
            code = (body.get("code") or "").lower()
            if code in self.refusals:
                status, error = self.refusals[code]
                if body.get("strict"):
                    # Orders' 429 (too many wrong codes) says when to try again.
                    details = {"code": code, **({"retry_after": 42} if status == 429 else {})}
                    return JSONResponse({"error": {"code": error, "message": "no", "details": details}},
                                        status_code=status)
                return {"discount_total": "0.00", "free_shipping": False, "discounts": [],
                        "code_problem": {"reason": "used_up", "message": "no"}}
            if code in self.codes:
                return {"discount_total": self.codes[code], "free_shipping": False, "code_problem": None,
                        "discounts": [{"promotion_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, code)), "code": code,
                                       "name": code, "kind": "fixed", "amount": self.codes[code],
                                       "free_shipping": False}]}
            return {"discount_total": "0.00", "free_shipping": False, "discounts": [], "code_problem": None}

        return app

    def _shipped(self, body: dict[str, Any], shipping: dict[str, Any]) -> Any:
        """The lines at their price, untaxed, plus `shipping_cost` (the cart only shows it)."""
        where = {k: shipping[k] for k in ("address_id", "country", "region")}
        if self.shipping_refusal is not None:
            status, error = self.shipping_refusal
            if shipping["strict"]:
                return JSONResponse({"error": {"code": error, "message": "no", "details": {}}}, status_code=status)
            return {"discounts": [], "shipping": {**where, "problem": {"reason": error, "message": "no"}}}
        goods = sum((Decimal(line["unit_price"]) * line["quantity"] for line in body["lines"]), Decimal("0"))
        total = goods + Decimal(self.shipping_cost)
        method = {"id": shipping["method_id"] or str(uuid.uuid5(uuid.NAMESPACE_DNS, "standard")), "name": "Standard",
                  "price": self.shipping_cost, "tax_amount": "0.00", "discount": "0.00", "total_amount": str(total)}
        return {"discounts": [], "tax_amount": "0.00", "tax_included": "0.00", "total": str(total),
                "lines": [{"discount": "0.00", "tax_rate": "0", "tax_amount": "0.00", "tax_inclusive": False}
                          for _ in body["lines"]],
                "shipping": {**where, "zone": "home", "method_id": method["id"], "method_name": "Standard",
                             "cost": self.shipping_cost, "tax_amount": "0.00", "methods": [method], "problem": None}}


@pytest.fixture
def fake_orders() -> FakeOrders:
    return FakeOrders()


@pytest.fixture
def cart_settings(service_database, test_settings_overrides) -> CartSettings:
    return CartSettings(database_url=service_database("cart", MIGRATIONS), **test_settings_overrides)


@pytest.fixture
def fake_catalog(cart_settings: CartSettings) -> FakeCatalog:
    return FakeCatalog(token=cart_settings.service_token)


@pytest.fixture
async def harness(cart_settings: CartSettings, fake_catalog: FakeCatalog,
                  fake_orders: FakeOrders) -> AsyncIterator[ServiceHarness]:
    bus = RecordingBus()
    mounts = {"http://catalog.internal": httpx.ASGITransport(app=fake_catalog.app()),
              "http://orders.internal": httpx.ASGITransport(app=fake_orders.app())}
    async with ServiceHarness(create_app(cart_settings, bus=bus, http_mounts=mounts), bus) as h:
        yield h


async def deliver_at(harness: ServiceHarness, event: IntegrationEvent, occurred_at: datetime, *,
                     envelope_id: uuid.UUID | None = None, producer: str = "catalog") -> Envelope:
    """Publish `event` as if it had happened at `occurred_at`, then wait until it is handled."""
    update: dict[str, Any] = {"occurred_at": occurred_at}
    if envelope_id is not None:
        update["id"] = envelope_id
    envelope = Envelope.wrap(event, producer=producer).model_copy(update=update)
    await harness.bus.publish([envelope])
    await harness.drain()
    return envelope


class Catalog:
    """Announces products to the cart the way catalog does: `catalog.product_changed` events."""

    def __init__(self, harness: ServiceHarness) -> None:
        self.harness = harness

    def event(self, product_id: uuid.UUID | None = None, *, price: str = "10.00", stock: int = 10,
              **fields: Any) -> ProductChanged:
        n = next(_numbers)
        values: dict[str, Any] = {
            "product_id": product_id or uuid.uuid4(), "name": f"Product {n}", "sku": f"SKU-{n:05d}",
            "kind": "physical", "price": Decimal(price), "currency": "USD", "stock_quantity": stock,
            "track_inventory": True, "is_active": True, "image_url": f"/media/p{n}.jpg", **fields}
        return ProductChanged(**values)

    async def product(self, product_id: uuid.UUID | None = None, **fields: Any) -> ProductChanged:
        event = self.event(product_id, **fields)
        await self.harness.deliver(event, producer="catalog")
        return event

    async def change(self, event: ProductChanged, **changes: Any) -> ProductChanged:
        if "price" in changes:
            changes["price"] = Decimal(changes["price"])
        changed = event.model_copy(update=changes)
        await self.harness.deliver(changed, producer="catalog")
        return changed


@pytest.fixture
def catalog(harness: ServiceHarness) -> Catalog:
    return Catalog(harness)


class Shopper:
    """One caller's requests to /api/v1/cart: a guest (anonymous token) or a signed-in user."""

    def __init__(self, harness: ServiceHarness, headers: dict[str, str], owner_id: uuid.UUID) -> None:
        self.client = harness.client
        self.headers = headers
        self.owner_id = owner_id

    def on(self, storefront: str) -> Shopper:
        """The same caller on storefront `storefront` (the header the gateway sets)."""
        other = copy.copy(self)
        other.headers = {**self.headers, **on_storefront(storefront)}
        return other

    async def cart(self) -> dict[str, Any]:
        response = await self.client.get("/api/v1/cart", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def add_raw(self, product_id: Any, quantity: Any = 1, variant_id: Any = None, **extra: Any) -> httpx.Response:
        body = {"product_id": str(product_id), "quantity": quantity, **extra}
        if variant_id is not None:
            body["variant_id"] = str(variant_id)
        return await self.client.post("/api/v1/cart/items", json=body, headers=self.headers)

    async def add(self, product_id: Any, quantity: int = 1, variant_id: Any = None) -> dict[str, Any]:
        response = await self.add_raw(product_id, quantity, variant_id)
        assert response.status_code == 201, response.text
        return response.json()

    async def set_quantity(self, item_id: Any, quantity: Any, method: str = "PATCH") -> httpx.Response:
        return await self.client.request(method, f"/api/v1/cart/items/{item_id}", json={"quantity": quantity},
                                         headers=self.headers)

    async def remove(self, item_id: Any) -> httpx.Response:
        return await self.client.delete(f"/api/v1/cart/items/{item_id}", headers=self.headers)

    async def clear(self) -> httpx.Response:
        return await self.client.delete("/api/v1/cart", headers=self.headers)


@pytest.fixture
def guest(harness: ServiceHarness, test_keys: TestKeys) -> Shopper:
    anon_id = uuid.uuid4()
    return Shopper(harness, test_keys.anon_headers(anon_id), anon_id)


@pytest.fixture
def user(harness: ServiceHarness, test_keys: TestKeys) -> Shopper:
    user_id = uuid.uuid4()
    return Shopper(harness, test_keys.user_headers(user_id), user_id)


@pytest.fixture
def business(harness: ServiceHarness, test_keys: TestKeys) -> Shopper:
    """A business customer: the token names the `business` customer group."""
    user_id = uuid.uuid4()
    return Shopper(harness, test_keys.group_headers("business", user_id), user_id)


@pytest.fixture
def new_shopper(harness: ServiceHarness, test_keys: TestKeys):
    def make(*, anonymous: bool = True) -> Shopper:
        owner_id = uuid.uuid4()
        headers = test_keys.anon_headers(owner_id) if anonymous else test_keys.user_headers(owner_id)
        return Shopper(harness, headers, owner_id)

    return make


def line_of(cart: dict[str, Any], product_id: Any, variant_id: Any = None) -> dict[str, Any]:
    [line] = [i for i in cart["items"] if i["product_id"] == str(product_id)
              and i["variant_id"] == (str(variant_id) if variant_id else None)]
    return line
