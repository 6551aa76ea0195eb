"""The local provider: checkout page → Pay → signed webhook over HTTP → order.paid."""

from __future__ import annotations

import json

from atelier_common.contracts.orders import OrderCancelled
from atelier_common.settings import DEV_SECRET
from atelier_payments.domain import sign_simple_webhook

from ..conftest import PUBLIC_URL, assert_error


async def _local_checkout(api) -> tuple[dict, dict]:
    anon_id, headers = api.anon()
    order = api.orders.add(anon_id, total="85.50", currency="USD")
    response = await api.checkout(order["id"], headers)
    assert response.status_code == 200, response.text
    return order, response.json()


class TestLocalCheckout:
    async def test_checkout_url_points_at_the_public_dev_checkout_page(self, api) -> None:
        order, body = await _local_checkout(api)
        assert body["checkout_url"] == f"{PUBLIC_URL}/api/dev/checkout/{body['session_id']}"
        page = await api.client.get(f"/api/dev/checkout/{body['session_id']}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "85.50 USD" in page.text and order["order_number"] in page.text
        assert f'action="/api/dev/checkout/{body["session_id"]}/pay"' in page.text

    async def test_pay_sends_the_signed_webhook_and_redirects_to_success(self, api) -> None:
        order, body = await _local_checkout(api)
        response = await api.client.post(f"/api/dev/checkout/{body['session_id']}/pay")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"http://shop.test/ok?session={body['session_id']}"
        [payment] = await api.payments(order["id"])
        assert payment.status == "succeeded" and payment.provider == "local"
        [paid] = await api.outbox("order.paid")
        assert paid["order_id"] == order["id"] and paid["provider"] == "local" and paid["amount"] == "85.50"
        # The page now says so, and paying again changes nothing.
        assert "complete" in (await api.client.get(f"/api/dev/checkout/{body['session_id']}")).text
        again = await api.client.post(f"/api/dev/checkout/{body['session_id']}/pay",
                                      headers={"Accept": "application/json"})
        assert again.status_code == 200
        assert again.json() == {"status": "paid", "order_id": order["id"], "session_id": body["session_id"],
                                "redirect_url": f"http://shop.test/ok?session={body['session_id']}"}
        assert len(await api.outbox("order.paid")) == 1

    async def test_unknown_session_is_not_found(self, api) -> None:
        assert_error(await api.client.get("/api/dev/checkout/lcs_unknown"), 404, "NOT_FOUND")
        assert_error(await api.client.post("/api/dev/checkout/lcs_unknown/pay"), 404, "NOT_FOUND")

    async def test_a_cancelled_orders_checkout_cannot_be_paid(self, api) -> None:
        order, body = await _local_checkout(api)
        await api.h.deliver(OrderCancelled(order_id=order["id"], owner_id=order["owner_id"], was_paid=False))
        details = assert_error(await api.client.post(f"/api/dev/checkout/{body['session_id']}/pay"), 409,
                               "CHECKOUT_SESSION_CLOSED")["details"]
        assert details == {"status": "expired"}
        assert await api.outbox("order.paid") == []


class TestDevEndpointsSwitch:
    async def test_dev_routes_do_not_exist_without_dev_endpoints(self, start_payments) -> None:
        async with start_payments(dev_endpoints=False) as api:
            _, body = await _local_checkout(api)
            assert_error(await api.client.get(f"/api/dev/checkout/{body['session_id']}"), 404, "NOT_FOUND")
            assert_error(await api.client.post(f"/api/dev/checkout/{body['session_id']}/pay"), 404, "NOT_FOUND")


class TestLocalIntent:
    async def test_a_local_intent_is_paid_by_the_signed_webhook(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id)
        intent = (await api.intent(order["id"], headers)).json()
        assert intent["payment_intent_id"].startswith("lpi_") and intent["client_secret"]
        assert_error(await api.confirm(order["id"], intent["payment_intent_id"], headers), 400, "PAYMENT_NOT_COMPLETED")
        body = json.dumps({"order_id": order["id"], "status": "paid",
                           "transaction_id": intent["payment_intent_id"]}).encode()
        response = await api.client.post("/api/v1/payments/webhooks/local", content=body,
                                         headers={"X-Signature": sign_simple_webhook(body, DEV_SECRET)})
        assert response.json()["status"] == "processed"
        confirmed = await api.confirm(order["id"], intent["payment_intent_id"], headers)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"
        assert len(await api.outbox("order.paid")) == 1
