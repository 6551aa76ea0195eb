"""The RabbitMQ bus (aio-pika) of the distributed mode.

Topology: the durable topic exchange `atelier.events` (a setting); per consumer service the durable queue
`<service>.events` bound to the types it handles, one retry queue per back-off tier,
`<service>.events.retry.<delay>ms` (a queue-level TTL of that delay, then dead-lettered back to the
main queue), and `<service>.events.dlq`. A broadcast subscription (every instance its own copy)
has a queue per process, `<consumer>.events.<random>`, that outlives a lost connection and
expires once unused (`BROADCAST_QUEUE_EXPIRES_MS`). A queue expires messages only at its head, so one queue per
delay keeps a long wait from holding back the shorter ones behind it, which a single queue with
per-message TTLs did. (Brokers that ran the single `<service>.events.retry` queue keep it: its
messages still dead-letter back as they expire; delete it once it is empty. See docs/operations.md, Dead letters.)
Messages are persistent and published with confirms. A failed handler never acks silently:
the message goes to the retry queue with back-off, after `max_retries` to the DLQ. A stop lets
the deliveries under way finish and ack, as the in-memory bus does.

A cluster: `url` names every node (a list, or a comma-separated string). The bus connects to the
first that answers; when that connection is lost (its node died) it connects to the next one of
the list and sets everything up again there: exchange, queues, bindings, consumers. What was under
way goes back to the queues (unacked deliveries are redelivered, to this process or another; the
inbox applies each event once) or stays in the outbox (an unconfirmed publish is published again).
Queues are declared with `queue_type` (`quorum` on a cluster: replicated, a new leader elected
within seconds of a node's loss) — the broadcast queues too, so that what a process has not heard
yet survives the node it was on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue, FieldValue
from aio_pika.exceptions import ChannelClosed, DeliveryError

from atelier_common import metrics
from atelier_common.events.bus import Handler
from atelier_common.events.deadletters import ERROR_HEADER, DeadLetter, error_text
from atelier_common.events.envelope import Envelope
from atelier_common.loops import STOP_TIMEOUT_SECONDS
from atelier_common.settings import amqp_urls
from atelier_common.telemetry import consume_span, publish_span

log = logging.getLogger("atelier.bus.rabbitmq")

RETRY_HEADER = "x-atelier-retries"
# A broadcast subscription's queue (one per process: the denylists, the JWKS caches, the storefront
# copies) outlives a lost connection, so that what was published meanwhile (a revocation) waits for
# the reconnect instead of being routed nowhere; the broker deletes it once it has had no consumer
# this long (a process that died), longer than any access token lives.
BROADCAST_QUEUE_EXPIRES_MS = 60 * 60 * 1000
# Setting up on a broker that accepted the connection (exchange, queues, consumers) takes
# milliseconds; one that cannot serve (a node cut off from its cluster) is left for the next.
SET_UP_TIMEOUT_SECONDS = 30.0
# The wait before trying the list of brokers again once none answered, then the same as the last:
# a process cut off hears what it owes (a revocation) within a second of the broker's return.
RECONNECT_DELAYS_SECONDS = (0.5, 1.0)
# The longest a batch's publish waits for the broker's confirms.
PUBLISH_TIMEOUT_SECONDS = 10.0


def retry_delays_ms(max_retries: int, retry_delay_ms: int) -> list[int]:
    """The back-off of each retry: `retry_delay_ms` doubling, one tier per retry."""
    return [retry_delay_ms * 2**attempt for attempt in range(max(max_retries, 0))]


def consumer_queues(queue_prefix: str, consumer: str, *, max_retries: int, retry_delay_ms: int) -> list[str]:
    """Every queue a consumer's topology declares: the main queue, its retry tiers and its DLQ."""
    main = f"{queue_prefix}{consumer}.events"
    return [main, *(f"{main}.retry.{delay}ms" for delay in retry_delays_ms(max_retries, retry_delay_ms)),
            f"{main}.dlq"]


@dataclass
class _Subscription:
    consumer: str
    types: set[str]
    handler: Handler
    broadcast: bool
    # A broadcast subscription's own queue, named at its first declaration and declared again on
    # every reconnect: what was published meanwhile waits there.
    queue: str | None = None


def shown(url: str) -> str:
    """A broker's URL as logs and metrics show it: host and port, never the credentials."""
    parsed = urllib.parse.urlsplit(url)
    return f"{parsed.hostname}:{parsed.port or (5671 if parsed.scheme == 'amqps' else 5672)}"


class RabbitMQBus:
    def __init__(self, url: str | Sequence[str], *, prefetch: int = 32, max_retries: int = 5,
                 retry_delay_ms: int = 500, queue_type: str = "classic", connect_timeout: float = 5.0,
                 exchange: str = "atelier.events", queue_prefix: str = "",
                 stop_timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """`url`: a broker, or a cluster's nodes (a list, or one string of comma-separated URLs)."""
        self.urls = amqp_urls(url) if isinstance(url, str) else list(url)
        if not self.urls:
            raise ValueError("no broker URL")
        self._at = 0  # the broker in use, or the next one to try
        self.exchange_name = exchange
        self.queue_prefix = queue_prefix
        self.prefetch = prefetch
        self.max_retries = max_retries
        self.retry_delay_ms = retry_delay_ms
        self.queue_type = queue_type
        self.connect_timeout = connect_timeout
        self.stop_timeout = stop_timeout
        self._subs: list[_Subscription] = []
        self._consuming: list[tuple[AbstractQueue, str]] = []  # (queue, consumer tag)
        self._broadcast_queues: list[AbstractQueue] = []  # this process's own: deleted at a clean stop
        # Deliveries whose handler is running: a stop waits for them (at most stop_timeout).
        self._handling = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._conn: AbstractConnection | None = None
        self._pub_channel: AbstractChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._on_lost: Callable[..., None] | None = None  # the connection's: set up again
        self._renewing = asyncio.Lock()
        self._connected = asyncio.Event()
        self._connector: asyncio.Task[None] | None = None
        self._stopping = False  # a cancellation lost inside a library call still ends the loop

    @property
    def url(self) -> str:
        """The broker in use (or the next one to try)."""
        return self.urls[self._at]

    def subscribe(self, consumer: str, types: Iterable[str], handler: Handler, *,
                  broadcast: bool = False) -> None:
        self._subs.append(_Subscription(consumer, set(types), handler, broadcast))

    async def start(self) -> None:
        """Connect in the background: a broker that is down delays events, it does not stop us."""
        self._connector = asyncio.create_task(self._stay_connected())
        try:
            await asyncio.wait_for(asyncio.shield(self._connected.wait()), self.connect_timeout)
        except TimeoutError:
            log.warning("RabbitMQ not reachable yet at start; retrying in the background")

    async def _open(self) -> AbstractConnection:
        """A connection to the first broker that answers, from the current one on through the list
        (each tried once per round), then round after round with a growing pause."""
        for round_ in range(1_000_000):
            for _ in self.urls:
                try:
                    return await aio_pika.connect(self.url, timeout=self.connect_timeout)
                except Exception as exc:
                    log.warning("RabbitMQ at %s: connect failed (%s)", shown(self.url), exc)
                    self._at = (self._at + 1) % len(self.urls)
            await asyncio.sleep(RECONNECT_DELAYS_SECONDS[min(round_, len(RECONNECT_DELAYS_SECONDS) - 1)])
        raise ConnectionError("no broker answered")  # pragma: no cover - a million rounds

    async def _stay_connected(self) -> None:
        """Connect, set everything up, and when the connection is lost (or a channel this bus relies
        on closes) do it again on the next broker of the list. Not the client library's own
        reconnection (connect_robust): it retries the one URL it was given, and restores each queue
        as it was declared, which a queue whose node died refuses."""
        failures = 0
        while not self._stopping:
            conn = await self._open()
            if self._stopping:
                await self._drop(conn)
                return
            lost: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

            def on_lost(_sender: object, exc: BaseException | None = None, lost: asyncio.Future[
                    BaseException | None] = lost, conn: AbstractConnection = conn) -> None:
                if not lost.done():
                    lost.set_result(exc)
                    if self._conn is conn:  # not ready from now: a publish failing now waits for the reconnect
                        self._connected.clear()

            conn.close_callbacks.add(on_lost)
            try:
                async with asyncio.timeout(SET_UP_TIMEOUT_SECONDS):
                    await self._set_up(conn, on_lost)
            except Exception as exc:
                failures += 1
                log.warning("RabbitMQ at %s: setting up failed (%r); trying the next broker", shown(self.url), exc)
                await self._drop(conn)
                self._at = (self._at + 1) % len(self.urls)
                await asyncio.sleep(RECONNECT_DELAYS_SECONDS[min(failures, len(RECONNECT_DELAYS_SECONDS)) - 1])
                continue
            failures = 0
            metrics.BROKER_CONNECTIONS.labels(shown(self.url)).inc()
            log.info("connected to RabbitMQ at %s", shown(self.url))
            self._connected.set()
            reason = await lost
            self._connected.clear()
            log.warning("RabbitMQ at %s: connection lost (%s); reconnecting", shown(self.url), reason)
            self._consuming.clear()
            self._broadcast_queues.clear()
            self._pub_channel, self._exchange = None, None
            await self._drop(conn)
            # Its node is likely gone: the others first.
            self._at = (self._at + 1) % len(self.urls)

    async def _set_up(self, conn: AbstractConnection, on_lost: Callable[..., None]) -> None:
        self._conn = conn
        self._on_lost = on_lost
        self._pub_channel = await conn.channel(publisher_confirms=True)
        # A channel the broker closed (an error on it) would leave this bus deaf or mute while the
        # connection lives on: the whole connection is set up again instead.
        self._pub_channel.close_callbacks.add(on_lost)
        self._exchange = await self._pub_channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        for sub in self._subs:
            await self._consume(conn, sub, on_lost)

    async def _drop(self, conn: AbstractConnection) -> None:
        # `asyncio.timeout`, not `wait_for`: Python 3.11's wait_for can swallow a cancellation that
        # arrives as the close completes, and a stop then never ended (the loop went on connecting).
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await conn.close()

    def _queue_arguments(self) -> dict[str, FieldValue]:
        return {"x-queue-type": self.queue_type} if self.queue_type != "classic" else {}

    async def _consume(self, conn: AbstractConnection, sub: _Subscription,
                       on_lost: Callable[..., None]) -> None:
        channel = await conn.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        if sub.broadcast:
            queue, channel = await self._declare_broadcast_queue(conn, channel, sub)
            for type_ in sorted(sub.types):
                await queue.bind(self.exchange_name, routing_key=type_)
            self._broadcast_queues.append(queue)
        else:
            queue = await self._declare_consumer_queue(channel, exchange, sub.consumer, sub.types)
        name = queue.name
        channel.close_callbacks.add(on_lost)

        async def on_message(message: AbstractIncomingMessage) -> None:
            self._handling += 1
            self._idle.clear()
            try:
                await self._deliver(channel, name, sub, message)
            except Exception as exc:  # the handler ran; its ack (or its forward) went down with the link
                log.warning("%s: a delivery could not be settled (%s); the broker delivers it again", name, exc)
            finally:
                self._handling -= 1
                if not self._handling:
                    self._idle.set()

        self._consuming.append((queue, await queue.consume(on_message)))

    async def _declare_broadcast_queue(self, conn: AbstractConnection, channel: AbstractChannel,
                                       sub: _Subscription) -> tuple[AbstractQueue, AbstractChannel]:
        """The subscription's own queue, declared again after a reconnect; one whose node is gone
        (a classic queue lives on one node) gives way to a new one, which hears what comes next."""
        # Not exclusive: an exclusive queue dies with its connection, and an event published
        # before the reconnect declared it again was lost (a revoked token kept working).
        arguments: dict[str, FieldValue] = {**self._queue_arguments(), "x-expires": BROADCAST_QUEUE_EXPIRES_MS}
        if sub.queue is not None:
            try:
                return await channel.declare_queue(sub.queue, durable=True, arguments=arguments), channel
            except ChannelClosed as exc:  # the failed declare closed the channel
                log.warning("broadcast queue %s is unavailable (%s); declaring a new one", sub.queue, exc)
                channel = await conn.channel()
                await channel.set_qos(prefetch_count=self.prefetch)
        sub.queue = f"{self.queue_prefix}{sub.consumer}.events.{uuid.uuid4().hex[:12]}"
        return await channel.declare_queue(sub.queue, durable=True, arguments=arguments), channel

    async def _declare_consumer_queue(self, channel: aio_pika.abc.AbstractChannel,
                                      exchange: aio_pika.abc.AbstractExchange, consumer: str,
                                      types: Iterable[str]) -> aio_pika.abc.AbstractQueue:
        name = f"{self.queue_prefix}{consumer}.events"
        args = self._queue_arguments()
        queue = await channel.declare_queue(name, durable=True, arguments=args)
        await channel.declare_queue(f"{name}.dlq", durable=True, arguments=args)
        for delay in retry_delays_ms(self.max_retries, self.retry_delay_ms):
            await channel.declare_queue(self._retry_queue(name, delay), durable=True, arguments={
                **args, "x-message-ttl": delay, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": name})
        for type_ in sorted(types):
            await queue.bind(exchange, routing_key=type_)
        return queue

    async def bind(self, consumer: str, types: Iterable[str]) -> None:
        if not self._link_up() or self._conn is None:
            raise ConnectionError("RabbitMQ is not connected")
        # A channel of its own: a failed declare closes the channel it ran on.
        async with self._conn.channel() as channel:
            exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
            await self._declare_consumer_queue(channel, exchange, consumer, types)

    @staticmethod
    def _retry_queue(queue: str, delay_ms: int) -> str:
        return f"{queue}.retry.{delay_ms}ms"

    def queue_names(self, consumer: str) -> list[str]:
        return consumer_queues(self.queue_prefix, consumer, max_retries=self.max_retries,
                               retry_delay_ms=self.retry_delay_ms)

    async def declare_topology(self, consumers: Mapping[str, Iterable[str]]) -> None:
        """Declare the exchange and every consumer queue with its bindings, without consuming.

        Run before any producer starts (`atelier migrate`), so that an event published while a
        consumer process is still starting waits in its queue instead of being unroutable.
        """
        conn = await self._open_once()
        async with conn:
            channel = await conn.channel()
            exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
            for consumer, types in consumers.items():
                await self._declare_consumer_queue(channel, exchange, consumer, types)

    async def _open_once(self) -> AbstractConnection:
        """A connection to the first broker of the list that answers; the last failure if none does."""
        for _ in range(len(self.urls) - 1):
            try:
                return await aio_pika.connect(self.url, timeout=self.connect_timeout)
            except Exception as exc:
                log.warning("RabbitMQ at %s: connect failed (%s)", shown(self.url), exc)
                self._at = (self._at + 1) % len(self.urls)
        return await aio_pika.connect(self.url, timeout=self.connect_timeout)

    async def _deliver(self, channel: aio_pika.abc.AbstractChannel, queue: str, sub: _Subscription,
                       message: AbstractIncomingMessage) -> None:
        try:
            env = Envelope.from_bytes(message.body)
        except Exception:
            log.error("unreadable message on %s; dead-lettering", queue)
            await self._forward(channel, f"{queue}.dlq", message, 0, sub.broadcast, error="unreadable message")
            await message.ack()
            return
        try:
            # The trace continues from the publish span, itself a child of the request that wrote
            # the outbox row.
            with consume_span(env, message.headers, system="rabbitmq", destination=queue, consumer=sub.consumer):
                await sub.handler(env)
        except Exception as exc:
            header = (message.headers or {}).get(RETRY_HEADER, 0)
            retries = header if isinstance(header, int) else 0
            if sub.broadcast:
                log.error("broadcast handler failed for %s: %s", env.type, exc)
                await message.nack(requeue=retries == 0)
                return
            if retries < self.max_retries:
                log.warning("handler %s failed for %s (retry %s): %s", queue, env.type, retries + 1, exc)
                metrics.EVENTS_RETRIED.labels(sub.consumer).inc()
                await self._forward(channel, self._retry_queue(queue, self.retry_delay_ms * 2**retries), message,
                                    retries + 1, False, error=error_text(exc))
            else:
                log.error("dead-lettering %s %s after %s retries: %s", env.type, env.id, retries, exc)
                metrics.EVENTS_DEAD_LETTERED.labels(sub.consumer).inc()
                await self._forward(channel, f"{queue}.dlq", message, retries, False, error=error_text(exc))
        await message.ack()

    async def _forward(self, channel: aio_pika.abc.AbstractChannel, routing_key: str,
                       message: AbstractIncomingMessage, retries: int, broadcast: bool,
                       error: str | None = None) -> None:
        if broadcast:
            return
        headers = dict(message.headers or {})
        headers[RETRY_HEADER] = retries
        if error is not None:
            headers[ERROR_HEADER] = error
        await channel.default_exchange.publish(
            aio_pika.Message(
                message.body, headers=headers, content_type=message.content_type,
                message_id=message.message_id, type=message.type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=routing_key,
        )

    def _link_up(self) -> bool:
        # `_connected` is cleared as soon as the connection is lost, until it is set up again.
        return self._connected.is_set() and self._conn is not None and not self._conn.is_closed

    async def publish(self, envelopes: list[Envelope]) -> None:
        if not self._link_up() or self._exchange is None:
            raise ConnectionError("RabbitMQ is not connected")
        exchange = self._exchange

        async def publish_one(env: Envelope) -> None:
            # A PRODUCER span, child of the request that wrote the outbox row; its context
            # travels in the headers to the consumers.
            with publish_span(env, system="rabbitmq", destination=self.exchange_name) as headers:
                await exchange.publish(
                    aio_pika.Message(
                        env.to_bytes(), content_type="application/json", message_id=str(env.id),
                        type=env.type, headers=dict(headers), timestamp=env.occurred_at,
                        correlation_id=env.correlation_id,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=env.type,
                    timeout=PUBLISH_TIMEOUT_SECONDS,
                )

        # Every message of the batch is sent before the first confirm is awaited, and batches do not
        # wait for each other's confirms (the channel's own lock keeps each message's frames
        # together, in the order the publishes started): the broker persists them together
        # instead of one fsync-bound round trip each. If any is not confirmed the whole batch
        # stays unsent in the outbox and is published again (the consumers' inbox drops the copies).
        # Bounded as a whole: a publish caught by its connection's loss could wait for a confirm
        # that never comes, and hold the relay with it.
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await asyncio.gather(*(publish_one(env) for env in envelopes))
        except DeliveryError:
            await self._renew_publish_channel(exchange)
            raise

    async def _renew_publish_channel(self, nacked: aio_pika.abc.AbstractExchange) -> None:
        """A new publishing channel after a nack. RabbitMQ 3.10 kept nacking every publish on a
        channel that had published to a quorum queue whose leader's node died, for minutes after a
        new leader was elected, while a new channel's publishes were confirmed at once."""
        async with self._renewing:
            conn, old, on_lost = self._conn, self._pub_channel, self._on_lost
            if self._exchange is not nacked or conn is None or conn.is_closed or old is None or on_lost is None:
                return  # renewed meanwhile, or the connection is being set up again anyway
            channel = await conn.channel(publisher_confirms=True)
            channel.close_callbacks.add(on_lost)
            self._pub_channel = channel
            self._exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC,
                                                            durable=True)
            old.close_callbacks.discard(on_lost)  # its close is ours, not a lost link
            log.warning("RabbitMQ at %s: a publish was nacked; publishing on a new channel", shown(self.url))
            with contextlib.suppress(Exception):
                await old.close()

    async def queue_depths(self) -> dict[str, dict[str, int]]:
        """Messages waiting per consumer queue of this process: `{consumer: {"main", "retry", "dlq"}}`
        ("retry": every retry tier together)."""
        if not self._link_up() or self._conn is None:
            return {}
        out: dict[str, dict[str, int]] = {}
        consumers = sorted({sub.consumer for sub in self._subs if not sub.broadcast})
        for consumer in consumers:
            main, *tiers, dlq = self.queue_names(consumer)
            depths: dict[str, int] = {}
            for kind, name in (("main", main), *(("retry", tier) for tier in tiers), ("dlq", dlq)):
                # A passive declare of a missing queue closes its channel: one channel per queue.
                try:
                    async with self._conn.channel() as channel:
                        queue = await channel.declare_queue(name, passive=True)
                        depths[kind] = depths.get(kind, 0) + (queue.declaration_result.message_count or 0)
                except Exception:
                    continue
            out[consumer] = depths
        return out

    async def ready(self) -> bool:
        return self._link_up()

    # Dead letters (`deadletters.DeadLetterQueues`): the `<consumer>.events.dlq` queues.

    def _dlq(self, consumer: str) -> str:
        return f"{self.queue_prefix}{consumer}.events.dlq"

    async def count_dead_letters(self, consumers: Iterable[str]) -> dict[str, int]:
        if not self._link_up() or self._conn is None:
            raise ConnectionError("RabbitMQ is not connected")
        counts: dict[str, int] = {}
        for consumer in consumers:
            # A passive declare of a missing queue closes its channel: one channel per queue.
            try:
                async with self._conn.channel() as channel:
                    queue = await channel.declare_queue(self._dlq(consumer), passive=True)
                    counts[consumer] = queue.declaration_result.message_count or 0
            except ChannelClosed:
                continue
        return counts

    @asynccontextmanager
    async def _held(self, consumer: str, limit: int | None) -> AsyncIterator[list[AbstractIncomingMessage]]:
        """Take up to `limit` messages of the DLQ without acknowledging them (at most those there now,
        so a replayed event that fails again is not met twice); whatever the caller does not ack goes
        back in its place when the channel closes."""
        if not self._link_up() or self._conn is None:
            raise ConnectionError("RabbitMQ is not connected")
        held: list[AbstractIncomingMessage] = []
        try:
            channel = await self._conn.channel()
            queue = await channel.declare_queue(self._dlq(consumer), passive=True)
        except ChannelClosed:
            yield held  # no such queue: no dead letters
            return
        try:
            waiting = queue.declaration_result.message_count or 0
            for _ in range(waiting if limit is None else min(waiting, limit)):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                held.append(message)
            yield held
        finally:
            await channel.close()

    @staticmethod
    def _letter(consumer: str, message: AbstractIncomingMessage) -> DeadLetter:
        headers = message.headers or {}
        retries = headers.get(RETRY_HEADER, 0)
        error = headers.get(ERROR_HEADER, "")
        try:
            envelope = orjson.loads(message.body)
            if not isinstance(envelope, dict):
                raise ValueError("not an envelope")
        except ValueError:
            return DeadLetter(consumer=consumer, id=message.message_id or "", type=message.type or "",
                              retries=retries if isinstance(retries, int) else 0, error=str(error),
                              envelope=None, body=message.body[:2000].decode("utf-8", "replace"))
        return DeadLetter(consumer=consumer, id=str(envelope.get("id", message.message_id or "")),
                          type=str(envelope.get("type", message.type or "")),
                          retries=retries if isinstance(retries, int) else 0, error=str(error), envelope=envelope)

    async def list_dead_letters(self, consumer: str, *, limit: int) -> list[DeadLetter]:
        async with self._held(consumer, limit) as held:
            return [self._letter(consumer, message) for message in held]

    async def replay_dead_letters(self, consumer: str, ids: Collection[str] | None) -> int:
        main = f"{self.queue_prefix}{consumer}.events"
        replayed = 0
        async with self._held(consumer, None) as held:
            for message in held:
                if ids is not None and self._letter(consumer, message).id not in ids:
                    continue
                headers = {k: v for k, v in (message.headers or {}).items() if k != ERROR_HEADER}
                headers[RETRY_HEADER] = 0  # a fresh retry budget
                assert self._pub_channel is not None
                # Confirmed before the dead letter is acked: a crash in between leaves a
                # duplicate, which the consumer's inbox absorbs, never a loss.
                await self._pub_channel.default_exchange.publish(
                    aio_pika.Message(message.body, headers=headers, content_type=message.content_type,
                                     message_id=message.message_id, type=message.type,
                                     correlation_id=message.correlation_id,
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=main, timeout=10)
                await message.ack()
                replayed += 1
        return replayed

    async def drop_dead_letters(self, consumer: str, ids: Collection[str] | None) -> int:
        dropped = 0
        async with self._held(consumer, None) as held:
            for message in held:
                if ids is None or self._letter(consumer, message).id in ids:
                    await message.ack()
                    dropped += 1
        return dropped

    async def stop(self) -> None:
        """No new deliveries; each one under way finishes and is acked (at most `stop_timeout`), so
        that stopping a consumer (a deploy, a scale-in) neither cuts a handler off mid-way nor
        makes the broker hand its event to another consumer to do again; then disconnect."""
        self._stopping = True
        if self._connector:
            self._connector.cancel()
            await asyncio.gather(self._connector, return_exceptions=True)
        for queue, tag in self._consuming:
            # A link already down has no consumer to cancel: its unacked messages go back anyway.
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
        self._consuming.clear()
        try:
            async with asyncio.timeout(self.stop_timeout):
                await self._idle.wait()
        except TimeoutError:
            log.warning("stopping with %s deliveries still being handled; the broker will redeliver them",
                        self._handling)
        # Nobody else reads them; a link already down leaves them to their expiry. At once, and
        # bounded together: a quorum queue with a member node down can take seconds to delete.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await asyncio.gather(*(queue.delete(if_unused=False, if_empty=False)
                                       for queue in self._broadcast_queues), return_exceptions=True)
        self._broadcast_queues.clear()
        if self._conn is not None:
            await self._drop(self._conn)
