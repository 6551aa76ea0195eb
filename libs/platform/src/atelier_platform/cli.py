"""`atelier`: run the platform (embedded or distributed), migrate, manage users."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from atelier_gateway.settings import SERVICES, GatewaySettings

if TYPE_CHECKING:
    from atelier_common.service import ServiceSpec
    from atelier_common.settings import ServiceSettings

app = typer.Typer(help="Atelier platform command line.", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")

Service = Annotated[str, typer.Argument(help=f"one of {', '.join(SERVICES)}")]


def _check_service(name: str) -> str:
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    return name


def _settings(service: str) -> ServiceSettings:
    from atelier_platform.embedded import settings_class

    settings: ServiceSettings = settings_class(service)()
    return settings


def _spec(service: str) -> ServiceSpec:
    spec: ServiceSpec = importlib.import_module(f"atelier_{service}.app").SPEC
    return spec


@app.command()
def dev(host: str = "127.0.0.1", port: int = 8000,
        data_dir: Annotated[Path, typer.Option(help="where the SQLite files and keys live")] = Path(".atelier"),
        reset: Annotated[bool, typer.Option(help="delete the data directory first")] = False) -> None:
    """The embedded mode: gateway and all six services in one process on SQLite."""
    import shutil

    import uvicorn

    from atelier_platform import embedded

    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    gateway, _ = embedded.build(data_dir, gateway_settings=GatewaySettings(environment="dev"),
                                public_base_url=f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}")
    typer.echo(f"Atelier (embedded) on http://{host}:{port}  docs: http://{host}:{port}/api/docs")
    # uvloop's event loop and the httptools parser in every HTTP process; the platform writes its own
    # access log (ATELIER_ACCESS_LOG), not uvicorn's.
    uvicorn.run(gateway, host=host, port=port, access_log=False, log_config=None, loop="uvloop", http="httptools")


@app.command()
def migrate(service: Annotated[str | None, typer.Option(help="only this service")] = None) -> None:
    """Apply every service's migrations to its database (created if missing), and declare the
    broker's queues when the bus is RabbitMQ."""
    from atelier_common.migrations import upgrade

    names = [_check_service(service)] if service else list(SERVICES)
    for name in names:
        settings = _settings(name)
        migrations = _spec(name).migrations
        if migrations is not None:
            upgrade(migrations, settings.resolved_database_url)
            typer.echo(f"{name}: migrated ({settings.resolved_database_url.split('@')[-1]})")
    settings = _settings(names[0])
    if settings.bus == "rabbitmq":
        from atelier_common.events.rabbitmq import RabbitMQBus
        from atelier_common.service import make_bus

        consumers: dict[str, Iterable[str]] = {}
        for name in names:
            spec = _spec(name)
            for consumer, table in ((name, spec.subscriptions), (f"{name}-worker", spec.worker_subscriptions)):
                if table:
                    consumers[consumer] = {cls.type for cls in table}
        bus = make_bus(settings)
        assert isinstance(bus, RabbitMQBus)  # settings.bus == "rabbitmq"
        asyncio.run(bus.declare_topology(consumers))
        typer.echo(f"broker: {len(consumers)} consumer queues declared on {settings.amqp_exchange}")


@app.command()
def serve(service: Service, host: str = "127.0.0.1", port: int = 8100, workers: int = 1) -> None:
    """One service's HTTP API (the roles setting decides whether relay/consumers run in it too)."""
    import uvicorn

    _check_service(service)
    uvicorn.run(f"atelier_{service}.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=None, loop="uvloop", http="httptools")


@app.command()
def worker(service: Service,
           role: Annotated[list[str], typer.Option(help="relay, consumer and/or worker")] = ["relay", "consumer"],  # noqa: B006 (typer reads a list default; it is never mutated)
           ) -> None:
    """A process without HTTP: this service's outbox relay, event consumers and/or job worker."""
    from atelier_common.service import run_workers

    _check_service(service)
    spec = _spec(service)
    roles = frozenset(role)
    if not roles or roles - {"relay", "consumer", "worker"}:
        raise typer.BadParameter("roles are relay, consumer and worker")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_workers(spec, _settings(service), roles))


def cpu_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@app.command()
def gateway(host: str = "127.0.0.1", port: int = 8000,
            workers: Annotated[int, typer.Option(
                help="processes sharing the port (0: one per CPU core)", min=0)] = 1) -> None:
    """The gateway of the distributed mode (service URLs from ATELIER_SERVICE_URLS).

    With several workers each process keeps its own denylist (every one hears
    identity.token_revoked), token cache and JWKS cache; rate limits are shared through Redis when
    ATELIER_REDIS_URL is set (else each worker counts alone), and the response cache through
    Redis (ATELIER_REDIS_URL or ATELIER_CACHE_URL)."""
    import uvicorn

    from atelier_common.keys import SigningKey

    settings = GatewaySettings()
    # Every worker must sign anonymous tokens with the same key: create it once, before they start.
    SigningKey.load(settings.anon_signing_key_pem, settings.data_dir / "keys" / "gateway-anon.pem")
    workers = workers or cpu_cores()
    if workers > 1 and not settings.redis_url and settings.rate_limits_enabled:
        typer.echo(f"gateway: {workers} workers without ATELIER_REDIS_URL count rate limits each on their own "
                   f"(up to {workers}x the configured limits)", err=True)
    uvicorn.run("atelier_gateway.app:create_app", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_config=None, loop="uvloop", http="httptools")


@app.command()
def up(postgres: Annotated[str, typer.Option(envvar="ATELIER_POSTGRES_SERVER_URL")] = "postgresql://postgres@127.0.0.1:5432",
       amqp: Annotated[str, typer.Option(envvar="ATELIER_AMQP_URL")] = "amqp://guest:guest@127.0.0.1:5672/",
       host: str = "127.0.0.1", port: int = 8000, base_port: int = 8101,
       split: Annotated[bool, typer.Option(help="relay and consumers in processes of their own")] = True,
       workers: Annotated[list[str] | None, typer.Option(
           help="SERVICE=N: N API worker processes for SERVICE (repeatable), e.g. catalog=2")] = None,
       data_dir: Path = Path(".atelier"),
       probe_base_port: Annotated[int, typer.Option(
           help="relay/consumer/worker processes serve /health, /ready, /metrics from this port on (0: off)")] = 0,
       gateway_workers: Annotated[int, typer.Option(
           help="gateway processes sharing the port (0: one per CPU core)", min=0)] = 0,
       ) -> None:
    """The distributed mode on this machine: one process per service API, relay and consumer."""
    from atelier_platform.processes import Topology

    api_workers = {}
    for item in workers or []:
        service, _, count = item.partition("=")
        if service not in SERVICES or not count.isdigit() or int(count) < 1:
            raise typer.BadParameter(f"expected SERVICE=N with a known service, got {item!r}", param_hint="--workers")
        api_workers[service] = int(count)
    topology = Topology(postgres=postgres, amqp=amqp, host=host, port=port, base_port=base_port, split=split,
                        data_dir=data_dir, api_workers=api_workers, probe_base_port=probe_base_port,
                        gateway_workers=gateway_workers or cpu_cores())
    raise typer.Exit(topology.run())


@app.command()
def seed(products: Annotated[int, typer.Option(help="how many generated products to add")] = 10_000) -> None:
    """A large generated catalog (benchmarks): N products in catalog's database."""
    from atelier_catalog.demo import seed_bulk
    from atelier_common.db import Database

    settings = _settings("catalog")

    async def run() -> None:
        db = Database(settings.resolved_database_url, service="catalog")
        try:
            with _progress(f"seeding {products:,} products", products) as advance:
                added = await seed_bulk(db, products, progress=advance)
        finally:
            await db.dispose()
        typer.echo(f"catalog: {added} products added")

    asyncio.run(run())


@contextlib.contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (plain lines when it is not a terminal); yields `advance(done)`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done: console.print(f"{description}: {done:,} / {total:,}")
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


@users_app.command("create")
def create_user(email: str, password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
                staff: bool = False) -> None:
    """Create (or keep, and promote with --staff) a verified account."""
    from atelier_common.db import Database
    from atelier_identity.service import create_user as create

    settings = _settings("identity")

    async def run() -> None:
        db = Database(settings.resolved_database_url, service="identity")
        try:
            user = await create(db, email=email, password=password, staff=staff, verified=True)
        finally:
            await db.dispose()
        typer.echo(json.dumps({"id": str(user.id), "email": user.email, "staff": staff}))

    asyncio.run(run())


subscriptions_app = typer.Typer(help="Subscriptions of the local payment provider (dev).", no_args_is_help=True)
app.add_typer(subscriptions_app, name="subscriptions")


@subscriptions_app.command("advance")
def advance_subscription(email: str,
                         outcome: Annotated[str, typer.Option(help="paid or failed")] = "paid",
                         gateway_url: Annotated[str, typer.Option(help="the running platform")] = "http://127.0.0.1:8000",
                         ) -> None:
    """End EMAIL's current period now (payments' dev route; `dev_endpoints` must be on)."""
    import httpx
    from sqlmodel import col, select

    from atelier_common.db import Database
    from atelier_identity.models import User

    if outcome not in ("paid", "failed"):
        raise typer.BadParameter("outcome is paid or failed", param_hint="--outcome")
    settings = _settings("identity")

    async def user_id() -> str:
        db = Database(settings.resolved_database_url, service="identity")
        try:
            async with db.read_only() as session:
                found = (await session.exec(select(User).where(col(User.email) == email.strip().lower()))).first()
        finally:
            await db.dispose()
        if found is None:
            raise typer.BadParameter(f"no user {email!r}")
        return str(found.id)

    response = httpx.post(gateway_url.rstrip("/") + "/api/dev/subscriptions/advance",
                          json={"user_id": asyncio.run(user_id()), "outcome": outcome}, timeout=30)
    typer.echo(response.text)
    if response.status_code != 200:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
