"""A fake Stripe API for tests: the endpoints payments uses, with Stripe's object shapes.

Payments' tests and the end-to-end tests import it (`atelier_testing.fakes.stripe`):

    server = FakeStripeServer(); server.start()          # a real HTTP server on a free port
    settings: stripe_api_base=server.url, stripe_api_key="sk_test_fake"
    await StripeWebhooks(client, secret).send(server.fake.event("payment_intent.succeeded", intent))
    server.stop()

Requests are form-encoded like Stripe's (`metadata[order_id]=…`, `line_items[0][quantity]=1`),
`Idempotency-Key` replays the first answer, and errors use Stripe's `{"error": {...}}` body.
Routes under `/_test/` are not Stripe's: they do what a customer would do on Stripe's side.

Subscriptions: Customers, Checkout Sessions in `mode=subscription` (a `price` from `prices`, or
`price_data` with `recurring`), Subscriptions (retrieve, update `cancel_at_period_end` /
`default_payment_method`), billing portal sessions, payment method attach. What Stripe does on its
own is a method that changes the objects and returns the events Stripe would send, in Stripe's
usual order (each event's object is a snapshot of that moment); they are also queued in
`events` (`take_events()`): `complete_subscription_session(id)`, `renew_subscription(id, paid=)`,
`pay_invoice(id)`, `end_subscription(id)`; API updates queue `customer.subscription.updated`.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from copy import deepcopy
from typing import Any
from urllib.parse import parse_qsl

import httpx
import stripe
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

API_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"
# Prices the fake knows from the start (the test plans' provider_price_id).
PRICES = {"price_pro_monthly": (1999, "usd"), "price_studio_monthly": (4999, "usd")}
PERIOD_SECONDS = 30 * 24 * 3600


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's bracket notation back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if nxt_is_index else {}
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class FakeStripe:
    """The state of the fake: every object it made, by id."""

    def __init__(self, base_url: str = "http://127.0.0.1") -> None:
        self.base_url = base_url
        self.intents: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        # Events Stripe would have sent, oldest first (see take_events).
        self.events: list[dict[str, Any]] = []
        for price_id, (amount, currency) in PRICES.items():
            self.add_price(price_id, amount, currency)
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, dict[str, Any], str | None]] = []
        # What the next refunds answer: "succeeded" or "pending" (settled later by charge.refunded,
        # charge.refund.updated or refund.failed; see settle_refund). A refund takes `amount`
        # (minor units; omitted: what remains) and never more than the charge has left.
        self.refund_status = "succeeded"
        self.lock = threading.Lock()
        self.app = self._build_app()

    # --- Stripe objects -------------------------------------------------------------------

    def _intent(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = _id("pi")
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": int(params["amount"]), "amount_received": 0,
            "currency": params["currency"], "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}", "metadata": params.get("metadata", {}),
            "description": params.get("description"), "receipt_email": params.get("receipt_email"),
            "latest_charge": None, "last_payment_error": None, "livemode": False, "created": int(time.time()),
        }
        self.intents[intent_id] = intent
        return intent

    def succeed_intent(self, intent_id: str) -> dict[str, Any]:
        intent = self.intents[intent_id]
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=_id("ch"),
                      last_payment_error=None)
        return intent

    def fail_intent(self, intent_id: str, message: str = "Your card was declined.") -> dict[str, Any]:
        intent = self.intents[intent_id]
        intent.update(status="requires_payment_method",
                      last_payment_error={"code": "card_declined", "message": message, "type": "card_error"})
        return intent

    def _line_price(self, item: dict[str, Any]) -> dict[str, Any]:
        if "price" in item:
            return self.prices[item["price"]]
        data = item["price_data"]
        return self.add_price(_id("price"), int(data["unit_amount"]), data["currency"],
                              (data.get("recurring") or {}).get("interval"))

    def _session(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = _id("cs_test")
        items = params.get("line_items") or []
        prices = [self._line_price(i) for i in items]
        total = sum(p["unit_amount"] * int(i.get("quantity", 1)) for p, i in zip(prices, items, strict=True))
        currency = prices[0]["currency"] if prices else "usd"
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode", "payment"),
            "url": f"{self.base_url}/_test/pay/{session_id}", "amount_total": total, "currency": currency,
            "status": "open", "payment_status": "unpaid", "payment_intent": None,
            "client_reference_id": params.get("client_reference_id"), "metadata": params.get("metadata", {}),
            "customer_email": params.get("customer_email"), "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"), "line_items_sent": items,
            "payment_intent_data": params.get("payment_intent_data", {}), "livemode": False,
            "created": int(time.time()), "customer": params.get("customer"), "subscription": None,
            "subscription_data": params.get("subscription_data", {}), "prices": [p["id"] for p in prices],
        }
        self.sessions[session_id] = session
        return session

    def complete_session(self, session_id: str) -> dict[str, Any]:
        """The customer paid on Stripe's page: the intent exists and succeeded."""
        session = self.sessions[session_id]
        intent = self._intent({"amount": session["amount_total"], "currency": session["currency"],
                               "metadata": (session["payment_intent_data"] or {}).get("metadata", {})})
        self.succeed_intent(intent["id"])
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        return session

    def charge_of(self, intent_id: str) -> dict[str, Any]:
        intent = self.intents[intent_id]
        return {"id": intent["latest_charge"], "object": "charge", "amount": intent["amount"],
                "amount_refunded": intent["amount"], "currency": intent["currency"], "payment_intent": intent_id,
                "refunded": True, "metadata": intent["metadata"]}

    def settle_refund(self, refund_id: str, status: str = "succeeded",
                      failure_reason: str | None = None) -> dict[str, Any]:
        """Stripe finishes a pending refund (then sends `charge.refund.updated` / `refund.failed`)."""
        refund = self.refunds[refund_id]
        refund.update(status=status, failure_reason=failure_reason)
        return refund

    # --- subscriptions ----------------------------------------------------------------------

    def add_price(self, price_id: str, unit_amount: int, currency: str = "usd",
                  interval: str | None = "month") -> dict[str, Any]:
        price = {"id": price_id, "object": "price", "unit_amount": unit_amount, "currency": currency,
                 "recurring": {"interval": interval} if interval else None, "active": True}
        self.prices[price_id] = price
        return price

    def _customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {"id": _id("cus"), "object": "customer", "email": params.get("email"),
                    "metadata": params.get("metadata", {}), "created": int(time.time())}
        self.customers[customer["id"]] = customer
        return customer

    def _emit(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = self.event(type_, obj)
        self.events.append(event)
        return event

    def take_events(self) -> list[dict[str, Any]]:
        """The events queued since the last call (what Stripe would have sent meanwhile)."""
        events, self.events = self.events, []
        return events

    @staticmethod
    def _set_period(subscription: dict[str, Any], start: int) -> None:
        end = start + PERIOD_SECONDS
        subscription.update(current_period_start=start, current_period_end=end)
        for item in subscription["items"]["data"]:
            item.update(current_period_start=start, current_period_end=end)
        if subscription["cancel_at_period_end"]:
            subscription["cancel_at"] = end

    def _invoice(self, subscription: dict[str, Any], *, paid: bool, reason: str) -> dict[str, Any]:
        price = subscription["items"]["data"][0]["price"]
        now = int(time.time())
        invoice = {
            "id": _id("in"), "object": "invoice", "customer": subscription["customer"],
            "subscription": subscription["id"], "billing_reason": reason,
            "parent": {"type": "subscription_details", "subscription_details": {
                "subscription": subscription["id"], "metadata": subscription["metadata"]}},
            "status": "paid" if paid else "open", "currency": price["currency"],
            "amount_due": price["unit_amount"], "amount_paid": price["unit_amount"] if paid else 0,
            "attempt_count": 1, "created": now,
            "period_start": subscription["current_period_start"], "period_end": subscription["current_period_end"],
            "lines": {"object": "list", "data": [{"object": "line_item", "price": {"id": price["id"]}, "period": {
                "start": subscription["current_period_start"], "end": subscription["current_period_end"]}}]},
        }
        self.invoices[invoice["id"]] = invoice
        subscription["latest_invoice"] = invoice["id"]
        return invoice

    def complete_subscription_session(self, session_id: str) -> list[dict[str, Any]]:
        """The customer subscribed on Stripe's page: the subscription exists (incomplete until its
        first invoice is paid, then active) and the session is complete."""
        session = self.sessions[session_id]
        price = self.prices[session["prices"][0]]
        now = int(time.time())
        subscription: dict[str, Any] = {
            "id": _id("sub"), "object": "subscription", "customer": session["customer"], "status": "incomplete",
            "cancel_at_period_end": False, "cancel_at": None, "canceled_at": None, "ended_at": None,
            "default_payment_method": None, "latest_invoice": None, "created": now, "livemode": False,
            "metadata": dict((session.get("subscription_data") or {}).get("metadata") or {}),
            "items": {"object": "list", "data": [{"id": _id("si"), "object": "subscription_item",
                                                  "price": deepcopy(price), "quantity": 1}]},
        }
        self._set_period(subscription, now)
        self.subscriptions[subscription["id"]] = subscription
        events = [self._emit("customer.subscription.created", subscription)]
        invoice = self._invoice(subscription, paid=True, reason="subscription_create")
        events.append(self._emit("invoice.paid", invoice))
        subscription["status"] = "active"
        events.append(self._emit("customer.subscription.updated", subscription))
        session.update(status="complete", payment_status="paid", subscription=subscription["id"])
        events.append(self._emit("checkout.session.completed", session))
        return events

    def renew_subscription(self, subscription_id: str, *, paid: bool = True) -> list[dict[str, Any]]:
        """The period ended: the next one starts with its invoice, paid or failed (past due)."""
        subscription = self.subscriptions[subscription_id]
        self._set_period(subscription, subscription["current_period_end"])
        invoice = self._invoice(subscription, paid=paid, reason="subscription_cycle")
        subscription["status"] = "active" if paid else "past_due"
        return [self._emit("invoice.paid" if paid else "invoice.payment_failed", invoice),
                self._emit("customer.subscription.updated", subscription)]

    def pay_invoice(self, invoice_id: str) -> list[dict[str, Any]]:
        """A retry of a failed invoice succeeded: the subscription is active again."""
        invoice = self.invoices[invoice_id]
        invoice.update(status="paid", amount_paid=invoice["amount_due"], attempt_count=invoice["attempt_count"] + 1)
        subscription = self.subscriptions[invoice["subscription"]]
        subscription["status"] = "active"
        return [self._emit("invoice.paid", invoice), self._emit("customer.subscription.updated", subscription)]

    def end_subscription(self, subscription_id: str) -> list[dict[str, Any]]:
        """The period of a subscription cancelled at its end is over (or Stripe gave up on it)."""
        subscription = self.subscriptions[subscription_id]
        now = int(time.time())
        subscription.update(status="canceled", ended_at=now, canceled_at=subscription["canceled_at"] or now)
        return [self._emit("customer.subscription.deleted", subscription)]

    def _update_subscription(self, subscription: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if "cancel_at_period_end" in params:
            cancelling = params["cancel_at_period_end"] == "true"
            subscription.update(cancel_at_period_end=cancelling,
                                cancel_at=subscription["current_period_end"] if cancelling else None,
                                canceled_at=int(time.time()) if cancelling else None)
        if "default_payment_method" in params:
            subscription["default_payment_method"] = params["default_payment_method"] or None
        if params.get("metadata"):
            subscription["metadata"].update(params["metadata"])
        self._emit("customer.subscription.updated", subscription)
        return subscription

    @staticmethod
    def event(type_: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        return {"id": event_id or _id("evt"), "object": "event", "api_version": "2025-01-01", "type": type_,
                "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
                "data": {"object": json.loads(json.dumps(obj))}}

    # --- the HTTP API ---------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        def error(status: int, message: str, type_: str = "invalid_request_error") -> JSONResponse:
            return JSONResponse({"error": {"type": type_, "message": message}}, status_code=status)

        async def parsed(request: Request) -> tuple[dict[str, Any], JSONResponse | None]:
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                return {}, error(401, "Invalid API Key provided", "authentication_error")
            params = decode_form((await request.body()).decode())
            key = request.headers.get("idempotency-key")
            self.requests.append((request.method, request.url.path, params, key))
            return params, None

        def idempotent(request: Request, make: Any) -> JSONResponse:
            key = request.headers.get("idempotency-key")
            with self.lock:
                if key and (f"{request.url.path}:{key}") in self.idempotent:
                    status, body = self.idempotent[f"{request.url.path}:{key}"]
                    return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
                status, body = make()
                if key:
                    self.idempotent[f"{request.url.path}:{key}"] = (status, body)
            return JSONResponse(body, status_code=status)

        @app.post("/v1/payment_intents")
        async def create_intent(request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            return failed or idempotent(request, lambda: (200, self._intent(params)))

        @app.get("/v1/payment_intents/{intent_id}")
        async def retrieve_intent(intent_id: str, request: Request) -> JSONResponse:
            _, failed = await parsed(request)
            if failed:
                return failed
            if intent_id not in self.intents:
                return error(404, f"No such payment_intent: '{intent_id}'")
            return JSONResponse(self.intents[intent_id])

        @app.post("/v1/payment_intents/{intent_id}/confirm")
        async def confirm_intent(intent_id: str, request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            if failed:
                return failed
            if intent_id not in self.intents:
                return error(404, f"No such payment_intent: '{intent_id}'")
            if params.get("payment_method") == "pm_card_chargeDeclined":
                return JSONResponse(self.fail_intent(intent_id))
            return JSONResponse(self.succeed_intent(intent_id))

        @app.post("/v1/payment_intents/{intent_id}/cancel")
        async def cancel_intent(intent_id: str, request: Request) -> JSONResponse:
            _, failed = await parsed(request)
            if failed:
                return failed
            intent = self.intents.get(intent_id)
            if intent is None:
                return error(404, f"No such payment_intent: '{intent_id}'")
            if intent["status"] == "succeeded":
                return error(400, "You cannot cancel this PaymentIntent because it has a status of succeeded.")
            intent["status"] = "canceled"
            return JSONResponse(intent)

        @app.post("/v1/checkout/sessions")
        async def create_session(request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            if failed:
                return failed
            for item in params.get("line_items") or []:
                if "price" in item and item["price"] not in self.prices:
                    return error(400, f"No such price: '{item['price']}'")
            if params.get("mode") == "subscription" and params.get("customer") not in self.customers:
                return error(400, f"No such customer: '{params.get('customer')}'")
            return idempotent(request, lambda: (200, self._session(params)))

        @app.get("/v1/checkout/sessions/{session_id}")
        async def retrieve_session(session_id: str, request: Request) -> JSONResponse:
            _, failed = await parsed(request)
            if failed:
                return failed
            if session_id not in self.sessions:
                return error(404, f"No such checkout.session: '{session_id}'")
            return JSONResponse(self.sessions[session_id])

        @app.post("/v1/checkout/sessions/{session_id}/expire")
        async def expire_session(session_id: str, request: Request) -> JSONResponse:
            _, failed = await parsed(request)
            if failed:
                return failed
            session = self.sessions.get(session_id)
            if session is None:
                return error(404, f"No such checkout.session: '{session_id}'")
            if session["status"] != "open":
                return error(400, "Only Checkout Sessions with a status in [\"open\"] can be expired.")
            session["status"] = "expired"
            return JSONResponse(session)

        @app.post("/v1/refunds")
        async def create_refund(request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            if failed:
                return failed

            def make() -> tuple[int, dict[str, Any]]:
                intent = self.intents.get(params.get("payment_intent", ""))
                if intent is None or intent["status"] != "succeeded":
                    return 400, {"error": {"type": "invalid_request_error",
                                           "message": "This PaymentIntent does not have a successful charge to refund."}}
                refunded = sum(r["amount"] for r in self.refunds.values()
                               if r["payment_intent"] == intent["id"] and r["status"] in ("pending", "succeeded"))
                amount = int(params.get("amount") or intent["amount"] - refunded)
                if amount <= 0 or refunded + amount > intent["amount"]:
                    return 400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
                                           "message": f"Refund amount ({amount}) is greater than unrefunded amount "
                                                      f"on charge ({intent['amount'] - refunded})"}}
                refund = {"id": _id("re"), "object": "refund", "amount": amount,
                          "currency": intent["currency"], "payment_intent": intent["id"],
                          "charge": intent["latest_charge"], "status": self.refund_status, "failure_reason": None,
                          "metadata": params.get("metadata", {}), "created": int(time.time())}
                self.refunds[refund["id"]] = refund
                return 200, refund

            return idempotent(request, make)

        @app.post("/v1/customers")
        async def create_customer(request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            return failed or idempotent(request, lambda: (200, self._customer(params)))

        @app.get("/v1/customers/{customer_id}")
        async def retrieve_customer(customer_id: str, request: Request) -> JSONResponse:
            _, failed = await parsed(request)
            if failed:
                return failed
            if customer_id not in self.customers:
                return error(404, f"No such customer: '{customer_id}'")
            return JSONResponse(self.customers[customer_id])

        @app.get("/v1/subscriptions/{subscription_id}")
        async def retrieve_subscription(subscription_id: str, request: Request) -> JSONResponse:
            _, failed = await parsed(request)
            if failed:
                return failed
            if subscription_id not in self.subscriptions:
                return error(404, f"No such subscription: '{subscription_id}'")
            return JSONResponse(self.subscriptions[subscription_id])

        @app.post("/v1/subscriptions/{subscription_id}")
        async def update_subscription(subscription_id: str, request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            if failed:
                return failed
            subscription = self.subscriptions.get(subscription_id)
            if subscription is None:
                return error(404, f"No such subscription: '{subscription_id}'")
            if subscription["status"] in ("canceled", "incomplete_expired"):
                return error(400, "A canceled subscription can only update its cancellation_details and metadata.")
            return JSONResponse(self._update_subscription(subscription, params))

        @app.post("/v1/billing_portal/sessions")
        async def create_portal_session(request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            if failed:
                return failed
            if params.get("customer") not in self.customers:
                return error(400, f"No such customer: '{params.get('customer')}'")
            portal_id = _id("bps")
            portal = {"id": portal_id, "object": "billing_portal.session", "customer": params["customer"],
                      "return_url": params.get("return_url"), "url": f"{self.base_url}/_test/portal/{portal_id}",
                      "created": int(time.time()), "livemode": False}
            self.portal_sessions[portal_id] = portal
            return JSONResponse(portal)

        @app.post("/v1/payment_methods/{payment_method_id}/attach")
        async def attach_payment_method(payment_method_id: str, request: Request) -> JSONResponse:
            params, failed = await parsed(request)
            if failed:
                return failed
            if params.get("customer") not in self.customers:
                return error(400, f"No such customer: '{params.get('customer')}'")
            return JSONResponse({"id": payment_method_id, "object": "payment_method", "customer": params["customer"],
                                 "type": "card"})

        @app.post("/_test/checkout/sessions/{session_id}/complete")
        async def pay_session(session_id: str) -> JSONResponse:
            if self.sessions[session_id]["mode"] == "subscription":
                self.complete_subscription_session(session_id)
                return JSONResponse(self.sessions[session_id])
            return JSONResponse(self.complete_session(session_id))

        return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class FakeStripeServer:
    """The fake behind a real HTTP server (the SDK makes real HTTP calls), in a thread."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.fake = FakeStripe(self.url)
        self._server = uvicorn.Server(uvicorn.Config(self.fake.app, host=host, port=self.port, log_level="warning",
                                                     lifespan="off", access_log=False))
        self._thread = threading.Thread(target=self._server.run, name="fake-stripe", daemon=True)

    def start(self, timeout: float = 10.0) -> FakeStripeServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Stripe server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


class StripeWebhooks:
    """Signs events exactly as Stripe does (`Stripe-Signature: t=…,v1=…`) and posts them."""

    def __init__(self, client: httpx.AsyncClient, secret: str = WEBHOOK_SECRET,
                 path: str = "/api/v1/payments/webhooks/stripe") -> None:
        self.client = client
        self.secret = secret
        self.path = path

    @staticmethod
    def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
        header: str = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
        return header

    async def send(self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None,
                   signature: str | None = None) -> httpx.Response:
        payload = json.dumps(event)
        header = signature if signature is not None else self.sign(payload, secret or self.secret, timestamp)
        return await self.client.post(self.path, content=payload.encode(),
                                      headers={"Stripe-Signature": header, "Content-Type": "application/json"})
