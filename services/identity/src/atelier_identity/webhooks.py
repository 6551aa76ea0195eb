"""The outbound webhook mechanism (#38), in one place: which events are public, the secret and the
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
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from atelier_common.contracts.generation import JobCompleted, JobFailed
from atelier_common.contracts.identity import UserRegistered
from atelier_common.contracts.orders import OrderCancelled, OrderPlaced, OrderStatusChanged
from atelier_common.contracts.payments import OrderPaid, PaymentFailed, PaymentRefunded, SubscriptionChanged
from atelier_common.events.envelope import IntegrationEvent
from atelier_identity.errors import WebhookUrlNotAllowed

# The integration events an endpoint may subscribe to; the public type is the event's own name.
PUBLIC_EVENTS: tuple[type[IntegrationEvent], ...] = (
    OrderPlaced, OrderPaid, OrderStatusChanged, OrderCancelled, PaymentFailed, PaymentRefunded,
    SubscriptionChanged, JobCompleted, JobFailed, UserRegistered)
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

    def host_allowed(self, host: str) -> bool:
        return self.allow_private or host.lower().rstrip(".") in self.allowed_hosts


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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


async def check_url(url: str, policy: UrlPolicy) -> None:
    """Refuse a URL whose host is, or resolves to, a private, loopback, link-local or otherwise
    non-global address, unless the policy allows it. Run at registration and before every attempt:
    a name that resolved to a public address yesterday may point inside the network today (DNS
    rebinding). A name that does not resolve now is let through at registration (its attempts fail)."""
    host, port = parse_target(url)
    if policy.host_allowed(host):
        return
    if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
        raise WebhookUrlNotAllowed("private, loopback and link-local addresses are not allowed")
    try:
        addresses = [host] if _is_ip(host) else await _resolve(host, port)
    except UnicodeError as exc:  # the IDNA codec refuses the name (an empty or overlong label)
        raise WebhookUrlNotAllowed("the host name is not valid") from exc
    except OSError:
        return
    if any(_private(address) for address in addresses):
        raise WebhookUrlNotAllowed("private, loopback and link-local addresses are not allowed")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def _resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# -- Sending -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """One pooled HTTP client for every endpoint, with a timeout per request and a bound on the
    requests in flight: a slow receiver holds one slot for at most the timeout."""

    def __init__(self, *, timeout: float, concurrency: int, policy: UrlPolicy,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self._slots = asyncio.Semaphore(concurrency)
        # Redirects are not followed: a 3xx could point the platform at an internal address.
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, transport=transport,
                                         limits=httpx.Limits(max_connections=concurrency,
                                                             max_keepalive_connections=concurrency))

    async def send(self, url: str, secret: str, msg_id: str, body: str, at: datetime) -> Outcome:
        async with self._slots:
            started = time.monotonic()
            try:
                await check_url(url, self.policy)
                response = await self._client.post(url, content=body.encode(),
                                                   headers=signed_headers(secret, msg_id, body, at))
            except WebhookUrlNotAllowed as exc:
                return Outcome(None, exc.message[:ERROR_LIMIT], _ms(started))
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                return Outcome(None, f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT], _ms(started))
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
            return Outcome(response.status_code, error, _ms(started))

    async def close(self) -> None:
        await self._client.aclose()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
