"""Payments test fixtures: the app on a migrated database with an in-memory bus, a fake orders
internal API (mounted as http://orders.internal), the fake Stripe server, and helpers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlmodel import col, select

import atelier_payments
from atelier_common.outbox import OutboxMessage
from atelier_common.settings import DEV_SECRET
from atelier_payments.app import create_app
from atelier_payments.models import LedgerEntry, Payment
from atelier_payments.settings import PaymentsSettings
from atelier_testing import RecordingBus, ServiceHarness, TestKeys
from atelier_testing import assert_error as assert_error  # tests import it from here
from atelier_testing.fakes.stripe import API_KEY, WEBHOOK_SECRET, FakeStripe, FakeStripeServer, StripeWebhooks
from atelier_testing.staff import StaffDirectory

from .fake_subscription_services import FakeCatalogAndGeneration

MIGRATIONS = Path(atelier_payments.__file__).parent / "migrations"
PUBLIC_URL = "http://shop.test"

PACKS = {
    "PACK_5": {"kind": "credit_pack", "price": "4.99", "currency": "USD", "attributes": {"credits": 5}},
    "PACK_10": {"kind": "credit_pack", "price": "8.99", "currency": "USD", "attributes": {"credits": 10}},
}


def order_readings(status: str) -> dict[str, bool]:
    """Orders' reading of a status, as its internal answer carries it (`atelier_orders.domain`)."""
    return {"is_payable": status in {"pending", "awaiting_payment"},
            "is_paid": status in {"paid", "processing", "shipped", "delivered", "returned", "completed"}}


class FakeOrders:
    """Orders' internal API as payments calls it; the service credential is required."""

    def __init__(self, service_token: str = DEV_SECRET) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.service_token = service_token
        # Orders answers with the storefront an order was placed on (False: an orders service from
        # before storefronts, whose answers name none).
        self.echo_storefront = True
        # The skus orders refuses as out of stock (409 INSUFFICIENT_STOCK).
        self.sold_out: set[str] = set()
        # Edits of paid orders, by (order id, edit id): what they leave due and their status.
        self.edits: dict[tuple[str, str], dict[str, Any]] = {}
        self.app = self._build()

    def add_edit(self, order: dict[str, Any], *, amount_due: str = "12.00",
                 status: str = "awaiting_payment") -> dict[str, Any]:
        """An edit of `order` (a paid one) that leaves `amount_due` to pay, as orders reads it."""
        edit = {"id": str(uuid.uuid4()), "version": 1, "status": status, "amount_due": amount_due,
                "currency": order["currency"], "expires_at": None}
        self.edits[(order["id"], edit["id"])] = edit
        return edit

    def add(self, owner_id: uuid.UUID, *, user_id: uuid.UUID | None = None, total: str = "85.50",
            currency: str = "USD", status: str = "awaiting_payment", items: list[dict[str, Any]] | None = None,
            email: str | None = "buyer@example.com", shipping_address: dict[str, Any] | None = None,
            storefront: str | None = None, register_buyer: bool | None = None) -> dict[str, Any]:
        """An order; `storefront`: the one orders names in its answer (None: it names none);
        `register_buyer`: orders' decision that its guest gets an account (None: it says nothing,
        as an orders service from before guest-account policies)."""
        order_id = str(uuid.uuid4())
        order = {
            "id": order_id, "order_number": f"ORD-20261121-{order_id[:6].upper()}", "owner_id": str(owner_id),
            "user_id": str(user_id) if user_id else None, "email": email, "status": status, "currency": currency,
            "subtotal": total, "tax_amount": "0.00", "shipping_cost": "0.00", "total_amount": total,
            "items": items if items is not None else [line("STONE-1", unit_price=total)],
            "shipping_address": shipping_address if shipping_address is not None else {
                "first_name": "Ada", "last_name": "Lovelace", "email": email, "phone": "+15550100",
                "address_line_1": "1 Analytical St", "city": "London", "country": "GB"},
        }
        if storefront is not None:
            order["storefront"] = storefront
        if register_buyer is not None:
            order["register_buyer"] = register_buyer
        self.orders[order_id] = order
        return order

    def _build(self) -> FastAPI:
        app = FastAPI()

        def authorised(request: Request) -> bool:
            return request.headers.get("x-service-token") == self.service_token

        @app.get("/internal/orders/{order_id}")
        async def get_order(order_id: str, request: Request) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"error": {"code": "AUTHENTICATION_REQUIRED"}}, status_code=401)
            if order_id not in self.orders:
                return JSONResponse({"error": {"code": "NOT_FOUND", "message": "Order not found"}}, status_code=404)
            order = self.orders[order_id]
            return JSONResponse({**order, **order_readings(order["status"])})

        @app.get("/internal/orders/{order_id}/edits/{edit_id}")
        async def get_edit(order_id: str, edit_id: str, request: Request) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"error": {"code": "AUTHENTICATION_REQUIRED"}}, status_code=401)
            edit = self.edits.get((order_id, edit_id))
            if edit is None:
                return JSONResponse({"error": {"code": "NOT_FOUND", "message": "Order not found"}}, status_code=404)
            order = self.orders[order_id]
            return JSONResponse({**edit, "order": {**order, **order_readings(order["status"])}})

        @app.post("/internal/orders")
        async def create_order(request: Request) -> JSONResponse:
            if not authorised(request):
                return JSONResponse({"error": {"code": "AUTHENTICATION_REQUIRED"}}, status_code=401)
            body = await request.json()
            self.created.append(body)
            item = body["items"][0]
            pack = PACKS.get(item["sku"])
            if item["sku"] in self.sold_out:
                return JSONResponse({"error": {"code": "INSUFFICIENT_STOCK", "message": "Not enough stock",
                                               "details": {"requested": 1, "available": 0}}}, status_code=409)
            if pack is None:
                return JSONResponse({"error": {"code": "VALIDATION_ERROR", "message": "Unknown SKU"}}, status_code=400)
            order = self.add(uuid.UUID(body["owner_id"]), user_id=uuid.UUID(body["user_id"]) if body["user_id"] else None,
                             total=pack["price"], currency=pack["currency"], status="pending",
                             items=[line(item["sku"], kind=pack["kind"], unit_price=pack["price"],
                                         attributes=pack["attributes"])],
                             storefront=body.get("storefront") if self.echo_storefront else None)
            return JSONResponse({**order, **order_readings(order["status"])}, status_code=201)

        return app


def line(sku: str, *, kind: str = "physical", quantity: int = 1, unit_price: str = "85.50",
         attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"product_id": str(uuid.uuid4()), "variant_id": None, "sku": sku, "kind": kind, "quantity": quantity,
            "unit_price": unit_price, "attributes": attributes or {}, "book_id": None, "content_type": None,
            "content_id": None}


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[FakeStripeServer]:
    server = FakeStripeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(stripe_server: FakeStripeServer) -> FakeStripe:
    stripe_server.fake.refund_status = "succeeded"
    stripe_server.fake.events.clear()
    return stripe_server.fake


@pytest.fixture
def fake_orders() -> FakeOrders:
    return FakeOrders()


class PaymentsApi:
    """The running service plus the helpers most tests start from."""

    def __init__(self, harness: ServiceHarness, orders: FakeOrders, keys: TestKeys) -> None:
        self.h = harness
        self.client = harness.client
        self.orders = orders
        self.keys = keys
        self.stripe_webhooks = StripeWebhooks(harness.client)
        self.others = FakeCatalogAndGeneration()
        # Identity's word on a staffer's roles now, asked by refunds (`atelier_common.staff_access`).
        self.staff_directory = StaffDirectory()

    @property
    def db(self) -> Any:
        return self.h.runtime.db

    def anon(self) -> tuple[uuid.UUID, dict[str, str]]:
        anon_id = uuid.uuid4()
        return anon_id, self.keys.anon_headers(anon_id)

    def user(self) -> tuple[uuid.UUID, dict[str, str]]:
        user_id = uuid.uuid4()
        return user_id, self.keys.user_headers(user_id)

    async def intent(self, order_id: str, headers: dict[str, str], **extra: Any) -> httpx.Response:
        return await self.client.post("/api/v1/payments/intents", json={"order_id": order_id, **extra}, headers=headers)

    async def checkout(self, order_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post("/api/v1/payments/checkout", headers=headers, json={
            "order_id": order_id, "success_url": "http://shop.test/ok?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://shop.test/cancelled"})

    async def confirm(self, order_id: str, intent_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post("/api/v1/payments/confirm", headers=headers,
                                      json={"order_id": order_id, "payment_intent_id": intent_id})

    def guest_order(self, **order: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A new guest's order (`order`: the fields of orders' copy), and the guest's headers."""
        anon_id, headers = self.anon()
        return self.orders.add(anon_id, **order), headers

    async def paid_locally(self, owner: tuple[uuid.UUID, dict[str, str]] | None = None,
                           **order: Any) -> tuple[dict[str, Any], uuid.UUID]:
        """An order (`order`: the fields of orders' copy) of `owner` (its id and headers; else a new
        guest) paid on the local provider's page: the order and its owner."""
        owner_id, headers = owner or self.anon()
        placed = self.orders.add(owner_id, **order)
        session_id = (await self.checkout(placed["id"], headers)).json()["session_id"]
        assert (await self.client.post(f"/api/dev/checkout/{session_id}/pay")).status_code == 303
        return placed, owner_id

    async def open_intent(self, fake: FakeStripe, **order: Any) -> tuple[dict[str, Any], str]:
        """A new guest's order with a Stripe payment intent started: the order and the intent's id."""
        placed, headers = self.guest_order(**order)
        response = await self.intent(placed["id"], headers)
        assert response.status_code == 200, response.text
        return placed, response.json()["payment_intent_id"]

    async def paid_by_stripe(self, fake: FakeStripe, **order: Any) -> tuple[dict[str, Any], str]:
        """`open_intent`, then Stripe's word that the intent succeeded."""
        placed, intent_id = await self.open_intent(fake, **order)
        await self.stripe_webhooks.send(fake.event("payment_intent.succeeded", fake.succeed_intent(intent_id)))
        return placed, intent_id

    async def outbox(self, type_: str) -> list[dict[str, Any]]:
        """Events of `type_` written to the outbox (sent or not), oldest first."""
        async with self.db.read_only() as s:
            rows = (await s.exec(select(OutboxMessage).where(col(OutboxMessage.type) == type_)
                                 .order_by(col(OutboxMessage.occurred_at)))).all()
        return [row.data for row in rows]

    async def ledger(self, owner_id: uuid.UUID | None = None) -> list[LedgerEntry]:
        async with self.db.read_only() as s:
            stmt = select(LedgerEntry).order_by(col(LedgerEntry.created_at))
            if owner_id is not None:
                stmt = stmt.where(col(LedgerEntry.owner_id) == owner_id)
            return list((await s.exec(stmt)).all())

    async def payments(self, order_id: str) -> list[Payment]:
        async with self.db.read_only() as s:
            stmt = select(Payment).where(col(Payment.order_id) == uuid.UUID(order_id)).order_by(col(Payment.created_at))
            return list((await s.exec(stmt)).all())


StartPayments = Callable[..., AbstractAsyncContextManager[PaymentsApi]]


@pytest.fixture
def start_payments(service_database, test_settings_overrides, fake_orders: FakeOrders,
                   test_keys: TestKeys) -> StartPayments:
    """`async with start_payments(**settings) as api:` — the app on this test's database."""
    url = service_database("payments", MIGRATIONS)

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[PaymentsApi]:
        settings = PaymentsSettings(database_url=url, **{**test_settings_overrides, "dev_endpoints": True,
                                                         "public_base_url": PUBLIC_URL, **overrides})
        bus = RecordingBus()
        mounts: dict[str, httpx.AsyncBaseTransport] = {"http://orders.internal": httpx.ASGITransport(app=fake_orders.app)}
        app = create_app(settings, bus=bus, http_mounts=mounts)
        # The local checkout's Pay button posts its webhook to this very service.
        mounts["http://payments.internal"] = httpx.ASGITransport(app=app)
        others = FakeCatalogAndGeneration()
        directory = StaffDirectory(settings.service_token)
        directory.install(others.identity)
        mounts["http://catalog.internal"] = httpx.ASGITransport(app=others.catalog)
        mounts["http://generation.internal"] = httpx.ASGITransport(app=others.generation)
        mounts["http://identity.internal"] = httpx.ASGITransport(app=others.identity)
        async with ServiceHarness(app, bus) as h:
            api = PaymentsApi(h, fake_orders, test_keys)
            api.others = others
            api.staff_directory = directory
            yield api

    return start


@pytest.fixture
def stripe_settings(stripe_server: FakeStripeServer) -> dict[str, Any]:
    return {"provider": "stripe", "stripe_api_key": API_KEY, "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": stripe_server.url, "stripe_max_network_retries": 0}


@pytest.fixture
async def api(start_payments: StartPayments) -> AsyncIterator[PaymentsApi]:
    """The service with the local provider (the embedded mode's default)."""
    async with start_payments() as payments:
        yield payments


@pytest.fixture
async def stripe_api(start_payments: StartPayments, stripe_settings: dict[str, Any],
                     fake_stripe: FakeStripe) -> AsyncIterator[PaymentsApi]:
    """The service with Stripe, the SDK pointed at the fake Stripe server."""
    async with start_payments(**stripe_settings) as payments:
        yield payments



def whole_refund(order: dict[str, Any], payment: Payment, refund_id: str, *, reason: str) -> dict[str, Any]:
    """The `payment.refunded` of `payment` given back whole (the order's total, in USD, on the
    default storefront, for no return)."""
    total = order["total_amount"]
    return {"order_id": order["id"], "payment_id": str(payment.id), "amount": total, "currency": "USD",
            "refund_id": refund_id, "total_refunded": total, "is_full": True, "reason": reason,
            "storefront": "default", "return_id": None}

def money(value: Any) -> Decimal:
    return Decimal(str(value))
