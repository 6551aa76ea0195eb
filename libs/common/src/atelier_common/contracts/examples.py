"""What the events' examples share. Identity sends these events to webhook endpoints, and each
one's example is its entry in the OpenAPI `webhooks` section: one customer and one order, said
here once, so that an integrator follows the same order through every event about it."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

CUSTOMER_ID = "f7dfc8a2-86d9-473a-a5aa-539dcc57330a"
EMAIL = "ada.lovelace@example.com"
ORDER_ID = "d9a1128a-05bd-4d8e-aa4e-cd386132471e"
PAYMENT_ID = "d1fce9f1-b31d-4d72-ae98-6d9fb4763468"
REFUND_ID = "8e2f4a6b-1c3d-4e5f-a7b9-0c1d2e3f4a5b"
INVOICE_NUMBER = "INV-DEFAULT-000042"

# The order as every event about it names it.
ORDER: dict[str, Any] = {"storefront": "default", "order_id": ORDER_ID, "order_number": "ORD-20261126-NNKSU0",
                         "owner_id": CUSTOMER_ID, "user_id": CUSTOMER_ID}
# Its one line (`OrderLine`).
LINE: dict[str, Any] = {
    "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None, "sku": "SEAL-PRO-1L",
    "kind": "physical", "quantity": 1, "unit_price": "24.99", "attributes": {"volume_l": 1}, "book_id": None,
    "content_type": None, "content_id": None, "name": "Stone Sealer 1 L", "gift_recipient_email": None,
    "gift_message": None, "gift_send_at": None}


def webhook_example(example: dict[str, Any]) -> ConfigDict:
    """The model configuration of an event sent to webhook endpoints: `example` is its example."""
    return ConfigDict(json_schema_extra={"examples": [example]})
