"""The commands that run the platform: whole (`dev` embedded, `up` distributed on this machine), one
process of the distributed mode at a time (`serve`, `worker`, `gateway`: what `up`, a container or
a unit file starts), and `migrate`, the step before any of them. Together because these are what a
deployment starts; the other commands administer an install."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import typer

from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_platform.cli.root import CONFIGURATION_ERROR, run
from atelier_platform.cli.services import (
    Service,
    check_service,
    consumer_queues,
    exit_if_unreachable,
    settings_of,
    spec_of,
)


def dev(host: str = "127.0.0.1", port: int = 8000,
        data_dir: Annotated[Path, typer.Option(help="where the SQLite files and keys live")] = Path(".atelier"),
        reset: Annotated[bool, typer.Option(help="delete the data directory first")] = False) -> None:
    """The embedded mode: gateway and all six services in one process on SQLite; at the first start
    a development staff account (its password printed once, docs/walkthroughs/refund.md)."""
    import os
    import shutil
    import socket

    import uvicorn

    from atelier_common.fast.protocol import http_protocol
    from atelier_platform import embedded
    from atelier_platform.devstart import banner, ensure_dev_staff, staff_lines

    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    # The port is taken before the seconds of the start: one in use stops it at once, and the banner
    # (printed when the start is done) is true the moment it shows, its first request queued, never
    # refused, until uvicorn accepts.
    try:
        listening = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                         backlog=2048)  # uvicorn's backlog
    except OSError as exc:
        typer.echo(f"atelier dev: cannot listen on {host}:{port}: {os.strerror(exc.errno) if exc.errno else exc}", err=True)
        raise typer.Exit(CONFIGURATION_ERROR) from None
    base_url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    every = {name: embedded.service_settings(name, data_dir, base_url) for name in SERVICES}
    exit_if_unreachable("dev", every.values())
    data_dir.mkdir(parents=True, exist_ok=True)
    staff = ensure_dev_staff(every["identity"], spec_of("identity").migrations)
    gateway_settings = GatewaySettings(environment="dev")
    gateway, _ = embedded.build(data_dir, gateway_settings=gateway_settings, public_base_url=base_url)
    starting = gateway.router.lifespan_context

    @contextlib.asynccontextmanager
    async def announced(app: Any) -> AsyncIterator[Any]:
        started = False
        try:
            async with starting(app) as state:
                started = True
                for line in banner(base_url, staff):
                    typer.echo(line)
                yield state
        except Exception:
            if not started and staff is not None and staff.password is not None:  # its one showing
                for line in staff_lines(staff):
                    typer.echo(line, err=True)
            raise

    gateway.router.lifespan_context = announced
    # uvloop's event loop and the httptools parser (the `protocol` fast path of `atelier_common.fast`;
    # uvicorn's h11 with it off) in every HTTP process; the platform writes its own access log
    # (ATELIER_ACCESS_LOG), not uvicorn's.
    # uvicorn never rewrites the peer or the scheme from proxy headers: the gateway does, from its
    # `trusted_proxies` setting, and the services take what the gateway forwards.
    server = uvicorn.Server(uvicorn.Config(
        gateway, host=host, port=port, access_log=False, log_config=None, proxy_headers=False, loop="uvloop",
        http=http_protocol(), timeout_keep_alive=gateway_settings.keep_alive_seconds))
    server.run(sockets=[listening])
    if not server.started:
        raise typer.Exit(3)  # uvicorn.run's exit code for a start that failed


def migrate(service: Annotated[str | None, typer.Option(help="only this service")] = None,
            wait: Annotated[bool, typer.Option(
                help="change nothing: wait until the databases are at head (a container waiting for the migrate job)")] = False,
            timeout: Annotated[float, typer.Option(help="with --wait: give up (exit 1) after this many seconds")] = 300,
            ) -> None:
    """Apply every service's migrations to its database (created if missing), and declare the
    broker's queues when the bus is RabbitMQ."""
    from atelier_common.migrations import upgrade

    names = [check_service(service)] if service else list(SERVICES)
    if wait:
        raise typer.Exit(_wait_for_migrations(names, timeout))
    every = {name: settings_of(name) for name in names}  # a bad setting stops it before any database changes
    exit_if_unreachable("migrate", every.values())
    for name in names:
        settings = every[name]
        migrations = spec_of(name).migrations
        if migrations is not None:
            upgrade(migrations, settings.resolved_database_url)
            typer.echo(f"{name}: migrated ({settings.resolved_database_url.split('@')[-1]})")
    settings = settings_of(names[0])
    if settings.bus == "rabbitmq":
        from atelier_common.events.rabbitmq import RabbitMQBus
        from atelier_common.service import make_bus

        consumers = consumer_queues(names)
        bus = make_bus(settings)
        assert isinstance(bus, RabbitMQBus)  # settings.bus == "rabbitmq"
        asyncio.run(bus.declare_topology(consumers))
        typer.echo(f"broker: {len(consumers)} consumer queues declared on {settings.amqp_exchange}")


def _wait_for_migrations(names: list[str], timeout: float) -> int:
    """0 once every named service's database is at head; 1 (naming the laggards) after `timeout`."""
    import time

    from atelier_common.migrations import at_head

    deadline = time.monotonic() + timeout
    pending = list(names)
    while True:
        pending = [name for name in pending if (migrations := spec_of(name).migrations) is not None
                   and not at_head(migrations, settings_of(name).resolved_database_url)]
        if not pending:
            typer.echo(f"migrations at head: {', '.join(names)}")
            return 0
        if time.monotonic() >= deadline:
            typer.echo(f"not migrated after {timeout:g}s: {', '.join(pending)} (is the migrate job running?)", err=True)
            return 1
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


def serve(service: Service, host: str = "127.0.0.1", port: int = 8100, workers: int = 1) -> None:
    """One service's HTTP API (the roles setting decides whether relay/consumers run in it too)."""
    import uvicorn

    from atelier_common.fast.protocol import http_protocol

    check_service(service)
    # A bad setting or a server that does not answer ends here with its one line, not in uvicorn's
    # factory call or the app's lifespan.
    exit_if_unreachable("serve", [settings_of(service)])
    uvicorn.run(f"atelier_{service}.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=None, proxy_headers=False, loop="uvloop", http=http_protocol())


def worker(service: Service,
           role: Annotated[list[str], typer.Option(help="relay, consumer, worker and/or housekeeping")] = ["relay", "consumer"],  # noqa: B006 (typer reads a list default; it is never mutated)
           ) -> None:
    """A process without HTTP: this service's outbox relay, event consumers, job worker and/or
    housekeeping (deletes what is past retention, `atelier_common.housekeeping`)."""
    from atelier_common.service import run_workers

    check_service(service)
    spec = spec_of(service)
    roles = frozenset(role)
    if not roles or roles - {"relay", "consumer", "worker", "housekeeping"}:
        raise typer.BadParameter("roles are relay, consumer, worker and housekeeping")
    settings = settings_of(service)
    exit_if_unreachable("worker", [settings])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_workers(spec, settings, roles))


def gateway(host: str = "127.0.0.1", port: int = 8000,
            workers: Annotated[int, typer.Option(
                help="processes sharing the port (0: one per CPU core)", min=0)] = 1) -> None:
    """The gateway of the distributed mode (service URLs from ATELIER_SERVICE_URLS).

    With several workers each process keeps its own denylist (every one hears
    identity.token_revoked), token cache and JWKS cache; rate limits are shared through Redis when
    ATELIER_REDIS_URL is set (else each worker counts alone), and the response cache through
    Redis (ATELIER_REDIS_URL or ATELIER_CACHE_URL)."""
    import uvicorn

    from atelier_common.fast.protocol import http_protocol
    from atelier_common.keys import SigningKey
    from atelier_platform.processes import cpu_cores

    settings = GatewaySettings()
    # Every worker must sign anonymous tokens with the same key: create it once, before they start.
    SigningKey.load(settings.anon_signing_key_pem, settings.data_dir / "keys" / "gateway-anon.pem")
    workers = workers or cpu_cores()
    if workers > 1 and not settings.redis_url and settings.rate_limits_enabled:
        typer.echo(f"gateway: {workers} workers without ATELIER_REDIS_URL count rate limits each on their own "
                   f"(up to {workers}x the configured limits)", err=True)
    uvicorn.run("atelier_platform.gateway:create_gateway", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_config=None, proxy_headers=False, loop="uvloop",
                http=http_protocol(), timeout_keep_alive=settings.keep_alive_seconds)


def up(postgres: Annotated[str, typer.Option(envvar="ATELIER_POSTGRES_SERVER_URL")] = "postgresql://postgres@127.0.0.1:5432",
       amqp: Annotated[str, typer.Option(envvar="ATELIER_AMQP_URL")] = "amqp://guest:guest@127.0.0.1:5672/",
       host: str = "127.0.0.1", port: int = 8000, base_port: int = 8101,
       split: Annotated[bool, typer.Option(help="relay and consumers in processes of their own")] = True,
       workers: Annotated[list[str] | None, typer.Option(
           help="SERVICE=N: N API worker processes for SERVICE (repeatable), e.g. catalog=2")] = None,
       data_dir: Path = Path(".atelier"),
       probe_base_port: Annotated[int, typer.Option(
           help="relay/consumer/worker processes serve /health, /ready, /metrics from this port on (0: off)")] = 0,
       dev: Annotated[bool, typer.Option(
           help="like `atelier dev`: demo data, the dev mailbox and the dev checkout (/api/dev/...)")] = False,
       api_processes: Annotated[int, typer.Option(
           help="API processes per service, each on its own port (0: two from four CPU cores on, else one); "
                "the gateway spreads requests over them and sends one a process refused to a sibling",
           min=0)] = 0,
       gateway_workers: Annotated[int, typer.Option(
           help="gateway processes sharing the port (0: half the CPU cores, at least one; the services "
                "run on them too)", min=0)] = 0,
       preload: Annotated[bool, typer.Option(
           help="import every service once and fork the children from this process (Linux; "
                "--no-preload: each child is a fresh interpreter)")] = True,
       plan: Annotated[bool, typer.Option(
           help="print the processes and the PostgreSQL connections they may hold, start nothing")] = False,
       ) -> None:
    """The distributed mode on this machine: processes per service API (--api-processes), relay and consumer."""
    from atelier_platform.processes import Topology, default_api_processes, default_gateway_workers

    for service in SERVICES:  # every child would refuse a bad setting: say it once, before starting any
        settings_of(service)
    GatewaySettings()
    api_workers = {}
    for item in workers or []:
        service, _, count = item.partition("=")
        if service not in SERVICES or not count.isdigit() or int(count) < 1:
            raise typer.BadParameter(f"expected SERVICE=N with a known service, got {item!r}", param_hint="--workers")
        api_workers[service] = int(count)
    topology = Topology(postgres=postgres, amqp=amqp, host=host, port=port, base_port=base_port, split=split,
                        data_dir=data_dir, api_workers=api_workers, probe_base_port=probe_base_port, dev=dev,
                        api_processes=api_processes or default_api_processes(),
                        gateway_workers=gateway_workers or default_gateway_workers(),
                        preload=preload and sys.platform == "linux", run_cli=run)
    if plan:  # no server needed: what would start, as docs/deploy.md points to it
        typer.echo(topology.plan())
        return
    raise typer.Exit(topology.run())
