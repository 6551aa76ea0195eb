"""Outbound webhooks through the gateway, in both modes.

An admin registers the test's own HTTP server; a customer pays an order and the server receives
`order.paid` with a Standard Webhooks signature the `standardwebhooks` library verifies. A failing
endpoint is retried on the (shrunk) schedule, then disabled, and the admin gets the mail; replay
from the delivery log reaches it once it is fixed. Private addresses are refused (only 127.0.0.1
is allowed by name on the test platforms) and only admins manage endpoints. A receiver that answers
a byte at a time, or answers 64 MiB, never holds the deliveries to a healthy one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.journeys import customer, latest_mail, order_awaiting_payment, paid_order, pay_order, poll, staff
from standardwebhooks import Webhook

from atelier_testing import assert_error
from atelier_testing.fakes.webhook_receiver import Answered, Received, WebhookReceiver
from atelier_testing.platform import STAFF_EMAIL

pytestmark = pytest.mark.e2e

URL = "/api/v1/webhook-endpoints"
HUGE = 64 * 1024 * 1024


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


async def _register(api: httpx.AsyncClient, admin: dict[str, str], url: str, events: list[str]) -> dict[str, Any]:
    response = await api.post(URL, headers=admin, json={"url": url, "events": events, "description": "e2e"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _about(receiver: WebhookReceiver, order_id: str) -> list[Received]:
    """What the receiver got about this order (the platform is shared with other tests)."""
    return [r for r in receiver.requests() if json.loads(r.body)["data"].get("order_id") == order_id]


async def test_a_paid_order_reaches_the_endpoint_signed(api: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    admin = await staff(api)
    endpoint = await _register(api, admin, receiver.url, ["order.paid"])
    assert endpoint["secret"].startswith("whsec_")
    try:
        order = await paid_order(api, await customer(api))

        async def arrived() -> list[Received] | None:
            return _about(receiver, order["id"]) or None

        [request] = await poll(arrived, timeout=30, message="order.paid at the endpoint")
        payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
        assert payload["type"] == "order.paid"
        assert payload["data"]["order_id"] == order["id"]
        assert Decimal(str(payload["data"]["amount"])) == Decimal(str(order["total_amount"]))
        assert request.headers["webhook-id"].startswith("msg_")

        async def logged() -> dict[str, Any] | None:
            r = await api.get(f"{URL}/{endpoint['id']}/deliveries", headers=admin)
            assert r.status_code == 200, r.text
            done = [d for d in r.json()["results"] if d["webhook_id"] == request.headers["webhook-id"]]
            return done[0] if done and done[0]["status"] == "succeeded" else None

        delivery = await poll(logged, timeout=30, message="the delivery in the log")
        assert [a["status_code"] for a in delivery["attempts"]] == [200]
    finally:
        assert (await api.delete(f"{URL}/{endpoint['id']}", headers=admin)).status_code == 204


@pytest.mark.modes("embedded", "distributed",
                   why="the delivery worker in the process (embedded) or in its own (distributed)")
async def test_a_failing_endpoint_is_retried_disabled_and_replayed(api: httpx.AsyncClient,
                                                                   receiver: WebhookReceiver) -> None:
    admin = await staff(api)
    receiver.status = 500
    endpoint = await _register(api, admin, receiver.url, ["order.paid"])
    try:
        order = await paid_order(api, await customer(api))

        async def disabled() -> dict[str, Any] | None:
            r = (await api.get(f"{URL}/{endpoint['id']}", headers=admin)).json()
            return r if not r["enabled"] else None

        seen = await poll(disabled, timeout=60, message="the endpoint disabled after its retries")
        assert "3 attempts" in seen["disabled_reason"]
        tries = _about(receiver, order["id"])
        assert [r.status for r in tries] == [500, 500, 500]
        assert len({r.headers["webhook-id"] for r in tries}) == 1  # the same message at every retry
        mail = await latest_mail(api, STAFF_EMAIL, "webhook endpoint was disabled")
        assert endpoint["id"] in mail["text"]

        [delivery] = [d for d in (await api.get(f"{URL}/{endpoint['id']}/deliveries", headers=admin)).json()["results"]
                      if d["webhook_id"] == tries[0].headers["webhook-id"]]
        assert delivery["status"] == "failed" and [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500]

        # Fixed: the admin enables the endpoint and replays the delivery from the log.
        receiver.status = 204
        assert (await api.patch(f"{URL}/{endpoint['id']}", headers=admin, json={"enabled": True})).status_code == 200
        replayed = await api.post(f"/api/v1/webhook-deliveries/{delivery['id']}/replay", headers=admin)
        assert replayed.status_code == 200, replayed.text

        async def redelivered() -> Received | None:
            ok = [r for r in _about(receiver, order["id"]) if r.status == 204]
            return ok[0] if ok else None

        request = await poll(redelivered, timeout=30, message="the replayed delivery")
        assert request.headers["webhook-id"] == delivery["webhook_id"]
        assert Webhook(endpoint["secret"]).verify(request.body, request.headers)["data"]["order_id"] == order["id"]
    finally:
        assert (await api.delete(f"{URL}/{endpoint['id']}", headers=admin)).status_code == 204


async def test_slow_and_huge_receivers_never_hold_a_healthy_one(api: httpx.AsyncClient) -> None:
    """One receiver answers a byte every 0.25 s (each read gets a byte: a read timeout never
    trips), another answers 64 MiB. While the slow one is still answering the first order, the
    healthy one hears of the second; the huge answer is read up to the cap, then dropped."""
    admin = await staff(api)
    with (WebhookReceiver(trickle_seconds=0.25) as slow, WebhookReceiver(answer_bytes=HUGE) as huge,
          WebhookReceiver() as healthy):
        endpoints = [await _register(api, admin, r.url, ["order.paid"]) for r in (slow, huge, healthy)]
        try:
            # Both orders placed beforehand: only the second's payment stands between the two events.
            buyers = [await customer(api), await customer(api)]
            first, second = [await order_awaiting_payment(api, auth) for auth in buyers]
            await pay_order(api, buyers[0], first)

            async def slow_answering() -> Received | None:
                return next(iter(_about(slow, first["id"])), None)

            slow_first = await poll(slow_answering, timeout=30, message="the slow receiver answering")
            await pay_order(api, buyers[1], second)

            async def healthy_heard() -> Received | None:
                return next(iter(_about(healthy, second["id"])), None)

            heard = await poll(healthy_heard, timeout=60, message="the second order.paid at the healthy receiver")
            ended = [a.at for a in slow.answers() if a.request == slow_first]
            assert not ended or ended[0] > heard.at, "the healthy receiver waited for the slow one"

            async def huge_answered() -> Answered | None:
                return next((a for a in huge.answers() if a.request in _about(huge, first["id"])), None)

            answer = await poll(huge_answered, timeout=30, message="the huge answer")
            assert answer.hung_up and answer.bytes_sent < HUGE // 4, answer.bytes_sent

            async def logged() -> list[int] | None:
                r = await api.get(f"{URL}/{endpoints[1]['id']}/deliveries", headers=admin)
                done = [d for d in r.json()["results"] if d["webhook_id"] == answer.request.headers["webhook-id"]]
                return [a["status_code"] for a in done[0]["attempts"]] if done and done[0]["attempts"] else None

            assert await poll(logged, timeout=30, message="the huge answer's attempt logged") == [200]
        finally:
            for endpoint in endpoints:
                assert (await api.delete(f"{URL}/{endpoint['id']}", headers=admin)).status_code == 204


@pytest.mark.parametrize("url", ["http://10.0.0.7/hooks", "http://169.254.169.254/latest", "http://localhost:9/x",
                                 "http://[::1]:9/x", "http://192.168.1.1/x", "http://[64:ff9b::7f00:1]/x",
                                 "http://[64:ff9b::a9fe:a9fe]/latest"])
async def test_private_urls_are_refused(api: httpx.AsyncClient, url: str) -> None:
    admin = await staff(api)
    response = await api.post(URL, headers=admin, json={"url": url, "events": ["order.paid"]})
    assert_error(response, 400, "WEBHOOK_URL_NOT_ALLOWED")


async def test_only_admins_manage_webhooks(api: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    body = {"url": receiver.url, "events": ["order.paid"]}
    auth = await customer(api)
    assert_error(await api.post(URL, headers=auth, json=body), 403, "PERMISSION_DENIED")
    assert_error(await api.get(URL, headers=auth), 403, "PERMISSION_DENIED")
    assert_error(await api.post(f"/api/v1/webhook-deliveries/{uuid.uuid4()}/replay", headers=auth),
                 403, "PERMISSION_DENIED")
    assert (await api.get(URL)).status_code == 401
