"""The outbound webhook mechanism without I/O: signature, ids, schedule, address rules; the
sender against an in-process transport (deadline, body cap, what the check refuses)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from atelier_identity import webhooks
from atelier_identity.errors import WebhookUrlNotAllowed
from atelier_identity.settings import IdentitySettings

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


# -- the IPv6 forms of private addresses, names that do not resolve --------------------------

@pytest.mark.parametrize("url", [
    "http://[64:ff9b::7f00:1]/x", "http://[64:ff9b::a9fe:a9fe]/latest", "http://[64:ff9b::a00:1]/x",  # NAT64
    "http://[64:ff9b:1::a00:1]/x",  # local-use NAT64
    "http://[2002:7f00:1::1]/x", "http://[2002:a9fe:a9fe::]/x", "http://[2002:c0a8:101::1]/x",  # 6to4
    "http://[::ffff:169.254.169.254]/x", "http://[::ffff:10.0.0.1]/x",  # IPv4-mapped
    "http://[::7f00:1]/x", "http://[::a9fe:a9fe]/x",  # IPv4-compatible
    "http://[::ffff:0:7f00:1]/x", "http://[::ffff:0:a9fe:a9fe]/x",  # IPv4-translated (SIIT)
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",  # Teredo
])
async def test_ipv6_forms_of_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(WebhookUrlNotAllowed, match="private"):
        await webhooks.check_url(url, STRICT)


def _resolving_to(*addresses: str) -> Any:
    async def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    return getaddrinfo


async def test_an_ipv6_form_is_judged_by_the_ipv4_address_it_carries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DNS64 network gives a v4-only receiver a NAT64 address: that of a public one passes, that
    of the metadata address is refused, whether written in the URL or resolved from a name."""
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", _resolving_to("93.184.215.14", "64:ff9b::a9fe:a9fe"))
    with pytest.raises(WebhookUrlNotAllowed, match="private"):
        await webhooks.check_url("https://hooks.example.com/x", STRICT)
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", _resolving_to("93.184.215.14", "64:ff9b::5db8:d70e"))
    await webhooks.check_url("https://hooks.example.com/x", STRICT)
    for public in ("http://[64:ff9b::5db8:d70e]/x", "http://[2002:5db8:d70e::1]/x", "http://[::ffff:93.184.215.14]/x"):
        await webhooks.check_url(public, STRICT)


async def test_a_name_that_does_not_resolve_is_not_allowed_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_such_name(host: str, port: int, **_: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def no_answer(host: str, port: int, **_: Any) -> list[Any]:
        await asyncio.sleep(3600)
        return []

    loop = asyncio.get_running_loop()
    for resolver in (no_such_name, no_answer, _resolving_to()):
        monkeypatch.setattr(loop, "getaddrinfo", resolver)
        with pytest.raises(WebhookUrlNotAllowed, match="does not resolve"):
            await asyncio.wait_for(webhooks.check_url("https://hooks.example.com/x", QUICK_DNS), 10)


# -- the sender's deadline, the body cap, no send to what the check refuses -------------------

QUICK_DNS = webhooks.UrlPolicy(allow_private=False, resolve_seconds=0.2)
OPEN = webhooks.UrlPolicy(allow_private=True)


def _sender(handler: Any, policy: webhooks.UrlPolicy = OPEN, *, cap: int = 64 * 1024) -> webhooks.WebhookSender:
    return webhooks.WebhookSender(timeout=10, max_response_bytes=cap, policy=policy,
                                  transport=httpx.MockTransport(handler))


async def _send(sender: webhooks.WebhookSender, url: str = "http://hooks.example.com/x", *,
                within: float = 5.0) -> webhooks.Outcome:
    deadline = asyncio.get_running_loop().time() + within
    # The bound here only keeps a failing run from hanging.
    return await asyncio.wait_for(sender.send(url, webhooks.new_secret(), "msg_1", "{}", datetime.now(UTC),
                                              deadline=deadline), 20)


async def test_an_attempt_without_an_answer_ends_at_its_deadline() -> None:
    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        return httpx.Response(200)

    outcome = await _send(_sender(never), within=0.3)
    assert outcome.status_code is None and outcome.error is not None and "deadline" in outcome.error
    assert not outcome.succeeded


async def test_an_answer_trickling_its_body_ends_at_the_deadline_with_its_status() -> None:
    """Each read gets a byte (httpx's read timeout never trips); the status has come: it stands."""
    async def trickle() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(0.01)
            yield b"."

    outcome = await _send(_sender(lambda request: httpx.Response(200, content=trickle())), within=0.3)
    assert outcome.status_code == 200 and outcome.succeeded


async def test_an_answers_body_is_read_up_to_the_cap() -> None:
    pulled = 0

    async def huge() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(100 * 1024):  # 1.6 GB in all
            pulled += 16 * 1024
            yield bytes(16 * 1024)

    outcome = await _send(_sender(lambda request: httpx.Response(200, content=huge()), cap=64 * 1024))
    assert outcome.succeeded
    assert pulled <= 64 * 1024 + 16 * 1024


@pytest.mark.parametrize("url", ["http://hooks.example.com/x", "http://[64:ff9b::7f00:1]/x"])
async def test_a_refused_or_unresolvable_address_is_never_sent_to(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_such_name(host: str, port: int, **_: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_such_name)
    sent: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    outcome = await _send(_sender(receiver, STRICT), url)
    assert not outcome.succeeded and outcome.status_code is None and "not allowed" in (outcome.error or "")
    assert sent == []


# -- which due attempts a worker starts -------------------------------------------------------

def test_each_endpoint_is_bounded_and_an_idle_one_always_gets_a_lane() -> None:
    slow, other, healthy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    d = [uuid.uuid4() for _ in range(6)]
    due = [(d[0], slow), (d[1], slow), (d[2], other), (d[3], healthy), (d[4], healthy), (d[5], other)]
    # Room everywhere: each endpoint up to its bound, oldest first.
    assert webhooks.start_now(due, {}, per_endpoint=2, concurrency=16) == [d[0], d[2], d[3], d[1], d[4], d[5]]
    # The worker is full of slow and other's attempts: the healthy endpoint (none in flight) still gets one.
    assert webhooks.start_now(due, {slow: 2, other: 1}, per_endpoint=2, concurrency=3) == [d[3]]
    # An endpoint at its bound gets nothing more, whatever the room.
    assert webhooks.start_now(due, {slow: 2}, per_endpoint=2, concurrency=16) == [d[2], d[3], d[4], d[5]]


def test_the_lease_must_outlast_the_attempts_deadline() -> None:
    with pytest.raises(ValueError, match="lease"):
        IdentitySettings(outbound_webhooks_deadline_seconds=120, outbound_webhooks_lease_seconds=120)
    IdentitySettings(outbound_webhooks_deadline_seconds=30, outbound_webhooks_lease_seconds=31)
