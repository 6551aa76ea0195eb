"""The in-process bus of the embedded mode and the service tests.

Same contract as RabbitMQ: one queue per consumer, at-least-once delivery, retries with back-off,
then a dead-letter list; nothing is dropped silently.

Each consumer task is a `BackgroundLoop` and each delivery one of its steps, so `stop()` stops
the consumers between two deliveries, never inside a handler's transaction (see `loops`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field

from atelier_common import metrics
from atelier_common.events.bus import Handler
from atelier_common.events.deadletters import DeadLetter, error_text
from atelier_common.events.envelope import Envelope
from atelier_common.loops import STOP_TIMEOUT_SECONDS, BackgroundLoop
from atelier_common.telemetry import consume_span, publish_span

log = logging.getLogger("atelier.bus.memory")


@dataclass
class _Consumer:
    name: str
    types: set[str]
    handlers: list[Handler]
    # Oldest first. Not an asyncio.Queue: that hands an event out before the worker is inside its
    # step, and a stop waiting for the step would then cancel the worker with the event in hand.
    queue: deque[tuple[Envelope, int]] = field(default_factory=deque)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    workers: list[BackgroundLoop] = field(default_factory=list)

    def put(self, env: Envelope, attempt: int) -> None:
        self.queue.append((env, attempt))
        self.arrived.set()


class InMemoryBus:
    def __init__(self, *, max_retries: int = 5, retry_delay: float = 0.05, concurrency: int = 1,
                 stop_timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.concurrency = concurrency
        self.stop_timeout = stop_timeout
        self.dead_letters: list[DeadLetter] = []
        self._consumers: dict[str, _Consumer] = {}
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._drain_sources: list[Callable[[], Awaitable[int]]] = []
        self._started = False
        # Published before start(): routed at start, once every consumer of the process has
        # subscribed (the embedded mode starts services one by one and the bus last; a broker
        # queue would have been declared already, so nothing published early may be lost).
        self._early: list[Envelope] = []

    def subscribe(self, consumer: str, types: Iterable[str], handler: Handler, *,
                  broadcast: bool = False) -> None:
        entry = self._consumers.setdefault(consumer if not broadcast else f"{consumer}#{id(handler)}",
                                           _Consumer(name=consumer, types=set(), handlers=[]))
        entry.types.update(types)
        entry.handlers.append(handler)
        if self._started:
            self._spawn(entry)

    async def bind(self, consumer: str, types: Iterable[str]) -> None:
        # As a broker does: the queue exists (and keeps what it is sent) before its consumer runs.
        self._consumers.setdefault(consumer, _Consumer(name=consumer, types=set(), handlers=[])).types.update(types)

    def add_drain_source(self, flush: Callable[[], Awaitable[int]]) -> None:
        """Outbox relays register here so that `drain()` also waits for unsent rows."""
        self._drain_sources.append(flush)

    async def start(self) -> None:
        self._started = True
        for entry in self._consumers.values():
            if not entry.workers:
                self._spawn(entry)
        early, self._early = self._early, []
        for env in early:
            self._route(env)

    def _spawn(self, entry: _Consumer) -> None:
        for _ in range(self.concurrency):
            worker = BackgroundLoop(f"bus consumer {entry.name}", stop_timeout=self.stop_timeout)
            worker.start(self._work(entry, worker))
            entry.workers.append(worker)

    async def stop(self) -> None:
        """Each consumer finishes the delivery under way (at most `stop_timeout`); events still
        queued wait for the next `start()`."""
        self._started = False
        # All at once: a stop waits for one stop_timeout at most, not one per consumer.
        await asyncio.gather(*(worker.stop() for entry in self._consumers.values() for worker in entry.workers))
        for entry in self._consumers.values():
            entry.workers.clear()

    async def ready(self) -> bool:
        return True

    async def publish(self, envelopes: list[Envelope]) -> None:
        for env in envelopes:
            # The PRODUCER span's context replaces the outbox's in the delivered copy, as the
            # message headers do on RabbitMQ.
            with publish_span(env, system="memory", destination="atelier.events") as headers:
                env = env.model_copy(update={"traceparent": headers.get("traceparent", env.traceparent)})
            self._accept(env)

    def _accept(self, env: Envelope) -> None:
        """Take one published event (the test kit's `RecordingBus` also keeps it)."""
        if self._started:
            self._route(env)
        else:
            self._early.append(env)

    def _route(self, env: Envelope) -> None:
        for entry in self._consumers.values():
            if env.type in entry.types:
                self._enqueue(entry, env, 0)

    def _enqueue(self, entry: _Consumer, env: Envelope, attempt: int) -> None:
        self._outstanding += 1
        self._idle.clear()
        entry.put(env, attempt)

    def _done(self) -> None:
        self._outstanding -= 1
        if self._outstanding == 0:
            self._idle.set()

    async def _work(self, entry: _Consumer, worker: BackgroundLoop) -> None:
        while True:
            if not entry.queue:
                entry.arrived.clear()
                await entry.arrived.wait()
                continue
            async with worker.step():
                if entry.queue:  # else a sibling worker took it
                    env, attempt = entry.queue.popleft()
                    await self._deliver(entry, env, attempt)

    async def _deliver(self, entry: _Consumer, env: Envelope, attempt: int) -> None:
        try:
            with consume_span(env, None, system="memory", destination=entry.name, consumer=entry.name):
                for handler in entry.handlers:
                    await handler(env)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed handler is retried, never acked silently
            if attempt < self.max_retries:
                log.warning("handler failed for %s (attempt %s): %s", env.type, attempt + 1, exc)
                metrics.EVENTS_RETRIED.labels(entry.name).inc()
                self._outstanding += 1
                asyncio.get_running_loop().call_later(
                    self.retry_delay * 2**attempt, self._retry, entry, env, attempt + 1)
            else:
                log.error("dead-lettering %s %s: %s", env.type, env.id, exc)
                metrics.EVENTS_DEAD_LETTERED.labels(entry.name).inc()
                self.dead_letters.append(DeadLetter(
                    consumer=entry.name, id=str(env.id), type=env.type, retries=attempt, error=error_text(exc),
                    envelope=env.model_dump(mode="json")))
        finally:
            self._done()

    def _retry(self, entry: _Consumer, env: Envelope, attempt: int) -> None:
        entry.put(env, attempt)

    async def queue_depths(self) -> dict[str, dict[str, int]]:
        """Events waiting per consumer, and its dead letters."""
        out: dict[str, dict[str, int]] = {}
        for entry in self._consumers.values():
            depths = out.setdefault(entry.name, {"main": 0, "dlq": 0})
            depths["main"] += len(entry.queue)
        for letter in self.dead_letters:
            out.setdefault(letter.consumer, {"main": 0, "dlq": 0})["dlq"] += 1
        return out

    # Dead letters (`deadletters.DeadLetterQueues`).

    async def count_dead_letters(self, consumers: Iterable[str]) -> dict[str, int]:
        wanted = set(consumers)
        known = {entry.name for entry in self._consumers.values()} & wanted
        counts = dict.fromkeys(sorted(known), 0)
        for letter in self.dead_letters:
            if letter.consumer in wanted:
                counts[letter.consumer] = counts.get(letter.consumer, 0) + 1
        return counts

    async def list_dead_letters(self, consumer: str, *, limit: int) -> list[DeadLetter]:
        return [letter for letter in self.dead_letters if letter.consumer == consumer][:limit]

    def _take_dead_letters(self, consumer: str, ids: Collection[str] | None) -> list[DeadLetter]:
        taken = [d for d in self.dead_letters if d.consumer == consumer and (ids is None or d.id in ids)]
        self.dead_letters = [d for d in self.dead_letters if d not in taken]
        return taken

    async def replay_dead_letters(self, consumer: str, ids: Collection[str] | None) -> int:
        entry = next((e for e in self._consumers.values() if e.name == consumer), None)
        if entry is None:
            return 0
        taken = self._take_dead_letters(consumer, ids)
        for letter in taken:
            assert letter.envelope is not None  # in memory every dead letter is a readable envelope
            self._enqueue(entry, Envelope.model_validate(letter.envelope), 0)
        return len(taken)

    async def drop_dead_letters(self, consumer: str, ids: Collection[str] | None) -> int:
        return len(self._take_dead_letters(consumer, ids))

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every outbox is sent and every delivered event is handled (tests, CLI)."""
        async with asyncio.timeout(timeout):
            while True:
                sent = 0
                for flush in self._drain_sources:
                    sent += await flush()
                await self._idle.wait()
                if sent == 0:
                    # a handler may have written new outbox rows: check once more
                    if sum([await flush() for flush in self._drain_sources]) == 0:
                        await self._idle.wait()
                        return
