"""The outbound webhook mechanism without I/O (#38): signature, ids, schedule, address rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from atelier_identity import webhooks
from atelier_identity.errors import WebhookUrlNotAllowed

STRICT = webhooks.UrlPolicy(allow_private=False)


def test_the_signature_is_standard_webhooks_and_verifies() -> None:
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_") and secret != webhooks.new_secret()
    at = datetime.now(UTC)
    body = webhooks.payload("order.paid", at, {"order_id": "o-1", "amount": "85.50"})
    headers = webhooks.signed_headers(secret, "msg_1", body, at)
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "order.paid", "timestamp": at.isoformat(),
                                                     "data": {"order_id": "o-1", "amount": "85.50"}}
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace("85.50", "0.01"), headers)


def test_the_message_id_is_stable_per_event_and_endpoint() -> None:
    event, endpoint = uuid.uuid4(), uuid.uuid4()
    assert webhooks.message_id(event, endpoint) == webhooks.message_id(event, endpoint)
    assert webhooks.message_id(event, endpoint) != webhooks.message_id(event, uuid.uuid4())
    assert webhooks.message_id(event, endpoint) != webhooks.message_id(uuid.uuid4(), endpoint)


def test_the_schedule_runs_out_after_its_last_delay() -> None:
    schedule = [5.0, 300.0]
    assert webhooks.retry_delay(schedule, 1) == timedelta(seconds=5)
    assert webhooks.retry_delay(schedule, 2) == timedelta(seconds=300)
    assert webhooks.retry_delay(schedule, 3) is None
    default = [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert timedelta(hours=24) < timedelta(seconds=sum(default)) < timedelta(hours=30)  # "for a day"


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost:8000/x", "http://api.localhost/x",
                                 "http://10.0.0.1/x", "http://172.16.5.4/x", "http://192.168.1.1/x",
                                 "http://169.254.169.254/x", "http://100.64.0.1/x", "http://[::1]/x",
                                 "http://[fe80::1]/x", "http://[fd00::1]/x", "http://[::ffff:127.0.0.1]/x",
                                 "http://0.0.0.0/x", "http://224.0.0.1/x"])
async def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(WebhookUrlNotAllowed):
        await webhooks.check_url(url, STRICT)
    await webhooks.check_url(url, webhooks.UrlPolicy(allow_private=True))


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http:///x", "http://user:pw@example.com/x",
                                 "http://example.com:99999/x", "http://a..b/x", "http://" + "a" * 70 + ".com/x"])
async def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(WebhookUrlNotAllowed):
        await webhooks.check_url(url, STRICT)


async def test_public_addresses_and_allowed_hosts_pass() -> None:
    await webhooks.check_url("https://93.184.215.14/hooks", STRICT)
    await webhooks.check_url("http://127.0.0.1:9/x", webhooks.UrlPolicy(allow_private=False,
                                                                        allowed_hosts=frozenset({"127.0.0.1"})))
