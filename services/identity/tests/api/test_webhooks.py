"""Outbound webhooks: admins register endpoints; integration events reach them signed per
Standard Webhooks (verified here with the `standardwebhooks` library), once per event and endpoint,
retried on the schedule, then the endpoint is disabled and admins are mailed; replay from the log.
A slow, huge, refused or unresolvable receiver holds only its own deliveries."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from atelier_common.contracts.orders import OrderStatusChanged
from atelier_common.contracts.payments import OrderPaid
from atelier_common.events.envelope import Envelope
from atelier_common.housekeeping import Housekeeper
from atelier_identity import webhooks
from atelier_identity.housekeeping import sweeps
from atelier_identity.service.webhooks import DeliveryWorker, WebhookFanOut
from atelier_testing import assert_error, poll_until
from atelier_testing.fakes.webhook_receiver import Answered, WebhookReceiver

URL = "/api/v1/webhook-endpoints"
ADMIN_EMAIL = "root@example.com"
# Retries after 0.05 s then 0.05 s: three attempts in all, then the endpoint is disabled.
FAST = {"outbound_webhooks_retry_schedule_seconds": [0.05, 0.05], "outbound_webhooks_poll_seconds": 0.05,
        "outbound_webhooks_allow_private_urls": True, "bootstrap_staff_email": ADMIN_EMAIL,
        "bootstrap_staff_password": "correct horse battery"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def paid(storefront: str = "default") -> OrderPaid:
    user_id = uuid.uuid4()
    return OrderPaid(order_id=uuid.uuid4(), order_number="ORD-1", owner_id=user_id, user_id=user_id,
                     amount=Decimal("85.50"), currency="USD", payment_id=uuid.uuid4(), provider="local",
                     storefront=storefront)


async def _endpoint(api: Any, test_keys: Any, url: str, **fields: Any) -> dict[str, Any]:
    body = {"url": url, "events": ["order.paid"], **fields}
    response = await api.client.post(URL, json=body, headers=test_keys.staff_headers())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _received(receiver: WebhookReceiver, count: int = 1) -> list[Any]:
    async def arrived() -> list[Any] | None:
        got = receiver.requests()
        return got if len(got) >= count else None

    return await poll_until(arrived, timeout=15, message=f"{count} webhook request(s)")


async def _deliveries(api: Any, test_keys: Any, endpoint_id: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"{URL}/{endpoint_id}/deliveries", headers=test_keys.staff_headers())
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


async def _attempted(api: Any, test_keys: Any, endpoint_id: str) -> dict[str, Any]:
    """The endpoint's one delivery, once an attempt of it is recorded."""
    async def attempted() -> list[dict[str, Any]] | None:
        got = await _deliveries(api, test_keys, endpoint_id)
        return got if got and got[0]["attempts"] else None

    [delivery] = await poll_until(attempted, timeout=15, message="the attempt recorded")
    return delivery


class TestRegistering:
    async def test_an_admin_registers_an_endpoint_and_gets_its_secret_once(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            created = await _endpoint(api, test_keys, "http://127.0.0.1:9/hooks", storefront="default",
                                      description="ERP")
            assert created["secret"].startswith("whsec_") and created["enabled"] is True
            assert created["events"] == ["order.paid"] and created["storefront"] == "default"
            read = await api.client.get(f"{URL}/{created['id']}", headers=test_keys.staff_headers())
            assert read.status_code == 200 and "secret" not in read.json()
            listed = await api.client.get(URL, headers=test_keys.staff_headers())
            assert [e["id"] for e in listed.json()["results"]] == [created["id"]]
            # Audited through the outbox, as every staff write.
            assert [e.data["action"] for e in api.h.published("staff.action_recorded")] == ["webhook_endpoint.create"]

    async def test_only_admins_manage_endpoints(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            body = {"url": "http://127.0.0.1:9/hooks", "events": ["order.paid"]}
            for role in ("support", "finance", "merchandiser"):
                assert_error(await api.client.post(URL, json=body, headers=test_keys.staff_headers(role)),
                             403, "PERMISSION_DENIED")
                assert_error(await api.client.get(URL, headers=test_keys.staff_headers(role)), 403, "PERMISSION_DENIED")
            assert_error(await api.client.post(URL, json=body, headers=test_keys.user_headers()), 403,
                         "PERMISSION_DENIED")
            assert (await api.client.post(URL, json=body)).status_code == 401

    @pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://10.1.2.3/x",
                                     "http://169.254.169.254/latest/meta-data", "http://[::1]/x",
                                     "http://192.168.0.10/x", "http://[::ffff:10.0.0.1]/x",
                                     # NAT64, 6to4, IPv4-compatible and IPv4-translated forms
                                     "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/latest",
                                     "http://[2002:a9fe:a9fe::1]/x", "http://[::7f00:1]/x", "http://[::ffff:0:a00:1]/x"])
    async def test_private_loopback_and_link_local_urls_are_refused_unless_allowed(self, start_identity, test_keys,
                                                                                   url: str) -> None:
        async with start_identity() as api:
            response = await api.client.post(URL, json={"url": url, "events": ["order.paid"]},
                                             headers=test_keys.staff_headers())
            assert_error(response, 400, "WEBHOOK_URL_NOT_ALLOWED")
            assert (await api.client.get(URL, headers=test_keys.staff_headers())).json()["count"] == 0

    async def test_a_name_that_does_not_resolve_is_refused_until_it_does(self, start_identity, test_keys,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
        """A resolution failure is "not allowed yet", never "allowed": the name could later point inside."""
        body = {"url": "https://erp.example.com/hooks", "events": ["order.paid"]}
        async with start_identity() as api:
            monkeypatch.setattr(webhooks, "_resolve", _unresolvable)
            error = assert_error(await api.client.post(URL, json=body, headers=test_keys.staff_headers()),
                                 400, "WEBHOOK_URL_NOT_ALLOWED")
            assert "does not resolve" in error["message"] and "does not resolve" in error["details"]["fields"]["url"][0]
            monkeypatch.setattr(webhooks, "_resolve", _resolving_to("93.184.215.14"))
            assert (await api.client.post(URL, json=body, headers=test_keys.staff_headers())).status_code == 201

    async def test_an_allowed_host_passes_while_private_ones_are_refused(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allowed_hosts=["127.0.0.1"]) as api:
            await _endpoint(api, test_keys, "http://127.0.0.1:9/hooks")
            response = await api.client.post(URL, json={"url": "http://10.0.0.1/x", "events": ["order.paid"]},
                                             headers=test_keys.staff_headers())
            assert_error(response, 400, "WEBHOOK_URL_NOT_ALLOWED")

    @pytest.mark.parametrize("body", [{"url": "ftp://example.com/x", "events": ["order.paid"]},
                                      {"url": "http://example.com/x", "events": ["order.teleported"]},
                                      {"url": "http://example.com/x", "events": []},
                                      {"url": "not a url at all", "events": ["order.paid"]},
                                      {"url": "http://user:pw@example.com/x", "events": ["order.paid"]},
                                      {"url": "http://example.com/x", "events": ["order.paid"], "storefront": "nope"}])
    async def test_bad_input_is_a_400(self, start_identity, test_keys, body: dict[str, Any]) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            response = await api.client.post(URL, json=body, headers=test_keys.staff_headers())
            assert response.status_code == 400, response.text
            assert set(response.json()["error"]) == {"code", "message", "details"}

    async def test_unknown_ids_are_404(self, start_identity, test_keys) -> None:
        async with start_identity() as api:
            missing = uuid.uuid4()
            admin = test_keys.staff_headers()
            assert_error(await api.client.get(f"{URL}/{missing}", headers=admin), 404, "WEBHOOK_ENDPOINT_NOT_FOUND")
            assert_error(await api.client.patch(f"{URL}/{missing}", json={"enabled": True}, headers=admin),
                         404, "WEBHOOK_ENDPOINT_NOT_FOUND")
            assert_error(await api.client.delete(f"{URL}/{missing}", headers=admin), 404, "WEBHOOK_ENDPOINT_NOT_FOUND")
            assert_error(await api.client.get(f"{URL}/{missing}/deliveries", headers=admin),
                         404, "WEBHOOK_ENDPOINT_NOT_FOUND")
            assert_error(await api.client.post(f"/api/v1/webhook-deliveries/{missing}/replay", headers=admin),
                         404, "WEBHOOK_DELIVERY_NOT_FOUND")


class TestEventTypes:
    async def test_admins_read_every_type_an_endpoint_may_subscribe_to(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            listed = await api.client.get("/api/v1/staff/webhooks/events", headers=test_keys.staff_headers())
            assert listed.status_code == 200, listed.text
            types = [t["type"] for t in listed.json()]
            assert types == sorted(webhooks.EVENT_TYPES) and len(types) == 23
            assert all(t["description"] for t in listed.json())
            assert {"return.requested", "invoice.issued", "product.low_stock"} <= set(types)
            # Every one listed is one an endpoint may have.
            made = await _endpoint(api, test_keys, "http://127.0.0.1:9/hooks", events=types)
            assert sorted(made["events"]) == types

    async def test_only_admins_read_them(self, start_identity, test_keys) -> None:
        async with start_identity() as api:
            for role in ("support", "finance", "merchandiser"):
                assert_error(await api.client.get("/api/v1/staff/webhooks/events", headers=test_keys.staff_headers(role)),
                             403, "PERMISSION_DENIED")
            assert (await api.client.get("/api/v1/staff/webhooks/events")).status_code == 401


class TestDelivering:
    async def test_a_return_event_of_the_old_names_goes_out_in_the_contracts(
            self, start_identity, test_keys, receiver: WebhookReceiver) -> None:
        """A `return.received` written before the rename (`lines`, `item_id`, `restock`) is sent as
        receivers are told it looks."""
        async with start_identity(**FAST) as api:
            await _endpoint(api, test_keys, receiver.url, events=["return.received"])
            item_id = uuid.uuid4()
            data = {"return_id": str(uuid.uuid4()), "number": "RET-20261127-ABC123", "order_id": str(uuid.uuid4()),
                    "order_number": "ORD-20261126-NNKSU0", "owner_id": str(uuid.uuid4()), "amount": "12.00",
                    "currency": "USD", "lines": [{"item_id": str(item_id), "product_id": str(uuid.uuid4()),
                                                  "sku": "LAMP", "quantity": 1, "restock": True}]}
            await api.h.bus.publish([Envelope(type="return.received", producer="orders", data=data)])
            await api.h.drain()
            [request] = await _received(receiver)
            sent = json.loads(request.body)["data"]
            assert "lines" not in sent and [(x["order_item_id"], x["resaleable"]) for x in sent["items"]] == [
                (str(item_id), True)]
            assert "item_id" not in sent["items"][0] and "restock" not in sent["items"][0]

    async def test_an_event_arrives_signed_per_standard_webhooks(self, start_identity, test_keys,
                                                                 receiver: WebhookReceiver) -> None:
        async with start_identity(**FAST) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
            event = paid()
            envelope = await api.h.deliver(event)
            [request] = await _received(receiver)
            payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
            assert payload["type"] == "order.paid"
            assert payload["data"]["order_id"] == str(event.order_id) and payload["data"]["amount"] == "85.50"
            assert payload["timestamp"].startswith(envelope.occurred_at.isoformat()[:19])
            # A wrong secret does not verify it.
            with pytest.raises(Exception, match="signature"):
                Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)

            async def succeeded() -> list[dict[str, Any]] | None:
                got = await _deliveries(api, test_keys, endpoint["id"])
                return got if got and got[0]["status"] == "succeeded" else None

            [delivery] = await poll_until(succeeded, timeout=10, message="the delivery recorded")
            assert delivery["webhook_id"] == request.headers["webhook-id"]
            assert [a["status_code"] for a in delivery["attempts"]] == [200]
            assert delivery["event_id"] == str(envelope.id) and delivery["next_attempt_at"] is None

    async def test_a_delivered_webhook_is_one_info_line(self, start_identity, test_keys, receiver: WebhookReceiver,
                                                        caplog: pytest.LogCaptureFixture) -> None:
        """The operator's log says what was delivered, to whom, for which storefront."""
        async with start_identity(**FAST) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
            # The process's first app sets the root handlers up (`telemetry.setup_logging`): listen again.
            logging.getLogger().addHandler(caplog.handler)
            with caplog.at_level(logging.INFO, logger="atelier.identity.webhooks"):
                await api.h.deliver(paid("shop"))
                [request] = await _received(receiver)

                async def delivered() -> list[logging.LogRecord] | None:
                    found = [r for r in caplog.records if r.getMessage().startswith("webhook ") and "delivered" in
                             r.getMessage()]
                    return found or None

                [line] = await poll_until(delivered, timeout=10, message="the delivered line")
        webhook_id = request.headers["webhook-id"]
        assert line.levelname == "INFO" and line.getMessage() == (
            f"webhook {webhook_id} delivered: order.paid to {receiver.url} on storefront shop (attempt 1, HTTP 200)")
        fields = line.fields  # type: ignore[attr-defined]  # the line's structured fields, an extra on the record
        assert (fields["webhook_id"], fields["event_type"], fields["storefront"], fields["endpoint_id"]) == (
            webhook_id, "order.paid", "shop", endpoint["id"])

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_a_redelivered_event_makes_no_second_delivery(self, start_identity, test_keys,
                                                               receiver: WebhookReceiver) -> None:
        async with start_identity(**FAST) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
            event, event_id = paid(), uuid.uuid4()
            await asyncio.gather(*(api.h.deliver(event, envelope_id=event_id) for _ in range(3)))
            await api.h.deliver(event, envelope_id=event_id)
            await _received(receiver)

            async def succeeded() -> list[dict[str, Any]] | None:
                got = await _deliveries(api, test_keys, endpoint["id"])
                return got if got and got[0]["status"] == "succeeded" else None

            assert len(await poll_until(succeeded, timeout=10, message="the delivery recorded")) == 1
            assert len(receiver.requests()) == 1

    async def test_the_storefront_and_event_filters(self, start_identity, test_keys,
                                                    receiver: WebhookReceiver) -> None:
        async with start_identity(**FAST) as api:
            other = await _endpoint(api, test_keys, receiver.url + "/other", storefront="default",
                                    events=["order.status_changed"])
            mine = await _endpoint(api, test_keys, receiver.url + "/mine", storefront="default")
            await api.h.deliver(paid("somewhere-else"))  # not the endpoint's storefront
            await api.h.deliver(paid())
            await api.h.deliver(OrderStatusChanged(order_id=uuid.uuid4(), order_number="ORD-2", owner_id=uuid.uuid4(),
                                                   old_status="paid", new_status="shipped"))
            got = await _received(receiver, 2)
            assert sorted(r.path for r in got) == ["/hooks/mine", "/hooks/other"]
            assert len(await _deliveries(api, test_keys, mine["id"])) == 1
            assert len(await _deliveries(api, test_keys, other["id"])) == 1

    async def test_a_failing_endpoint_is_retried_then_disabled_admins_mailed_and_replay_works(
            self, start_identity, test_keys, receiver: WebhookReceiver) -> None:
        receiver.status = 503
        async with start_identity(**FAST) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
            await api.h.deliver(paid())
            await _received(receiver, 3)

            async def disabled() -> dict[str, Any] | None:
                got = (await api.client.get(f"{URL}/{endpoint['id']}", headers=test_keys.staff_headers())).json()
                return got if not got["enabled"] else None

            seen = await poll_until(disabled, timeout=10, message="the endpoint disabled")
            assert "3 attempts" in seen["disabled_reason"]
            [delivery] = await _deliveries(api, test_keys, endpoint["id"])
            assert delivery["status"] == "failed"
            assert [a["status_code"] for a in delivery["attempts"]] == [503, 503, 503]
            [mail] = await api.wait_for_mail(ADMIN_EMAIL)
            assert mail["subject"] == "A webhook endpoint was disabled" and receiver.url in mail["text"]
            # Every attempt carried the same webhook-id.
            assert len({r.headers["webhook-id"] for r in receiver.requests()}) == 1
            # A disabled endpoint hears nothing more: a new event makes no delivery for it.
            await api.h.deliver(paid())
            assert len(await _deliveries(api, test_keys, endpoint["id"])) == 1

            # The receiver is fixed; staff enable the endpoint and replay the failed delivery.
            receiver.status = 200
            enabled = await api.client.patch(f"{URL}/{endpoint['id']}", json={"enabled": True},
                                             headers=test_keys.staff_headers())
            assert enabled.status_code == 200 and enabled.json()["disabled_reason"] is None
            replayed = await api.client.post(f"/api/v1/webhook-deliveries/{delivery['id']}/replay",
                                             headers=test_keys.staff_headers())
            assert replayed.status_code == 200, replayed.text
            got = await _received(receiver, 4)
            assert got[3].status == 200 and got[3].headers["webhook-id"] == delivery["webhook_id"]
            assert got[3].body == got[0].body
            Webhook(endpoint["secret"]).verify(got[3].body, got[3].headers)

            async def succeeded() -> dict[str, Any] | None:
                [seen] = await _deliveries(api, test_keys, endpoint["id"])
                return seen if seen["status"] == "succeeded" else None

            replayed_log = await poll_until(succeeded, timeout=10, message="the replay recorded")
            assert [a["status_code"] for a in replayed_log["attempts"]] == [503, 503, 503, 200]

    async def test_a_private_address_is_refused_at_delivery_too(self, start_identity, test_keys,
                                                                receiver: WebhookReceiver) -> None:
        """DNS rebinding: registered while allowed (or while the name was public), the address is
        checked again before each attempt."""
        async with start_identity(**FAST) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
        async with start_identity(**{**FAST, "outbound_webhooks_allow_private_urls": False}) as api:
            await api.h.deliver(paid())

            async def failed() -> list[dict[str, Any]] | None:
                got = await _deliveries(api, test_keys, endpoint["id"])
                return got if got and got[0]["status"] == "failed" else None

            [delivery] = await poll_until(failed, timeout=10, message="the delivery refused")
            assert all("not allowed" in (a["error"] or "") for a in delivery["attempts"])
            assert receiver.requests() == []

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_two_workers_never_send_the_same_attempt_twice(self, start_identity, test_keys,
                                                                receiver: WebhookReceiver) -> None:
        # No worker role in the app: the four workers below are the only senders.
        async with start_identity(**FAST, roles=["api", "consumer", "relay"]) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
            runtime = api.h.runtime
            for _ in range(20):
                envelope = Envelope.wrap(paid(), producer="payments")
                async with runtime.db.transaction() as session:
                    assert await WebhookFanOut(session, runtime.context).fan_out(envelope) == 1
            workers = [DeliveryWorker(runtime.db, runtime.context) for _ in range(4)]
            recorded: list[uuid.UUID] = []
            # Each worker claims at most its room for the endpoint: rounds of racing claims until all went.
            for _ in range(20):
                rounds = await asyncio.gather(*(w.flush() for w in workers))
                recorded += [r.delivery_id for batch in rounds for r in batch]
                if len(recorded) >= 20:
                    break
            assert len(recorded) == len(set(recorded)) == 20
            got = receiver.requests()
            ids = [r.headers["webhook-id"] for r in got]
            assert len(ids) == len(set(ids)) == 20
            assert all(d["status"] == "succeeded" for d in await _deliveries(api, test_keys, endpoint["id"]))

    async def test_a_user_registration_is_heard(self, start_identity, test_keys, receiver: WebhookReceiver) -> None:
        async with start_identity(**FAST) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url, events=["identity.user_registered"])
            assert (await api.register("grace@example.com")).status_code == 201

            async def grace() -> Any:
                # (The bootstrap admin's own registration may arrive too.)
                return next((r for r in receiver.requests() if b"grace@example.com" in r.body), None)

            request = await poll_until(grace, timeout=15, message="grace's registration")
            body = Webhook(endpoint["secret"]).verify(request.body, request.headers)
            assert body["type"] == "identity.user_registered"
            assert body["data"]["email"] == "grace@example.com" and body["data"]["via"] == "password"
            assert json.loads(request.body)["data"]["storefront"] == "default"


class TestTheFanOutHearsOnlyWhatAnEndpointWants:
    """The fan-out's queue is bound to a type only while an enabled endpoint wants it: a checkout's
    public events cost identity nothing with no endpoint, and none is missed once there is one."""

    async def test_no_endpoint_no_delivery_then_every_event_after_the_write(
            self, start_identity, test_keys, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
        heard: list[str] = []
        fan_out = WebhookFanOut.fan_out

        async def counted(self: WebhookFanOut, envelope: Envelope) -> int:
            heard.append(envelope.type)
            return await fan_out(self, envelope)

        monkeypatch.setattr(WebhookFanOut, "fan_out", counted)
        async with start_identity(**FAST) as api:
            await api.h.deliver(paid())
            await api.h.deliver(OrderStatusChanged(order_id=uuid.uuid4(), order_number="ORD-3", owner_id=uuid.uuid4(),
                                                   old_status="pending", new_status="paid"))
            assert heard == []  # neither reached the fan-out
            endpoint = await _endpoint(api, test_keys, receiver.url)
            await api.h.deliver(paid())
            await api.h.deliver(OrderStatusChanged(order_id=uuid.uuid4(), order_number="ORD-4", owner_id=uuid.uuid4(),
                                                   old_status="pending", new_status="paid"))
            assert heard == ["order.paid"]  # the status change is still nobody's
            await _received(receiver)
            # A type added by an edit is heard from then on.
            edited = await api.client.patch(f"{URL}/{endpoint['id']}", headers=test_keys.staff_headers(),
                                            json={"events": ["order.paid", "order.status_changed"]})
            assert edited.status_code == 200, edited.text
            await api.h.deliver(OrderStatusChanged(order_id=uuid.uuid4(), order_number="ORD-5", owner_id=uuid.uuid4(),
                                                   old_status="pending", new_status="paid"))
            assert heard == ["order.paid", "order.status_changed"]
            await _received(receiver, 2)

    async def test_a_restarted_worker_binds_what_the_endpoints_want(self, start_identity, test_keys,
                                                                    receiver: WebhookReceiver) -> None:
        async with start_identity(**FAST) as api:
            await _endpoint(api, test_keys, receiver.url, events=["order.status_changed"])
        # A new process (its bus knows nothing of the first's bindings) reads them from the endpoints.
        async with start_identity(**FAST) as api:
            await api.h.deliver(OrderStatusChanged(order_id=uuid.uuid4(), order_number="ORD-6", owner_id=uuid.uuid4(),
                                                   old_status="paid", new_status="shipped"))
            [request] = await _received(receiver)
            assert json.loads(request.body)["type"] == "order.status_changed"

    async def test_a_broker_that_cannot_bind_refuses_the_write(self, start_identity, test_keys,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
        async with start_identity(**FAST) as api:
            async def down(_consumer: str, _types: object) -> None:
                raise ConnectionError("RabbitMQ is not connected")

            monkeypatch.setattr(api.h.bus, "bind", down)
            response = await api.client.post(URL, json={"url": "http://127.0.0.1:9/h", "events": ["order.paid"]},
                                             headers=test_keys.staff_headers())
            assert_error(response, 503, "SERVICE_UNAVAILABLE")
            # Nothing was stored: an endpoint that could miss events is never accepted.
            listed = await api.client.get(URL, headers=test_keys.staff_headers())
            assert listed.json()["results"] == []


class TestTheReceiversSlownessNeverSlowsThePlatform:
    async def test_a_slow_receiver_times_out_while_the_api_answers(self, start_identity, test_keys,
                                                                  receiver: WebhookReceiver) -> None:
        receiver.delay = 3.0
        async with start_identity(**{**FAST, "outbound_webhooks_timeout_seconds": 0.3,
                                     "outbound_webhooks_retry_schedule_seconds": [60]}) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
            await api.h.deliver(paid())
            delivery = await _attempted(api, test_keys, endpoint["id"])
            assert delivery["status"] == "pending" and "Timeout" in delivery["attempts"][0]["error"]
            assert delivery["next_attempt_at"] is not None
            # Meanwhile the service answers as ever (the worker waited, nothing else did).
            assert (await api.client.get(URL, headers=test_keys.staff_headers())).status_code == 200


class TestOneReceiverNeverHoldsAnother:
    """An attempt has a deadline for the whole of it, reads at most a capped body, and runs on
    its own: a slow or huge receiver holds only its own deliveries."""

    async def test_a_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_deadline(self, start_identity,
                                                                                      test_keys) -> None:
        # httpx's timeout (10 s) bounds each read, and each read gets a byte: only the deadline ends it.
        with WebhookReceiver(trickle_seconds=0.05, trickle_for=60) as slow:
            async with start_identity(**{**FAST, "outbound_webhooks_deadline_seconds": 0.5,
                                         "outbound_webhooks_retry_schedule_seconds": [60]}) as api:
                endpoint = await _endpoint(api, test_keys, slow.url)
                await api.h.deliver(paid())
                delivery = await _attempted(api, test_keys, endpoint["id"])
                assert delivery["status"] == "pending" and delivery["next_attempt_at"] is not None  # a retry
                assert "deadline" in delivery["attempts"][0]["error"]
                [answer] = await poll_until(_answers(slow), timeout=10, message="the receiver hung up on")
                assert answer.hung_up

    async def test_a_slow_endpoint_never_holds_another(self, start_identity, test_keys) -> None:
        with WebhookReceiver(trickle_seconds=0.05, trickle_for=60) as slow, WebhookReceiver() as healthy:
            async with start_identity(**FAST) as api:
                await _endpoint(api, test_keys, slow.url)
                await _endpoint(api, test_keys, healthy.url)
                await api.h.deliver(paid())
                [slow_first] = await _received(slow)  # the slow one is answering the first event
                second = paid()
                await api.h.deliver(second)

                async def heard() -> Any:
                    return next((r for r in healthy.requests() if str(second.order_id).encode() in r.body), None)

                request = await poll_until(heard, timeout=30, message="the second event at the healthy endpoint")
                ended = [a.at for a in slow.answers() if a.request == slow_first]
                assert not ended or ended[0] > request.at, "the healthy endpoint waited for the slow one"

    async def test_a_huge_answer_is_read_up_to_the_cap(self, start_identity, test_keys) -> None:
        huge_bytes = 64 * 1024 * 1024
        with WebhookReceiver(answer_bytes=huge_bytes) as huge:
            async with start_identity(**FAST) as api:
                endpoint = await _endpoint(api, test_keys, huge.url)
                await api.h.deliver(paid())

                async def succeeded() -> list[dict[str, Any]] | None:
                    got = await _deliveries(api, test_keys, endpoint["id"])
                    return got if got and got[0]["status"] == "succeeded" else None

                [delivery] = await poll_until(succeeded, timeout=15, message="the delivery recorded")
                assert [a["status_code"] for a in delivery["attempts"]] == [200]  # the status is the answer
                [answer] = await poll_until(_answers(huge), timeout=10, message="the answer ended")
                # Read up to 64 KiB, then hung up on: what went out is what the socket buffers took.
                assert answer.hung_up and answer.bytes_sent < huge_bytes // 4, answer.bytes_sent

    @pytest.mark.parametrize("url", ["http://erp.example.com/hooks", "http://[64:ff9b::7f00:1]/hooks"])
    async def test_at_send_time_a_refused_or_unresolvable_address_is_a_retry_never_a_send(
            self, start_identity, test_keys, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        async with start_identity(**FAST) as api:  # registered while private addresses were allowed
            endpoint = await _endpoint(api, test_keys, url)
        monkeypatch.setattr(webhooks, "_resolve", _unresolvable)
        async with start_identity(**{**FAST, "outbound_webhooks_allow_private_urls": False,
                                     "outbound_webhooks_retry_schedule_seconds": [60]}) as api:
            sent: list[httpx.Request] = []

            def receiver(request: httpx.Request) -> httpx.Response:
                sent.append(request)
                return httpx.Response(200)

            # Whatever would have been sent reaches this transport (and nothing leaves the machine).
            monkeypatch.setattr(api.h.runtime.context.webhooks, "_client",
                                httpx.AsyncClient(transport=httpx.MockTransport(receiver)))
            await api.h.deliver(paid())
            delivery = await _attempted(api, test_keys, endpoint["id"])
            assert delivery["status"] == "pending" and delivery["next_attempt_at"] is not None  # a retry
            assert "not allowed" in delivery["attempts"][0]["error"]
            assert sent == []


def _answers(receiver: WebhookReceiver) -> Callable[[], Awaitable[list[Answered]]]:
    async def answers() -> list[Answered]:
        return receiver.answers()

    return answers


async def _unresolvable(host: str, port: int, *_: object) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _resolving_to(*addresses: str) -> Any:
    async def resolve(host: str, port: int, *_: object) -> list[str]:
        return list(addresses)

    return resolve


class TestHousekeeping:
    async def test_ended_deliveries_go_after_the_retention_pending_ones_stay(self, start_identity, test_keys,
                                                                             receiver: WebhookReceiver) -> None:
        async with start_identity(**FAST) as api:
            endpoint = await _endpoint(api, test_keys, receiver.url)
            await api.h.deliver(paid())
            await _received(receiver)

            async def succeeded() -> list[dict[str, Any]] | None:
                got = await _deliveries(api, test_keys, endpoint["id"])
                return got if got and got[0]["status"] == "succeeded" else None

            await poll_until(succeeded, timeout=10, message="the delivery recorded")
            runtime = api.h.runtime
            later = datetime.now(UTC) + timedelta(days=31)
            keeper = Housekeeper(runtime.db, sweeps(runtime.context), service="identity", clock=lambda: later)
            assert (await keeper.run_once()).removed["webhook_deliveries"] == 1
            assert await _deliveries(api, test_keys, endpoint["id"]) == []
            keeper_now = Housekeeper(runtime.db, sweeps(runtime.context), service="identity")
            assert (await keeper_now.run_once()).removed["webhook_deliveries"] == 0
