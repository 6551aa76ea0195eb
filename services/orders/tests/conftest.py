"""Orders test fixtures: the app on a migrated database with an in-memory bus, and small fakes of
the internal APIs it calls (catalog, cart, identity, generation), mounted as ASGI transports."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException

import atelier_orders
from atelier_common.auth import SERVICE_HEADER
from atelier_orders.app import create_app
from atelier_orders.settings import OrdersSettings
from atelier_testing import RecordingBus, ServiceHarness, TestKeys
from atelier_testing import assert_error as assert_error  # tests import it from here
from atelier_testing.staff import StaffDirectory
from atelier_testing.storefronts import on_storefront

MIGRATIONS = Path(atelier_orders.__file__).parent / "migrations"
_numbers = itertools.count(1)


class _Switchable(httpx.AsyncBaseTransport):
    """An ASGI transport that can be made unreachable (connection refused) during a test."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.down = False
        self.calls = 0
        self._held: tuple[asyncio.Event, asyncio.Event] | None = None

    def hold(self) -> tuple[asyncio.Event, asyncio.Event]:
        """The next calls wait until the second event is set; the first is set once one is waiting."""
        self._held = (asyncio.Event(), asyncio.Event())
        return self._held

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self._held is not None:
            waiting, release = self._held
            waiting.set()
            await release.wait()
        return await self.inner.handle_async_request(request)


class FakePlatform:
    """What catalog, cart, identity and generation would answer on their /internal routes."""

    def __init__(self, service_token: str) -> None:
        self.token = service_token
        self.products: dict[uuid.UUID, dict[str, Any]] = {}
        # (product id, storefront, customer group) → what the group pays there (price lists).
        self.group_prices: dict[tuple[str, str, str], str] = {}
        self.lookups: list[dict[str, Any]] = []
        # (product or variant id, locale) → its name translated there (catalog's translations).
        self.translated_names: dict[tuple[str, str], str] = {}
        # Cart keeps one cart per owner and storefront: the lines by storefront, then by owner.
        self.storefront_carts: dict[str, dict[uuid.UUID, list[dict[str, Any]]]] = {}
        self.addresses: dict[uuid.UUID, tuple[uuid.UUID, dict[str, Any]]] = {}
        self.books: dict[uuid.UUID, uuid.UUID] = {}
        self.book_items: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
        # The discount code applied to a cart, by (storefront, owner).
        self.cart_codes: dict[tuple[str, uuid.UUID], str] = {}
        # Identity's word on a staffer's roles now, asked by staff status changes (a cancel refunds).
        self.staff_directory = StaffDirectory(service_token)
        self.transports = {name: _Switchable(self._app(name)) for name in ("catalog", "cart", "identity",
                                                                            "generation")}

    def mounts(self) -> dict[str, httpx.AsyncBaseTransport]:
        return {f"http://{name}.internal": transport for name, transport in self.transports.items()}

    def down(self, service: str) -> None:
        self.transports[service].down = True

    @property
    def carts(self) -> dict[uuid.UUID, list[dict[str, Any]]]:
        """The default storefront's carts, by owner."""
        return self.carts_of("default")

    def carts_of(self, storefront: str) -> dict[uuid.UUID, list[dict[str, Any]]]:
        return self.storefront_carts.setdefault(storefront, {})

    # -- data ------------------------------------------------------------------------------------

    def product(self, *, kind: str = "physical", price: str = "10.00", currency: str = "USD", stock: int = 50,
                track_inventory: bool | None = None, attributes: dict[str, Any] | None = None,
                is_active: bool = True, sku: str | None = None, name: str | None = None,
                variants: list[dict[str, Any]] = (), storefronts: list[str] = (),
                category_id: str | None = None, tax_class: str = "standard") -> dict[str, Any]:
        """A product catalog's lookup finds; `storefronts`: those that sell it (empty: every one)."""
        n = next(_numbers)
        product = {
            "id": str(uuid.uuid4()), "name": name or f"Product {n}", "slug": f"product-{n}",
            "sku": sku or f"SKU-{n:05d}", "kind": kind, "price": price, "currency": currency,
            "stock_quantity": stock, "track_inventory": kind == "physical" if track_inventory is None
            else track_inventory, "in_stock": stock > 0, "is_active": is_active, "attributes": attributes or {},
            "image_url": None, "storefronts": list(storefronts), "category_id": category_id,
            "tax_class": tax_class, "variants": [{"id": str(uuid.uuid4()), "name": v.get("name", "Variant"), "sku": v["sku"],
                          "price": v.get("price", price), "stock_quantity": v.get("stock", 10),
                          "attributes": v.get("attributes", {}), "is_active": v.get("is_active", True)}
                         for v in variants],
        }
        self.products[uuid.UUID(product["id"])] = product
        return product

    def address(self, owner_id: uuid.UUID, **fields: Any) -> str:
        address_id = uuid.uuid4()
        self.addresses[address_id] = (owner_id, {
            "id": str(address_id), "full_name": "Ada Lovelace", "email": "ada@example.com", "phone": "+995555000111",
            "street_address": "1 Rustaveli Ave", "city": "Tbilisi", "state": "", "postal_code": "0108",
            "country": "GE", "type": "shipping", **fields})
        return str(address_id)

    def book(self, owner_id: uuid.UUID) -> str:
        book_id = uuid.uuid4()
        self.books[book_id] = owner_id
        return str(book_id)

    def book_item(self, owner_id: uuid.UUID, content_type: str = "PAGE") -> str:
        """A character, cover or page of one of the owner's books (a retry pack's target)."""
        item_id = uuid.uuid4()
        self.book_items[(content_type, item_id)] = owner_id
        return str(item_id)

    def fill_cart(self, owner_id: uuid.UUID, *lines: tuple[dict[str, Any], int], storefront: str = "default") -> None:
        """The owner's cart on `storefront`, each line shown at the product's catalog price of now."""
        self.carts_of(storefront)[owner_id] = [{"id": str(uuid.uuid4()), "product_id": p["id"], "variant_id": None, "quantity": q,
                                 "unit_price": p["price"]} for p, q in lines]

    # -- the fake apps ---------------------------------------------------------------------------

    def _app(self, name: str) -> FastAPI:
        app = FastAPI()

        def check(token: str | None) -> None:
            if token != self.token:
                raise HTTPException(401)

        if name == "catalog":
            @app.post("/internal/products/lookup")
            async def lookup(body: dict[str, Any], x_service_token: str | None = Header(None)) -> dict[str, Any]:
                check(x_service_token)
                self.lookups.append(body)
                ids, skus = set(body.get("ids", [])), set(body.get("skus", []))
                where = (body.get("storefront"), body.get("customer_group"))
                locale = body.get("locale")

                def named(thing: dict[str, Any]) -> str:
                    return self.translated_names.get((thing["id"], locale), thing["name"]) if locale else thing["name"]

                return {"results": [{**p, "price": self.group_prices.get((p["id"], *where), p["price"]),
                                     "name": named(p), "variants": [{**v, "name": named(v)} for v in p["variants"]]}
                                    for p in self.products.values() if p["id"] in ids or p["sku"] in skus]}
        elif name == "cart":
            # `?storefront=<slug>`: the owner's cart on that storefront (without it: the default's).
            @app.get("/internal/carts/{owner_id}")
            async def cart(owner_id: uuid.UUID, storefront: str = "default",
                           x_service_token: str | None = Header(None)) -> dict[str, Any]:
                check(x_service_token)
                carts = self.carts_of(storefront)
                if owner_id not in carts:
                    raise HTTPException(404)
                return {"id": str(uuid.uuid4()), "owner_id": str(owner_id), "storefront": storefront,
                        "items": carts[owner_id], "subtotal": "0.01", "total": "0.01",
                        "promotion_code": self.cart_codes.get((storefront, owner_id))}

            @app.post("/internal/carts/{owner_id}/prices")
            async def prices(owner_id: uuid.UUID, body: dict[str, Any], storefront: str = "default",
                             x_service_token: str | None = Header(None)) -> dict[str, Any]:
                check(x_service_token)
                carts = self.carts_of(storefront)
                if owner_id not in carts:
                    raise HTTPException(404)
                for price in body["items"]:
                    for line in carts[owner_id]:
                        if (line["product_id"], line["variant_id"]) == (price["product_id"], price["variant_id"]):
                            line["unit_price"] = price["unit_price"]
                return {"id": str(uuid.uuid4()), "owner_id": str(owner_id), "items": carts[owner_id]}
        elif name == "identity":
            self.staff_directory.install(app)

            @app.get("/internal/addresses/{address_id}")
            async def address(address_id: uuid.UUID, owner_id: uuid.UUID,
                              x_service_token: str | None = Header(None)) -> dict[str, Any]:
                check(x_service_token)
                owner, data = self.addresses.get(address_id, (None, {}))
                if owner != owner_id:
                    raise HTTPException(404)
                return data
        else:
            @app.get("/internal/books/{book_id}")
            async def book(book_id: uuid.UUID, owner_id: uuid.UUID,
                           x_service_token: str | None = Header(None)) -> dict[str, Any]:
                check(x_service_token)
                if self.books.get(book_id) != owner_id:
                    raise HTTPException(404)
                return {"id": str(book_id), "owner_id": str(owner_id), "title": "A book"}

            @app.get("/internal/book-items/{content_type}/{content_id}")
            async def book_item(content_type: str, content_id: uuid.UUID, owner_id: uuid.UUID,
                                x_service_token: str | None = Header(None)) -> dict[str, Any]:
                check(x_service_token)
                if self.book_items.get((content_type, content_id)) != owner_id:
                    raise HTTPException(404)
                return {"content_type": content_type, "content_id": str(content_id), "book_id": str(uuid.uuid4())}
        return app


@pytest.fixture
def orders_settings(service_database, test_settings_overrides) -> OrdersSettings:
    return OrdersSettings(database_url=service_database("orders", MIGRATIONS), **test_settings_overrides)


@pytest.fixture
def platform(orders_settings: OrdersSettings) -> FakePlatform:
    return FakePlatform(orders_settings.service_token)


@pytest.fixture
async def harness(orders_settings: OrdersSettings, platform: FakePlatform) -> AsyncIterator[ServiceHarness]:
    bus = RecordingBus()
    async with ServiceHarness(create_app(orders_settings, bus=bus, http_mounts=platform.mounts()), bus) as h:
        yield h


class Customer:
    """One customer (signed in, or anonymous) talking to the orders API."""

    def __init__(self, harness: ServiceHarness, headers: dict[str, str], owner_id: uuid.UUID) -> None:
        self.harness = harness
        self.client = harness.client
        self.headers = headers
        self.owner_id = owner_id

    def on(self, storefront: str) -> Customer:
        """The same customer, on `storefront` (the header the gateway sets)."""
        return Customer(self.harness, {**self.headers, **on_storefront(storefront)}, self.owner_id)

    async def place(self, **body: Any) -> httpx.Response:
        return await self.client.post("/api/v1/orders", json=body, headers=self.headers)

    async def placed(self, **body: Any) -> dict[str, Any]:
        response = await self.place(**body)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, order_id: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/orders/{order_id}", headers=self.headers)

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.get(order_id)
        assert response.status_code == 200, response.text
        return response.json()

    async def cancel(self, order_id: str, **body: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1/orders/{order_id}/cancel", json=body or None, headers=self.headers)


@pytest.fixture
def customer(harness: ServiceHarness, test_keys: TestKeys) -> Customer:
    user_id = uuid.uuid4()
    headers = {"Authorization": f"Bearer {test_keys.access_token(user_id, email='ada@example.com')}"}
    return Customer(harness, headers, user_id)


@pytest.fixture
def anonymous(harness: ServiceHarness, test_keys: TestKeys) -> Customer:
    anon_id = uuid.uuid4()
    return Customer(harness, test_keys.anon_headers(anon_id), anon_id)


@pytest.fixture
def new_customer(harness: ServiceHarness, test_keys: TestKeys) -> Callable[[], Customer]:
    """A new anonymous customer at each call (a guest with a cart of their own)."""
    def make() -> Customer:
        anon_id = uuid.uuid4()
        return Customer(harness, test_keys.anon_headers(anon_id), anon_id)

    return make


@pytest.fixture
def other_customer(harness: ServiceHarness, test_keys: TestKeys) -> Customer:
    user_id = uuid.uuid4()
    return Customer(harness, test_keys.user_headers(user_id), user_id)


class Staff:
    def __init__(self, harness: ServiceHarness, headers: dict[str, str]) -> None:
        self.client = harness.client
        self.headers = headers

    async def set_status(self, order_id: str, status: str, **fields: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1/orders/{order_id}/status", json={"status": status, **fields},
                                      headers=self.headers)

    async def moved(self, order_id: str, *statuses: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for status in statuses:
            response = await self.set_status(order_id, status, **fields)
            assert response.status_code == 200, response.text
            body = response.json()
        return body


@pytest.fixture
def staff(harness: ServiceHarness, test_keys: TestKeys) -> Staff:
    return Staff(harness, test_keys.staff_headers())


@pytest.fixture
def service_headers(orders_settings: OrdersSettings) -> dict[str, str]:
    return {SERVICE_HEADER: orders_settings.service_token}


def money(value: str) -> Decimal:
    return Decimal(value)


def statuses(order: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in order["status_history"]]
