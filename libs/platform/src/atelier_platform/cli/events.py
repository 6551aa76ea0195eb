"""`atelier events dlq`: the broker's dead letters per consumer, for an operator to read and, once
the cause is fixed, replay or drop (the embedded mode keeps its own, behind the staff API)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from atelier_gateway.settings import GatewaySettings
from atelier_platform.cli.services import consumer_queues

if TYPE_CHECKING:
    from atelier_common.events.deadletters import DeadLetterQueues

events_app = typer.Typer(help="The event bus.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: events a consumer gave up on (RabbitMQ).", no_args_is_help=True)
events_app.add_typer(dlq_app, name="dlq")
Consumer = Annotated[str, typer.Argument(help="a consumer: a service name, or <service>-worker")]
EventIds = Annotated[list[str] | None, typer.Argument(help="event ids (or --all)", show_default=False)]


def _with_dead_letters(consumer: str | None, work: Callable[[DeadLetterQueues, dict[str, set[str]]], Any]) -> Any:
    """Run `work` against the broker's dead-letter queues (the settings' RabbitMQ)."""
    from atelier_common.events.deadletters import DeadLetterQueues
    from atelier_common.events.rabbitmq import shown
    from atelier_common.service import make_bus
    from atelier_common.settings import amqp_urls

    consumers = consumer_queues()
    if consumer is not None and consumer not in consumers:
        raise typer.BadParameter(f"unknown consumer {consumer!r}; choose from {', '.join(consumers)}")
    settings = GatewaySettings()
    if settings.bus != "rabbitmq":
        typer.echo("The embedded mode keeps its dead letters in its own process: use the staff API "
                   "/api/v1/ops/dead-letters of the running platform (ATELIER_BUS=rabbitmq for the broker's).",
                   err=True)
        raise typer.Exit(2)

    async def run() -> Any:
        bus = make_bus(settings)
        assert isinstance(bus, DeadLetterQueues)
        await bus.start()
        try:
            if not await bus.ready():
                brokers = ", ".join(shown(url) for url in amqp_urls(settings.amqp_url))
                typer.echo(f"RabbitMQ is not reachable at {brokers}", err=True)
                raise typer.Exit(2)
            return await work(bus, consumers)
        finally:
            await bus.stop()

    return asyncio.run(run())


def _selection(ids: list[str] | None, all_: bool) -> set[str] | None:
    if bool(ids) == all_:
        raise typer.BadParameter("give event ids or --all")
    return None if all_ else set(ids or ())


@dlq_app.command("list")
def dlq_list(consumer: Annotated[str | None, typer.Argument(help="one consumer's dead letters")] = None,
             limit: int = 50) -> None:
    """Dead letters per consumer, or one consumer's (id, type, retries, error)."""

    async def work(bus: DeadLetterQueues, consumers: dict[str, set[str]]) -> None:
        if consumer is None:
            for name, count in (await bus.count_dead_letters(consumers)).items():
                typer.echo(f"{name}\t{count}")
            return
        for letter in await bus.list_dead_letters(consumer, limit=limit):
            typer.echo(json.dumps(letter.summary()))

    _with_dead_letters(consumer, work)


@dlq_app.command("show")
def dlq_show(consumer: Consumer, event_id: str) -> None:
    """One dead letter, with its envelope."""

    async def work(bus: DeadLetterQueues, consumers: dict[str, set[str]]) -> None:
        letters = await bus.list_dead_letters(consumer, limit=10_000)
        found = next((letter for letter in letters if letter.id == event_id), None)
        if found is None:
            typer.echo(f"no dead letter {event_id} for {consumer}", err=True)
            raise typer.Exit(1)
        typer.echo(json.dumps(found.detail(), indent=2))

    _with_dead_letters(consumer, work)


@dlq_app.command("replay")
def dlq_replay(consumer: Consumer, ids: EventIds = None,
               all_: Annotated[bool, typer.Option("--all", help="every dead letter of the consumer")] = False) -> None:
    """Hand dead letters back to the consumer's queue (its inbox still applies each event once)."""
    chosen = _selection(ids, all_)

    async def work(bus: DeadLetterQueues, consumers: dict[str, set[str]]) -> None:
        typer.echo(f"{consumer}: {await bus.replay_dead_letters(consumer, chosen)} replayed")

    _with_dead_letters(consumer, work)


@dlq_app.command("drop")
def dlq_drop(consumer: Consumer, ids: EventIds = None,
             all_: Annotated[bool, typer.Option("--all", help="every dead letter of the consumer")] = False) -> None:
    """Delete dead letters for good."""
    chosen = _selection(ids, all_)

    async def work(bus: DeadLetterQueues, consumers: dict[str, set[str]]) -> None:
        typer.echo(f"{consumer}: {await bus.drop_dead_letters(consumer, chosen)} dropped")

    _with_dead_letters(consumer, work)
