"""Outbound webhooks: staff register endpoints, integration events fan out to deliveries,
and the delivery worker sends them (docs/webhooks.md).

- `WebhookEndpoints`: the admin's API (endpoints, the delivery log, replay), every write audited;
  an API key uses it too, for its own endpoints alone, subscribed to the events its roles may read
  (`domain.WEBHOOK_EVENT_ROLES`) of the storefronts it may touch.
- `WebhookFanOut`: one event → one delivery row per matching endpoint, unique on (event, endpoint),
  so a redelivered event adds none. Runs in identity's own worker consumer (`identity-worker`
  queue), never in the consumer that mails customers. That queue is bound only to the types some
  enabled endpoint wants (`wanted_routes` at start, `Routes.open` before an endpoint's write
  commits): with no endpoint, a checkout's public events cost identity no delivery at all.
- `DeliveryWorker`: an entry point (it opens its own transactions): claims due attempts, sends
  them outside any transaction with the pooled sender, records each outcome, retries on the
  schedule and, when it runs out, disables the endpoint and mails the admins.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit
from atelier_common.auth import ALL_STOREFRONTS, ROLE_ADMIN, Principal
from atelier_common.db import Database
from atelier_common.errors import InvalidToken
from atelier_common.events.envelope import Envelope, event_class
from atelier_common.loops import BackgroundLoop, woken_or_timed_out
from atelier_common.service import Runtime
from atelier_identity import domain, webhooks
from atelier_identity.context import IdentityContext
from atelier_identity.errors import (
    UnknownWebhookEvent,
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
    WebhookEventsNotAllowed,
    WebhooksForAdmins,
    WebhookStorefrontOutOfScope,
)
from atelier_identity.mail import Mail, webhook_disabled_mail
from atelier_identity.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from atelier_identity.repository.webhooks import (
    FAILED,
    PENDING,
    SUCCEEDED,
    ClaimedDelivery,
    WebhookDeliveryRepository,
    WebhookEndpointRepository,
)
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase

log = logging.getLogger("atelier.identity.webhooks")

# Fields a PATCH may change, and those the audit log shows (never the secret).
EDITABLE = ("url", "events", "storefront", "description", "enabled")


def _known_events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(webhooks.EVENT_TYPES))
    if unknown:
        raise UnknownWebhookEvent(unknown, list(webhooks.EVENT_TYPES))
    return sorted(set(events))


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {name: getattr(endpoint, name) for name in EDITABLE}


class WebhookEndpoints(IdentityUseCase):
    """`/api/v1/webhook-endpoints` and `/api/v1/webhook-deliveries` (admin)."""

    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.endpoints = WebhookEndpointRepository(session)
        self.deliveries = WebhookDeliveryRepository(session)

    @property
    def _policy(self) -> webhooks.UrlPolicy:
        return self.context.webhooks.policy

    async def _storefront(self, slug: str | None) -> str | None:
        if slug is not None:
            await self.context.storefronts.get(slug)  # an unknown one: STOREFRONT_NOT_FOUND
        return slug

    async def _owner(self, staff: Principal) -> ApiKey | None:
        """The API key calling (it sees and changes only its own endpoints), or None for an admin
        (every endpoint); a person without the admin role is refused."""
        key = await self.session.get(ApiKey, staff.user_id) if staff.user_id is not None else None
        if key is not None:
            # Its token outlived the key only where the revocation was not heard yet: refused here anyway.
            if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now()):
                raise InvalidToken("The API key is revoked or expired")
            return key
        if not staff.has_role(ROLE_ADMIN):
            raise WebhooksForAdmins()
        return None

    @staticmethod
    def _key_may(key: ApiKey | None, events: Sequence[str] | None, storefront: str | None) -> None:
        """A key's endpoint gets only the events its roles may read, of the storefronts it may touch."""
        if key is None:
            return
        if events is not None and (beyond := domain.webhook_events_beyond(key.roles, events)):
            raise WebhookEventsNotAllowed(beyond)
        if ALL_STOREFRONTS not in key.storefronts and storefront not in key.storefronts:
            raise WebhookStorefrontOutOfScope()

    async def create(self, staff: Principal, *, url: str, events: Sequence[str], storefront: str | None,
                     description: str | None) -> WebhookEndpoint:
        key = await self._owner(staff)
        events = _known_events(events)
        self._key_may(key, events, storefront)
        await webhooks.check_url(url, self._policy)
        endpoint = WebhookEndpoint(url=url, events=events, storefront=await self._storefront(storefront),
                                   description=description, secret=webhooks.new_secret(),
                                   owner_key_id=key.id if key is not None else None)
        await self.context.webhook_routes.open(endpoint.events)  # before the commit: no event missed
        self.endpoints.add(endpoint)
        await self.session.flush()
        await audit.record(self.session, staff, "webhook_endpoint.create", "webhook_endpoint", endpoint.id,
                           after=_audited(endpoint))
        return endpoint

    async def get(self, staff: Principal, endpoint_id: uuid.UUID) -> WebhookEndpoint:
        return await self._visible(await self._owner(staff), endpoint_id)

    async def _visible(self, key: ApiKey | None, endpoint_id: uuid.UUID) -> WebhookEndpoint:
        """The endpoint, if the caller sees it: a key, its own only (another's is not found)."""
        endpoint = await self.endpoints.get(endpoint_id)
        if endpoint is None or (key is not None and endpoint.owner_key_id != key.id):
            raise WebhookEndpointNotFound()
        return endpoint

    async def page(self, staff: Principal, *, limit: int, offset: int) -> tuple[int, Sequence[WebhookEndpoint]]:
        key = await self._owner(staff)
        return await self.endpoints.page(limit=limit, offset=offset, owner_key_id=key.id if key else None)

    async def update(self, staff: Principal, endpoint_id: uuid.UUID, changes: dict[str, Any]) -> WebhookEndpoint:
        key = await self._owner(staff)
        endpoint = await self._visible(key, endpoint_id)
        before = _audited(endpoint)
        if "events" in changes:
            changes["events"] = _known_events(changes["events"])
        self._key_may(key, changes.get("events"), changes.get("storefront", endpoint.storefront))
        if "url" in changes:
            await webhooks.check_url(changes["url"], self._policy)
        if "storefront" in changes:
            await self._storefront(changes["storefront"])
        for name in EDITABLE:
            if name in changes:
                setattr(endpoint, name, changes[name])
        if changes.get("enabled") is True:
            endpoint.disabled_reason = None
        if endpoint.enabled and ("events" in changes or "enabled" in changes):
            await self.context.webhook_routes.open(endpoint.events)  # before the commit: no event missed
        endpoint.updated_at = now()
        self.endpoints.add(endpoint)
        after = _audited(endpoint)
        if before != after:
            await audit.record(self.session, staff, "webhook_endpoint.update", "webhook_endpoint", endpoint.id,
                               before={k: v for k, v in before.items() if v != after[k]},
                               after={k: v for k, v in after.items() if v != before[k]})
        return endpoint

    async def delete(self, staff: Principal, endpoint_id: uuid.UUID) -> None:
        endpoint = await self.get(staff, endpoint_id)
        before = _audited(endpoint)
        await self.endpoints.delete(endpoint_id)
        await audit.record(self.session, staff, "webhook_endpoint.delete", "webhook_endpoint", endpoint_id,
                           before=before)

    async def deliveries_page(self, staff: Principal, endpoint_id: uuid.UUID, *, limit: int,
                              offset: int) -> tuple[int, list[tuple[WebhookDelivery, list[WebhookAttempt]]]]:
        await self.get(staff, endpoint_id)
        count, rows = await self.deliveries.page_for(endpoint_id, limit=limit, offset=offset)
        attempts = await self.deliveries.attempts_of([row.id for row in rows])
        return count, [(row, attempts.get(row.id, [])) for row in rows]

    async def replay(self, staff: Principal, delivery_id: uuid.UUID) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
        """Send a delivery again now (same `webhook-id`: a receiver that kept it sees a copy), with a
        fresh retry schedule. An endpoint that is disabled gets it once it is enabled again."""
        key = await self._owner(staff)
        delivery = await self.deliveries.get(delivery_id)
        if delivery is None:
            raise WebhookDeliveryNotFound()
        if key is not None:
            endpoint = await self.endpoints.get(delivery.endpoint_id)
            if endpoint is None or endpoint.owner_key_id != key.id:
                raise WebhookDeliveryNotFound()
        await self.deliveries.replay(delivery, now())
        await audit.record(self.session, staff, "webhook_delivery.replay", "webhook_delivery", delivery.id,
                           after={"endpoint_id": delivery.endpoint_id, "event_id": delivery.event_id})
        self.session.info[WAKE] = True
        attempts = await self.deliveries.attempts_of([delivery.id])
        return delivery, attempts.get(delivery.id, [])


async def wanted_routes(runtime: Runtime) -> set[str]:
    """The fan-out's bindings at start: every type an enabled endpoint wants (more are opened as
    endpoints are written)."""
    async with runtime.db.read_only() as session:
        return await WebhookEndpointRepository(session).wanted_types()


# Set on a session whose commit made attempts due: the worker in this process looks at once.
WAKE = "webhooks_due"


def wanted(endpoint: WebhookEndpoint, event_type: str, storefront: str | None) -> bool:
    """Whether `endpoint` hears an event of `event_type` on `storefront` (None: not a storefront's)."""
    return (endpoint.enabled and event_type in endpoint.events
            and (endpoint.storefront is None or endpoint.storefront == storefront))


def _as_contract(envelope: Envelope) -> dict[str, Any]:
    """The event's `data` as its contract reads it, in the contract's names: an event written
    before a rename (a return's `lines`) goes out as receivers are told it looks."""
    contract = event_class(envelope.type, envelope.version)
    if contract is None:
        return envelope.data
    dumped: dict[str, Any] = contract.model_validate(envelope.data).model_dump(mode="json")
    return dumped


class WebhookFanOut(IdentityUseCase):
    async def fan_out(self, envelope: Envelope) -> int:
        """One pending delivery per endpoint that wants this event; returns how many are new."""
        storefront = envelope.data.get("storefront")
        endpoints = [e for e in await WebhookEndpointRepository(self.session).listening(now())
                     if wanted(e, envelope.type, storefront if isinstance(storefront, str) else None)]
        if not endpoints:
            return 0
        body = webhooks.payload(envelope.type, envelope.occurred_at, _as_contract(envelope))
        at = now()
        added = await WebhookDeliveryRepository(self.session).add_once([{
            "id": uuid.uuid4(), "endpoint_id": e.id, "event_id": envelope.id, "event_type": envelope.type,
            "message_id": webhooks.message_id(envelope.id, e.id), "payload": body, "status": PENDING,
            "attempts": 0, "next_attempt_at": at, "created_at": at} for e in endpoints])
        if added:
            self.session.info[WAKE] = True
        return added


@dataclass(frozen=True)
class Recorded:
    delivery_id: uuid.UUID
    status: str


def _log_delivered(item: ClaimedDelivery, attempts: int, status_code: int | None) -> None:
    """The business line of a delivered webhook: its id, event and storefront (docs/operations.md)."""
    try:
        body = json.loads(item.payload)
        event_type, storefront = str(body.get("type")), str((body.get("data") or {}).get("storefront") or "")
    except (ValueError, AttributeError):  # the body is ours, yet a log line never breaks a delivery
        event_type, storefront = "?", ""
    log.info("webhook %s delivered: %s to %s on storefront %s (attempt %s, HTTP %s)", item.message_id, event_type,
             item.url, storefront or "-", attempts, status_code,
             extra={"fields": {"webhook_id": item.message_id, "delivery_id": str(item.id), "event_type": event_type,
                               "endpoint_id": str(item.endpoint_id), "storefront": storefront, "attempt": attempts}})


class DeliveryWorker:
    """The delivery loop of the `worker` role (every role in the embedded mode).

    Each claimed attempt runs in its own task and nothing waits for a batch: an endpoint whose
    receiver is slow or failing holds only its own attempts (`webhooks.start_now` bounds them per
    endpoint), while every other endpoint's are claimed and sent as they fall due. An attempt ends
    by its deadline, counted from its claim, so before its lease ends."""

    def __init__(self, db: Database, context: IdentityContext) -> None:
        self.db = db
        self.context = context
        self.settings = context.settings
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._in_flight: Counter[uuid.UUID] = Counter()
        self._attempts: set[asyncio.Task[Recorded | None]] = set()
        self._loop = BackgroundLoop("webhook deliveries")
        db.on_session_commit(self._committed)

    async def _committed(self, info: dict[str, object]) -> None:
        if info.pop(WAKE, False):
            self._wake.set()

    async def start(self) -> None:
        self._loop.start(self._run())

    async def stop(self) -> None:
        await self._loop.stop()
        # The attempts under way are cancelled between two database steps, never inside one; one
        # not recorded is due again when its lease ends (at least once).
        async with self._loop.step():
            for task in self._attempts:
                task.cancel()
            await asyncio.gather(*self._attempts, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await woken_or_timed_out(self._wake, self.settings.outbound_webhooks_poll_seconds)
            try:
                while await self.start_due():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhook deliveries could not run (%s); will retry", exc)

    async def flush(self) -> list[Recorded]:
        """Start the due attempts there is room for and wait for them; return what each became."""
        return [r for r in await asyncio.gather(*await self.start_due()) if r is not None]

    async def start_due(self) -> list[asyncio.Task[Recorded | None]]:
        """Claim the due attempts there is room for and start each in its own task (not awaited)."""
        settings = self.settings
        async with self._claiming:
            at = now()
            # Taken before the lease is written: the attempt ends before its claim does.
            deadline = asyncio.get_running_loop().time() + settings.outbound_webhooks_deadline_seconds
            in_flight = dict(self._in_flight)
            async with self._loop.step(), self.db.transaction() as session:
                repository = WebhookDeliveryRepository(session)
                due = await repository.due(at, per_endpoint=settings.outbound_webhooks_endpoint_concurrency,
                                           in_flight=in_flight)
                chosen = webhooks.start_now(due, in_flight, per_endpoint=settings.outbound_webhooks_endpoint_concurrency,
                                            concurrency=settings.outbound_webhooks_concurrency)
                claimed = await repository.lease(
                    chosen, at, at + timedelta(seconds=settings.outbound_webhooks_lease_seconds))
            started = []
            for item in claimed:
                self._in_flight[item.endpoint_id] += 1
                task = asyncio.create_task(self._attempt(item, deadline), name=f"webhook {item.message_id}")
                self._attempts.add(task)
                task.add_done_callback(functools.partial(self._ended, item.endpoint_id))
                started.append(task)
            return started

    def _ended(self, endpoint_id: uuid.UUID, task: asyncio.Task[Recorded | None]) -> None:
        self._attempts.discard(task)
        self._in_flight[endpoint_id] -= 1
        if self._in_flight[endpoint_id] <= 0:
            del self._in_flight[endpoint_id]
        self._wake.set()  # room for the endpoint's next attempt

    async def _attempt(self, item: ClaimedDelivery, deadline: float) -> Recorded | None:
        try:
            return await self._send_and_record(item, deadline)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("webhook %s to %s could not be recorded (%s); due again after its lease",
                        item.message_id, item.url, exc)
            return None

    async def _send_and_record(self, item: ClaimedDelivery, deadline: float) -> Recorded | None:
        sent_at = datetime.now(UTC)
        outcome = await self.context.webhooks.send(item.url, item.secret, item.message_id, item.payload, sent_at,
                                                   deadline=deadline)
        attempts = item.attempts + 1
        if outcome.succeeded:
            status, next_at = SUCCEEDED, None
        else:
            delay = webhooks.retry_delay(self.settings.outbound_webhooks_retry_schedule_seconds, attempts)
            status, next_at = (FAILED, None) if delay is None else (PENDING, sent_at + delay)
        async with self._loop.step(), self.db.transaction() as session:
            recorded = await WebhookDeliveryRepository(session).record(
                item, at=sent_at, status=status, next_attempt_at=next_at, status_code=outcome.status_code,
                error=outcome.error, duration_ms=outcome.duration_ms)
            if recorded and status == FAILED:
                await self._disable(session, item, attempts, outcome.error)
        if not recorded:
            return None
        if status == SUCCEEDED:
            _log_delivered(item, attempts, outcome.status_code)
        else:
            log.info("webhook %s to %s failed (attempt %s): %s", item.message_id, item.url, attempts, outcome.error)
        return Recorded(item.id, status)

    async def _disable(self, session: AsyncSession, item: ClaimedDelivery, attempts: int, error: str | None) -> None:
        """Retries ran out: the endpoint stops getting deliveries until staff enable it again, and
        every admin hears of it (once: only the call that disabled it mails)."""
        reason = f"{attempts} attempts of delivery {item.id} failed; the last: {error or 'unknown'}"
        repository = WebhookEndpointRepository(session)
        endpoint = await repository.disable(item.endpoint_id, reason, now())
        if endpoint is None:
            return
        log.warning("webhook endpoint %s (%s) disabled: %s", endpoint.id, endpoint.url, reason)
        storefront = self.context.storefronts.default
        for email in await repository.admin_emails():
            mail: Mail = webhook_disabled_mail(to=email, url=endpoint.url, endpoint_id=str(endpoint.id), reason=reason)
            await self.context.mailer.queue(session, mail, storefront)
