"""The outbound webhooks as the OpenAPI document's `webhooks` section: one operation per public
event type (`webhooks.PUBLIC_EVENTS`), with the body identity sends and its signature headers, so a
receiver can generate its types. Documentation only: FastAPI's `app.webhooks` serves nothing.

No `from __future__ import annotations` here: each operation's body annotation is a model made in
the loop, which FastAPI must see as a class, not as a name to look up.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from atelier_common.events.envelope import IntegrationEvent
from atelier_identity.webhooks import PUBLIC_EVENTS

WEBHOOKS = APIRouter(tags=["webhooks"])

# What each public event tells a receiver (the contracts' own docstrings speak to the services).
WHAT: dict[str, str] = {
    "order.placed": "An order was placed (not paid yet): its lines, total and buyer.",
    "order.paid": "The payment provider confirmed an order's payment.",
    "order.status_changed": "An order moved to another status (`new_status`: processing, shipped with a "
                            "`tracking_number`, delivered, …).",
    "order.cancelled": "An order was cancelled (`was_paid`: its payment is being refunded).",
    "payment.failed": "A payment of an order failed; the order can be paid again.",
    "payment.refunded": "Money of an order's payment went back to the buyer: one event per refund, partial or "
                        "whole (`is_full` once all of it is refunded).",
    "invoice.issued": "A paid order's invoice was issued: its number (gap-free per storefront), total and tax; "
                      "the PDF is `GET /api/v1/orders/{order_id}/invoice.pdf`.",
    "credit_note.issued": "A refund of an invoiced order was credited: the credit note's number, amount and the "
                          "invoice it credits.",
    "promotion.changed": "A promotion or discount code was created or changed (deleting one deactivates it): its "
                         "terms, and `updated_at`, which orders the changes.",
    "promotion.redeemed": "An order was placed with a promotion or discount code: what it saved and the "
                          "promotion's uses so far (against its `usage_limit`).",
    "order.edited": "Staff edited an order that had not shipped (lines removed or fewer units): each line's "
                     "`old_quantity` and `new_quantity`, the totals before and after, and the `refund` asked of the "
                     "payment (0: not paid); the refund follows as `payment.refunded` with `return_id` = `edit_id`.",
    "return.requested": "A customer or staff opened a return of a delivered order's lines (`items`, `reason`, "
                        "`opened_by`); or staff settled a claim of damaged or missing goods (`kind: claim`, "
                        "`resolution` refund or replace); or an exchange was opened (`kind: exchange`, "
                        "`exchange.requested` says what goes out).",
    "return.received": "Staff received a return, or settled a claim by a refund (`kind: claim`): `amount` is the "
                       "refund asked of the payment (its lines with tax, less their discount, plus shipping when "
                       "`refund_shipping`); `resaleable` items go back in stock. The refund itself follows as "
                       "`payment.refunded` with this `return_id`.",
    "return.rejected": "Staff refused a return before receiving it: nothing is refunded or restocked.",
    "exchange.requested": "A delivered order's lines (`lines_back`) are to come back for other goods (`new_items`, "
                          "priced): the `credit`, the `new_items_total` and the `difference` (above 0: the customer "
                          "pays it; below 0: refunded once the lines are back); `exchange_order_id` sends the new "
                          "items (null while a customer's request waits for staff).",
    "exchange.completed": "An exchange's lines came back: the credit note of those lines is issued, `refund` (what "
                          "the shop owed, 0 if nothing) follows as `payment.refunded` with this `return_id`.",
    "subscription.changed": "A customer's subscription changed: its plan, status, period or cancellation.",
    "gift_card.issued": "Staff issued a gift card: its id, the code's last four characters, balance, currency and "
                        "expiry (never the code).",
    "gift_card.changed": "A gift card's balance or state changed (`change`: used, released, refunded, deactivated, "
                         "reactivated): its `balance` and `is_active` after it.",
    "job.completed": "A generation job finished; `asset_ids` are what it made.",
    "job.failed": "A generation job failed; its credits went back to the customer (`refunded_credits`).",
    "identity.user_registered": "An account was created (`via`: password, magic_link, oauth, passkey, order or cli).",
    "product.low_stock": "A product's (or variant's) units at one stock location (`location`) fell from above its "
                         "storefront's `low_stock_threshold` to at or below it: once per crossing.",
}
DELIVERY = (
    "Sent as a `POST` to every enabled endpoint subscribed to this type (and, for an endpoint with a "
    "`storefront`, only for that storefront's events), signed per Standard Webhooks: check `webhook-signature` "
    "(HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` with the endpoint's secret) before trusting the "
    "body. At least once: the same event keeps its `webhook-id` at every retry and replay, so deduplicate on it. "
    "A 2xx answer ends the delivery; anything else (or no answer in time) is retried with back-off for about a "
    "day, then the endpoint is disabled.")
TIMESTAMP = Field(description="When the event happened (ISO 8601)", examples=["2026-11-26T02:15:25.263948Z"])


class WebhookPayload(BaseModel):
    """The body of every outbound webhook: `{type, timestamp, data}`, `data` being the event."""

    model_config = ConfigDict(extra="ignore")

    type: str
    timestamp: datetime = TIMESTAMP
    data: dict[str, Any]


def _payload(event: type[IntegrationEvent]) -> type[BaseModel]:
    """The body of `event`'s webhook: its `type` as a constant and its contract as `data`."""
    constant: Any = Literal[event.type]  # a literal of a value known only here, per event
    model: type[BaseModel] = create_model(
        f"{event.__name__}Webhook", __base__=WebhookPayload,
        __doc__=f"The body of a `{event.type}` webhook.",
        type=(constant, Field(description="The event type")),
        data=(event, Field(description="The event, as the platform's services read it")))
    return model


def _document(event: type[IntegrationEvent]) -> None:
    payload = _payload(event)

    async def receive(
        body: payload,  # type: ignore[valid-type]  # the model made for this event just above
        webhook_id: Annotated[str, Header(alias="webhook-id", description="The message id: the same at every "
                                          "retry and replay of this event to this endpoint",
                                          examples=["msg_2b4c9f0e8a1d4c7b9e3f5a6d7c8b9a0e"])],
        webhook_timestamp: Annotated[str, Header(alias="webhook-timestamp", description="When this attempt was "
                                                 "signed, in Unix seconds", examples=["1795659325"])],
        webhook_signature: Annotated[str, Header(alias="webhook-signature", description="`v1,` and the base64 "
                                                 "HMAC-SHA256 signature",
                                                 examples=["v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="])],
    ) -> Response:
        return Response()  # never called: the operation only documents the request

    WEBHOOKS.post(
        event.type, summary=f"{event.type} webhook", description=f"{WHAT[event.type]}\n\n{DELIVERY}",
        operation_id=f"identity-webhook-{event.type.replace('.', '-')}", response_class=Response,
        responses={200: {"description": "Received: any 2xx answer ends the delivery (its body is ignored)"},
                   "4XX": {"description": "Refused (a bad signature, …): the delivery is retried"},
                   "5XX": {"description": "Failed: the delivery is retried"}},
    )(receive)


for _event in PUBLIC_EVENTS:
    _document(_event)
