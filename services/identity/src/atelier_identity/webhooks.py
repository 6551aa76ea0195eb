"""The outbound webhook mechanism, in one place: which events are public, the secret and the
Standard Webhooks signature, the retry schedule, the check that keeps deliveries off private
addresses, and the pooled HTTP sender. No database here: `service/webhooks.py` holds the use cases
and the delivery worker.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from atelier_common.contracts.catalog import ProductLowStock
from atelier_common.contracts.generation import JobCompleted, JobFailed
from atelier_common.contracts.identity import UserRegistered
from atelier_common.contracts.orders import (
    CreditNoteIssued,
    ExchangeCompleted,
    ExchangeRequested,
    InvoiceIssued,
    OrderCancelled,
    OrderEdited,
    OrderPlaced,
    OrderStatusChanged,
    PromotionChanged,
    PromotionRedeemed,
    ReturnReceived,
    ReturnRejected,
    ReturnRequested,
)
from atelier_common.contracts.payments import (
    GiftCardChanged,
    GiftCardIssued,
    OrderPaid,
    PaymentFailed,
    PaymentRefunded,
    SubscriptionChanged,
)
from atelier_common.events.envelope import IntegrationEvent
from atelier_common.tls import client_tls
from atelier_identity.errors import WebhookUrlNotAllowed

# The integration events an endpoint may subscribe to; the public type is the event's own name.
PUBLIC_EVENTS: tuple[type[IntegrationEvent], ...] = (
    OrderPlaced, OrderPaid, OrderStatusChanged, OrderCancelled, OrderEdited, PaymentFailed, PaymentRefunded,
    SubscriptionChanged, JobCompleted, JobFailed, UserRegistered, ProductLowStock, InvoiceIssued, CreditNoteIssued,
    PromotionChanged, PromotionRedeemed, ReturnRequested, ReturnReceived, ReturnRejected, ExchangeRequested,
    ExchangeCompleted, GiftCardIssued, GiftCardChanged)
EVENT_TYPES: tuple[str, ...] = tuple(sorted(cls.type for cls in PUBLIC_EVENTS))

SECRET_PREFIX = "whsec_"
# What a receiver's answer may add to the log (its body is not kept).
ERROR_LIMIT = 500


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def message_id(event_id: uuid.UUID, endpoint_id: uuid.UUID) -> str:
    """The `webhook-id` of an event sent to an endpoint: the same at every retry and replay, and
    different per endpoint (a receiver behind two endpoints gets two messages)."""
    return f"msg_{uuid.uuid5(event_id, str(endpoint_id)).hex}"


def payload(event_type: str, occurred_at: datetime, data: dict[str, object]) -> str:
    """The body Standard Webhooks describes: `{type, timestamp, data}`, serialised once and kept,
    so that every attempt sends (and signs) the same bytes."""
    return json.dumps({"type": event_type, "timestamp": occurred_at.isoformat(), "data": data},
                      separators=(",", ":"), ensure_ascii=False)


def signed_headers(secret: str, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with the `standardwebhooks` library."""
    signature = Webhook(secret).sign(msg_id, at, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature,
            "content-type": "application/json", "user-agent": "Atelier-Webhooks/1"}


def retry_delay(schedule: list[float], attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt (1-based), None when the schedule ran out."""
    if attempts > len(schedule):
        return None
    return timedelta(seconds=schedule[attempts - 1])


# -- Where deliveries may go ------------------------------------------------------------------

@dataclass(frozen=True)
class UrlPolicy:
    allow_private: bool
    allowed_hosts: frozenset[str] = frozenset()
    # A name that takes longer to resolve is taken as not resolving (not allowed yet).
    resolve_seconds: float = 5.0

    def host_allowed(self, host: str) -> bool:
        return self.allow_private or host.lower().rstrip(".") in self.allowed_hosts


# IPv6 forms that carry an IPv4 address in their last 32 bits: NAT64's well-known prefix (RFC 6052),
# SIIT's IPv4-translated form and the deprecated IPv4-compatible one. A NAT64 gateway takes
# `64:ff9b::7f00:1` to its own 127.0.0.1, and `ipaddress` calls it global: each is judged by the
# IPv4 address it carries (the IPv4-mapped form and 6to4 are read by `ipaddress` itself).
_CARRY_IPV4 = tuple(ipaddress.IPv6Network(net) for net in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96"))
# RFC 8215's local-use NAT64 prefix: where it leads depends on the local network's translator.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _CARRY_IPV4):
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def _private(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return True
        ip = _carried_ipv4(ip) or ip
    return not ip.is_global or ip.is_multicast


def parse_target(url: str) -> tuple[str, int]:
    """The host and port of a webhook URL, or WebhookUrlNotAllowed for anything but http(s) to a host."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookUrlNotAllowed(f"not a URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlNotAllowed("an http or https URL with a host is required")
    if parts.username or parts.password:
        raise WebhookUrlNotAllowed("credentials in the URL are not accepted; put them in a path or query")
    return parts.hostname, port


PRIVATE = "private, loopback and link-local addresses are not allowed"
UNRESOLVED = "the host name does not resolve (yet); it is allowed once it resolves to a public address"


async def check_url(url: str, policy: UrlPolicy) -> None:
    """Refuse a URL whose host is, or resolves to, a private, loopback, link-local or otherwise
    non-global address (an IPv6 form carrying one included), unless the policy allows it. Run at
    registration and before every attempt: a name that resolved to a public address yesterday may
    point inside the network today (DNS rebinding). A name that does not resolve now is not allowed
    yet: refused at registration, and an attempt to it is a failure (retried), never a send."""
    host, port = parse_target(url)
    if policy.host_allowed(host):
        return
    if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
        raise WebhookUrlNotAllowed(PRIVATE)
    try:
        addresses = [host] if _is_ip(host) else await _resolve(host, port, policy.resolve_seconds)
    except UnicodeError as exc:  # the IDNA codec refuses the name (an empty or overlong label)
        raise WebhookUrlNotAllowed("the host name is not valid") from exc
    except OSError as exc:  # no such name, no answer, or none in time (TimeoutError is one)
        raise WebhookUrlNotAllowed(UNRESOLVED) from exc
    if not addresses:
        raise WebhookUrlNotAllowed(UNRESOLVED)
    if any(_private(address) for address in addresses):
        raise WebhookUrlNotAllowed(PRIVATE)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def _resolve(host: str, port: int, within: float) -> list[str]:
    async with asyncio.timeout(within):
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# -- Sending -----------------------------------------------------------------------------------

def start_now(due: Sequence[tuple[uuid.UUID, uuid.UUID]], in_flight: Mapping[uuid.UUID, int], *,
              per_endpoint: int, concurrency: int) -> list[uuid.UUID]:
    """Which of the due attempts (`(delivery id, endpoint id)`, oldest first) a worker starts now,
    given what it has in flight per endpoint. An endpoint never has more than `per_endpoint` in
    flight, and the worker no more than `concurrency` in all — except that an endpoint with none in
    flight always gets one: however many receivers are slow, a healthy one never waits behind them."""
    busy = Counter(in_flight)
    total = sum(busy.values())
    chosen: list[uuid.UUID] = []
    rest: list[tuple[uuid.UUID, uuid.UUID]] = []
    for delivery, endpoint in due:
        if busy[endpoint] == 0:
            busy[endpoint] += 1
            total += 1
            chosen.append(delivery)
        else:
            rest.append((delivery, endpoint))
    for delivery, endpoint in rest:
        if total >= concurrency:
            break
        if busy[endpoint] < per_endpoint:
            busy[endpoint] += 1
            total += 1
            chosen.append(delivery)
    return chosen


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """One pooled HTTP client for every endpoint. httpx's `timeout` bounds each step (connecting,
    each read, each write): a receiver that answers one byte at a time never trips it, so every
    attempt also has a deadline for the whole of it, the address check included. Of an answer's
    body at most `max_response_bytes` are read (never kept), then the connection is dropped. How
    many attempts run at once is the delivery worker's to bound (`start_now`)."""

    def __init__(self, *, timeout: float, max_response_bytes: int, policy: UrlPolicy, keepalive: int = 16,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self.max_response_bytes = max_response_bytes
        # Redirects are not followed: a 3xx could point the platform at an internal address.
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, transport=transport,
                                         verify=client_tls(),
                                         limits=httpx.Limits(max_connections=None, max_keepalive_connections=keepalive))

    async def send(self, url: str, secret: str, msg_id: str, body: str, at: datetime, *, deadline: float) -> Outcome:
        """One attempt, over by `deadline` (the event loop's clock) whatever the receiver does. The
        answer's status is the outcome: once it has come, a body cut short (by the cap, the
        deadline or the receiver) changes nothing."""
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout_at(deadline):
                await check_url(url, self.policy)
                async with self._client.stream("POST", url, content=body.encode(),
                                               headers=signed_headers(secret, msg_id, body, at)) as response:
                    status = response.status_code
                    await self._skim(response)
        except TimeoutError:
            error = "Timeout: no answer by the attempt's deadline"
        except WebhookUrlNotAllowed as exc:
            error = exc.message
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if status is None:
            return Outcome(None, (error or "no answer")[:ERROR_LIMIT], _ms(started))
        return Outcome(status, None if 200 <= status < 300 else f"HTTP {status}", _ms(started))

    async def _skim(self, response: httpx.Response) -> None:
        """Read the body up to the cap (raw: a compressed one is not inflated), so that a short one
        leaves the connection reusable; past the cap, leaving the stream drops the connection."""
        if self.max_response_bytes <= 0:
            return
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= self.max_response_bytes:
                return

    async def close(self) -> None:
        await self._client.aclose()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
