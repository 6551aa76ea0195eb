"""Guest checkouts and credit purchases paid through the fake Stripe, many at once, each one's fate
recorded: the failover test's load (tests-e2e/platform/test_failover.py).

A checkout is what a storefront and Stripe do together: the storefront's calls (cart, address,
order, checkout session) are made once each, not retried, so a failed one ends the checkout there,
before anything is charged; the status page is polled as a storefront's is; the customer pays on
Stripe's page (the fake's session completes: the money is taken); Stripe then delivers
`checkout.session.completed` and, as Stripe does, delivers it again until it is answered 2xx.

Charged but never paid is a lost checkout; paid twice is a doubled one.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from atelier_testing.fakes.stripe import FakeStripe, StripeWebhooks

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105", "country": "GE",
           "phone": "+995555000111"}
REDIRECTS = {"success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"}
# How long a status page waits for an order to change, and Stripe keeps delivering its event: far
# beyond any failover here, so that a checkout still owed at the end is lost, not merely slow.
SETTLE_SECONDS = 180.0
POLL_SECONDS = 0.25
# Stripe's retries of a webhook, shrunk from hours to seconds.
WEBHOOK_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0)


class StepFailed(Exception):
    """A storefront call answered with an error, or its connection went down under it."""

    def __init__(self, step: str, status: int | None, detail: str, sent_at: float) -> None:
        super().__init__(f"{step}: {status or 'connection lost'} {detail[:200]}")
        self.step, self.status, self.detail, self.sent_at = step, status, detail, sent_at

    @property
    def code(self) -> str:
        """The error code of the common error format, or the transport error's class."""
        if self.status is None:
            return self.detail.split("(", 1)[0]
        try:
            return str(json.loads(self.detail)["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return ""


@dataclass
class Refusal:
    """A request of the load answered 5xx or cut off, retried or not."""

    at: float
    step: str
    status: int | None


@dataclass
class Flow:
    kind: str  # "guest" or "credits"
    phase: str
    buyer: dict[str, str] | None = None  # a credit buyer's Authorization header
    started: float = 0.0
    ended: float = 0.0
    order_id: str | None = None
    session_id: str | None = None
    charged_at: float | None = None
    paid_at: float | None = None
    failure: StepFailed | None = None
    webhook_attempts: int = 0
    # Each step that ended (answered, or the order seen in the status wanted): (step, start, end).
    steps: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.paid_at is not None:
            return "paid"
        return "lost" if self.charged_at is not None else "failed"


@dataclass
class Load:
    """Runs flows through the gateway at `url`, reading orders as `staff` (a guest's order becomes
    its new account's once paid), paying through `stripe`."""

    url: str
    staff: dict[str, str]
    stripe: FakeStripe
    product_id: str
    refusals: list[Refusal] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.webhooks = StripeWebhooks(httpx.AsyncClient(base_url=self.url, timeout=30))
        self.reader = httpx.AsyncClient(base_url=self.url, timeout=30)

    async def close(self) -> None:
        await self.webhooks.client.aclose()
        await self.reader.aclose()

    async def run(self, flow: Flow) -> Flow:
        flow.started = time.monotonic()
        try:
            if flow.kind == "guest":
                await self._guest(flow)
            else:
                await self._credits(flow)
        except StepFailed as failed:
            flow.failure = failed
        finally:
            flow.ended = time.monotonic()
        return flow

    async def _call(self, flow: Flow, client: httpx.AsyncClient, step: str, method: str, path: str,
                    **kwargs: Any) -> httpx.Response:
        sent_at = time.monotonic()
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self.refusals.append(Refusal(time.monotonic(), step, None))
            raise StepFailed(step, None, repr(exc), sent_at) from exc
        if response.status_code >= 500:
            self.refusals.append(Refusal(time.monotonic(), step, response.status_code))
        if response.status_code >= 400:
            raise StepFailed(step, response.status_code, response.text, sent_at)
        flow.steps.append((step, sent_at, time.monotonic()))
        return response

    async def _guest(self, flow: Flow) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as guest:
            cart = await self._call(flow, guest, "anonymous token", "GET", "/api/v1/cart")
            guest.headers["X-Session-ID"] = cart.headers["x-anonymous-token"]
            await self._call(flow, guest, "add to cart", "POST", "/api/v1/cart/items",
                             json={"product_id": self.product_id, "quantity": 1})
            address = await self._call(flow, guest, "address", "POST", "/api/v1/addresses",
                                       json={**ADDRESS, "email": f"guest-{uuid.uuid4().hex[:12]}@example.com"})
            order = await self._call(flow, guest, "place order", "POST", "/api/v1/orders",
                                     json={"shipping_address_id": address.json()["id"]})
            flow.order_id = order.json()["id"]
            await self._order_becomes(flow, {"awaiting_payment"})
            checkout = await self._call(flow, guest, "checkout", "POST", "/api/v1/payments/checkout",
                                        json={"order_id": flow.order_id, **REDIRECTS})
            flow.session_id = checkout.json()["checkout_url"].rsplit("/", 1)[-1]
            await self._pay(flow)

    async def _credits(self, flow: Flow) -> None:
        assert flow.buyer is not None
        async with httpx.AsyncClient(base_url=self.url, timeout=60, headers=flow.buyer) as buyer:
            purchase = await self._call(flow, buyer, "buy credits", "POST", "/api/v1/credits/purchase",
                                        json={"sku": "PACK_5"})
            flow.order_id, flow.session_id = purchase.json()["order_id"], purchase.json()["session_id"]
            await self._pay(flow)

    async def _pay(self, flow: Flow) -> None:
        assert flow.session_id is not None
        with self.stripe.lock:  # the customer pays on Stripe's page: the money is taken
            session = self.stripe.complete_session(flow.session_id)
        flow.charged_at = time.monotonic()
        event = FakeStripe.event("checkout.session.completed", session, event_id=f"evt_{flow.session_id}")
        await self._deliver(flow, event)
        # A digital order (a credit pack) is completed in the transaction that marks it paid.
        await self._order_becomes(flow, {"paid", "completed"})
        flow.paid_at = time.monotonic()

    async def _deliver(self, flow: Flow, event: dict[str, Any]) -> None:
        """As Stripe delivers an event: again, with back-off, until it is answered 2xx."""
        started = time.monotonic()
        deadline = started + SETTLE_SECONDS
        while True:
            flow.webhook_attempts += 1
            try:
                response = await self.webhooks.send(event)
                if response.is_success:
                    flow.steps.append(("webhook", started, time.monotonic()))
                    return
                self.refusals.append(Refusal(time.monotonic(), "webhook", response.status_code))
            except httpx.TransportError:
                self.refusals.append(Refusal(time.monotonic(), "webhook", None))
            if time.monotonic() > deadline:
                return  # Stripe gives up: the checkout is lost
            await asyncio.sleep(WEBHOOK_BACKOFF_SECONDS[min(flow.webhook_attempts, len(WEBHOOK_BACKOFF_SECONDS)) - 1])

    async def _order_becomes(self, flow: Flow, statuses: set[str]) -> None:
        """The storefront's status page: polled (whatever it answers meanwhile) until the order shows
        one of `statuses`; a checkout whose order never gets there fails at this step."""
        step = f"order {' or '.join(sorted(statuses))}"
        deadline = time.monotonic() + SETTLE_SECONDS
        sent_at = time.monotonic()
        last = ""
        while time.monotonic() < deadline:
            try:
                response = await self.reader.get(f"/api/v1/orders/{flow.order_id}", headers=self.staff)
                if response.status_code >= 500:
                    self.refusals.append(Refusal(time.monotonic(), step, response.status_code))
                elif response.status_code == 200:
                    last = response.json()["status"]
                    if last in statuses:
                        flow.steps.append((step, sent_at, time.monotonic()))
                        return
            except httpx.TransportError:
                self.refusals.append(Refusal(time.monotonic(), step, None))
            await asyncio.sleep(POLL_SECONDS)
        raise StepFailed(step, None, f"still {last or 'unread'} after {SETTLE_SECONDS} s", sent_at)

    async def doubled(self, flow: Flow) -> bool:
        """Paid more than once: two payments recorded on the order, or two moves to paid."""
        response = await self.reader.get(f"/api/v1/staff/orders/{flow.order_id}", headers=self.staff)
        assert response.status_code == 200, response.text
        order = response.json()
        payments = [p for p in order["payments"] if p["kind"] == "payment"]
        return len(payments) > 1 or [e["status"] for e in order["events"]].count("paid") > 1
