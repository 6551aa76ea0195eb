"""A fake Stripe API for tests: the endpoints payments uses, with Stripe's object shapes.

Self-contained (no import from the test-suite) so that the end-to-end tests can load it by path:

    server = FakeStripeServer(); server.start()          # a real HTTP server on a free port
    settings: stripe_api_base=server.url, stripe_api_key="sk_test_fake"
    await StripeWebhooks(client, secret).send(server.fake.event("payment_intent.succeeded", intent))
    server.stop()

Requests are form-encoded like Stripe's (`metadata[order_id]=…`, `line_items[0][quantity]=1`),
`Idempotency-Key` replays the first answer, and errors use Stripe's `{"error": {...}}` body.
Routes under `/_test/` are not Stripe's: they do what a customer would do on Stripe's side.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
import stripe
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

API_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"


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

    def _session(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = _id("cs_test")
        items = params.get("line_items") or []
        total = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
        currency = items[0]["price_data"]["currency"] if items else "usd"
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode", "payment"),
            "url": f"{self.base_url}/_test/pay/{session_id}", "amount_total": total, "currency": currency,
            "status": "open", "payment_status": "unpaid", "payment_intent": None,
            "client_reference_id": params.get("client_reference_id"), "metadata": params.get("metadata", {}),
            "customer_email": params.get("customer_email"), "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"), "line_items_sent": items,
            "payment_intent_data": params.get("payment_intent_data", {}), "livemode": False,
            "created": int(time.time()),
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
            return failed or idempotent(request, lambda: (200, self._session(params)))

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

        @app.post("/_test/checkout/sessions/{session_id}/complete")
        async def pay_session(session_id: str) -> JSONResponse:
            return JSONResponse(self.complete_session(session_id))

        return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)

    async def send(self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None,
                   signature: str | None = None) -> httpx.Response:
        payload = json.dumps(event)
        header = signature if signature is not None else self.sign(payload, secret or self.secret, timestamp)
        return await self.client.post(self.path, content=payload.encode(),
                                      headers={"Stripe-Signature": header, "Content-Type": "application/json"})
