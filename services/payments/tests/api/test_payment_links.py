"""A payment link's token (a draft order staff sent) lets whoever holds it start that order's checkout."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from atelier_common import payment_links

from ..conftest import assert_error

URLS = {"success_url": "http://shop.test/ok", "cancel_url": "http://shop.test/cancelled"}


async def test_the_link_pays_its_order_only_until_it_expires(api) -> None:
    order = api.orders.add(uuid.uuid4())  # a guest of its own: nobody else owns it
    other = api.orders.add(uuid.uuid4())
    _, stranger = api.anon()
    secret = api.orders.service_token
    token = payment_links.sign(secret, uuid.UUID(order["id"]), datetime.now(UTC) + timedelta(hours=1))
    started = await api.client.post("/api/v1/payments/checkout", headers=stranger,
                                    json={"order_id": order["id"], "payment_token": token, **URLS})
    assert started.status_code == 200, started.text
    assert started.json()["checkout_url"]
    assert len(await api.payments(order["id"])) == 1
    # Without it, for another order, or expired: the order is not the caller's.
    assert_error(await api.checkout(order["id"], stranger), 404, "NOT_FOUND")
    assert_error(await api.client.post("/api/v1/payments/checkout", headers=stranger, json={
        "order_id": other["id"], "payment_token": token, **URLS}), 404, "NOT_FOUND")
    expired = payment_links.sign(secret, uuid.UUID(order["id"]), datetime.now(UTC) - timedelta(seconds=1))
    assert_error(await api.client.post("/api/v1/payments/checkout", headers=stranger, json={
        "order_id": order["id"], "payment_token": expired, **URLS}), 404, "NOT_FOUND")
