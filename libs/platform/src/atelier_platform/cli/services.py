"""What several commands need to know of a service (its settings and spec, whether the servers it
names answer, its consumer queues), read one way for all of them, and how they work on its database."""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from atelier_gateway.settings import SERVICES
from atelier_platform.cli.root import CONFIGURATION_ERROR

if TYPE_CHECKING:
    from atelier_common.service import ServiceSpec
    from atelier_common.settings import ServiceSettings

Service = Annotated[str, typer.Argument(help=f"one of {', '.join(SERVICES)}")]


def check_service(name: str) -> str:
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    return name


def settings_of(service: str) -> ServiceSettings:
    from atelier_platform.embedded import settings_class

    settings: ServiceSettings = settings_class(service)()
    return settings


def with_database(service: str, work: Callable[[Any, Any], Any], *, details: bool = False) -> Any:
    """Run `work(db, settings)` against `service`'s database (embedded SQLite or PostgreSQL); a
    refusal (an `AtelierError`) is its message, with its details when asked, and exit code 1."""
    from atelier_common.db import Database
    from atelier_common.errors import AtelierError

    settings = settings_of(service)

    async def run() -> Any:
        db = Database(settings.resolved_database_url, service=service)
        try:
            return await work(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except AtelierError as exc:
        typer.echo(f"{exc.message} ({json.dumps(exc.details)})" if details and exc.details else exc.message, err=True)
        raise typer.Exit(1) from exc


def spec_of(service: str) -> ServiceSpec:
    spec: ServiceSpec = importlib.import_module(f"atelier_{service}.app").SPEC
    return spec


def exit_if_unreachable(command: str, every: Iterable[ServiceSettings]) -> None:
    """One line and exit code 2 when a database server or the broker these settings name does not
    answer, before anything starts (a traceback from a migration or a lifespan said it in 60 lines)."""
    from atelier_platform.preflight import settings_problem

    if problem := settings_problem(every):
        typer.echo(f"atelier {command}: {problem}", err=True)
        raise typer.Exit(CONFIGURATION_ERROR)


def consumer_queues(services: Iterable[str] = SERVICES) -> dict[str, set[str]]:
    """Every consumer queue of these services and the event types bound to it: the service's own
    consumers, and its job workers' as `<service>-worker` (none bound here when the service binds
    them on demand, `ServiceSpec.worker_routes`)."""
    from atelier_common.service import worker_consumer

    consumers: dict[str, set[str]] = {}
    for name in services:
        spec = spec_of(name)
        for consumer, table in ((name, spec.subscriptions), (worker_consumer(name), spec.worker_subscriptions)):
            if table:
                on_demand = table is spec.worker_subscriptions and spec.worker_routes is not None
                consumers[consumer] = set() if on_demand else {cls.type for cls in table}
    return consumers
