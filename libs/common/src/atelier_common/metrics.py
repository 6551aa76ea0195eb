"""Prometheus metrics of every process (`/metrics`): requests, events, outbox, queues, housekeeping.

Counters and histograms are updated where things happen (the access-log middleware, the bus);
gauges that need a query (outbox backlog and age, queue and dead-letter depths) are refreshed at
scrape time by the callbacks the running services register (`register_refresh`).

A process serving several uvicorn workers needs prometheus-client's multiprocess mode
(`PROMETHEUS_MULTIPROC_DIR`); the default topology runs one worker per API process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("atelier.metrics")
CONTENT_TYPE = CONTENT_TYPE_LATEST

# `storefront`: the slug the gateway resolved (docs/storefronts.md); empty for a call that did not
# come through it (probes, another service's /internal call).
HTTP_REQUESTS = Counter("atelier_http_requests", "HTTP requests answered",
                        ["service", "method", "route", "status", "storefront"])
HTTP_DURATION = Histogram("atelier_http_request_duration_seconds", "Time to answer an HTTP request",
                          ["service", "method", "route"],
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS_PUBLISHED = Counter("atelier_events_published", "Events handed to the bus", ["producer", "type"])
EVENTS_HANDLED = Counter("atelier_events_handled", "Event deliveries handled, by outcome (ok, error)",
                         ["consumer", "type", "outcome"])
EVENTS_DUPLICATE = Counter("atelier_events_duplicate", "Redelivered events the inbox skipped",
                           ["consumer", "type"])
EVENTS_IGNORED = Counter("atelier_events_ignored", "Deliveries a consumer's rule says it does not act on",
                         ["consumer", "type"])
EVENTS_RETRIED = Counter("atelier_events_retried", "Failed deliveries sent to the retry queue", ["consumer"])
EVENTS_DEAD_LETTERED = Counter("atelier_events_dead_lettered", "Deliveries sent to the dead-letter queue",
                               ["consumer"])
EVENT_HANDLE_SECONDS = Histogram("atelier_event_handle_seconds", "Time a handler took", ["consumer", "type"])
EVENT_LAG = Histogram("atelier_event_lag_seconds", "From the event's occurrence to its handling (consumer lag)",
                      ["consumer"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600))
DB_CONNECTIONS_DROPPED = Counter("atelier_db_connections_dropped", "Pooled PostgreSQL connections found closed "
                                 "by the server at checkout and replaced (a restart, a failover)", ["service"])
BROKER_CONNECTIONS = Counter("atelier_broker_connections", "Connections made to a RabbitMQ broker, the first and "
                             "every reconnect (a node lost: another broker of ATELIER_AMQP_URL)", ["broker"])
OUTBOX_BACKLOG = Gauge("atelier_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge("atelier_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row",
                          ["service"])
QUEUE_MESSAGES = Gauge("atelier_queue_messages", "Messages waiting in a consumer's queue (consumer lag)",
                       ["consumer", "queue"])
DLQ_MESSAGES = Gauge("atelier_dlq_messages", "Messages in a consumer's dead-letter queue", ["consumer"])
HOUSEKEEPING_ROWS = Counter("atelier_housekeeping_rows_deleted", "Rows past retention that housekeeping deleted",
                            ["service", "sweep"])
HOUSEKEEPING_PASSES = Counter("atelier_housekeeping_passes", "Housekeeping passes, by outcome (ok, error)",
                              ["service", "outcome"])
HOUSEKEEPING_LAST_SUCCESS = Gauge("atelier_housekeeping_last_success_timestamp_seconds",
                                  "When the last housekeeping pass without a failed sweep ended", ["service"])

_WHEN_COMMITTED = "metrics_when_committed"


def when_committed(session: AsyncSession, counter: Counter, amount: float = 1, **labels: str) -> None:
    """Add `amount` to `counter` once (and if) `session`'s transaction commits: a business figure
    (orders placed, revenue) never counts what a rollback took back. Every service process
    registers `count_committed` (`service.Runtime`)."""
    session.info.setdefault(_WHEN_COMMITTED, []).append((counter, amount, labels))


async def count_committed(info: dict[str, Any]) -> None:
    """`Database.on_session_commit` hook: count what the committed transaction noted."""
    for counter, amount, labels in info.pop(_WHEN_COMMITTED, ()):
        counter.labels(**labels).inc(amount)


Refresh = Callable[[], Awaitable[None]]
_refreshers: list[Refresh] = []


def register_refresh(refresh: Refresh) -> Callable[[], None]:
    """Run `refresh` before each scrape; returns the function that unregisters it."""
    _refreshers.append(refresh)

    def unregister() -> None:
        if refresh in _refreshers:
            _refreshers.remove(refresh)

    return unregister


async def render(timeout: float = 3.0) -> bytes:
    """The Prometheus text of this process, gauges refreshed first (a failed refresh keeps the
    last values and is logged: a scrape never fails because the database is slow)."""
    for refresh in list(_refreshers):
        try:
            await asyncio.wait_for(refresh(), timeout)
        except Exception as exc:
            log.warning("metrics refresh failed: %s", exc)
    return generate_latest(REGISTRY)
