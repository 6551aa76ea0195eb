"""`atelier`: run the platform (embedded or distributed), migrate, manage users."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from atelier_gateway.settings import SERVICES, GatewaySettings

if TYPE_CHECKING:
    from atelier_common.events.deadletters import DeadLetterQueues
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


def _exit_if_unreachable(command: str, every: Iterable[ServiceSettings]) -> None:
    """One line and exit code 2 when a database server or the broker these settings name does not
    answer, before anything starts (a traceback from a migration or a lifespan said it in 60 lines)."""
    from atelier_platform.preflight import settings_problem

    if problem := settings_problem(every):
        typer.echo(f"atelier {command}: {problem}", err=True)
        raise typer.Exit(CONFIGURATION_ERROR)


@app.command()
def dev(host: str = "127.0.0.1", port: int = 8000,
        data_dir: Annotated[Path, typer.Option(help="where the SQLite files and keys live")] = Path(".atelier"),
        reset: Annotated[bool, typer.Option(help="delete the data directory first")] = False) -> None:
    """The embedded mode: gateway and all six services in one process on SQLite; at the first start
    a development staff account (its password printed once, docs/walkthroughs/refund.md)."""
    import shutil

    import uvicorn

    from atelier_common.fast.protocol import http_protocol
    from atelier_platform import embedded
    from atelier_platform.devstart import banner, ensure_dev_staff, staff_lines

    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    base_url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    every = {name: embedded.service_settings(name, data_dir, base_url) for name in SERVICES}
    _exit_if_unreachable("dev", every.values())
    data_dir.mkdir(parents=True, exist_ok=True)
    staff = ensure_dev_staff(every["identity"], _spec("identity").migrations)
    gateway, _ = embedded.build(data_dir, gateway_settings=GatewaySettings(environment="dev"), public_base_url=base_url)
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
    uvicorn.run(gateway, host=host, port=port, access_log=False, log_config=None, proxy_headers=False,
                loop="uvloop", http=http_protocol())


@app.command()
def migrate(service: Annotated[str | None, typer.Option(help="only this service")] = None,
            wait: Annotated[bool, typer.Option(
                help="change nothing: wait until the databases are at head (a container waiting for the migrate job)")] = False,
            timeout: Annotated[float, typer.Option(help="with --wait: give up (exit 1) after this many seconds")] = 300,
            ) -> None:
    """Apply every service's migrations to its database (created if missing), and declare the
    broker's queues when the bus is RabbitMQ."""
    from atelier_common.migrations import upgrade

    names = [_check_service(service)] if service else list(SERVICES)
    if wait:
        raise typer.Exit(_wait_for_migrations(names, timeout))
    every = {name: _settings(name) for name in names}  # a bad setting stops it before any database changes
    _exit_if_unreachable("migrate", every.values())
    for name in names:
        settings = every[name]
        migrations = _spec(name).migrations
        if migrations is not None:
            upgrade(migrations, settings.resolved_database_url)
            typer.echo(f"{name}: migrated ({settings.resolved_database_url.split('@')[-1]})")
    settings = _settings(names[0])
    if settings.bus == "rabbitmq":
        from atelier_common.events.rabbitmq import RabbitMQBus
        from atelier_common.service import make_bus

        consumers = _consumers(names)
        bus = make_bus(settings)
        assert isinstance(bus, RabbitMQBus)  # settings.bus == "rabbitmq"
        asyncio.run(bus.declare_topology(consumers))
        typer.echo(f"broker: {len(consumers)} consumer queues declared on {settings.amqp_exchange}")


def _consumers(services: Iterable[str] = SERVICES) -> dict[str, set[str]]:
    """Every consumer queue of these services and the event types bound to it: the service's own
    consumers, and its job workers' as `<service>-worker` (none bound here when the service binds
    them on demand, `ServiceSpec.worker_routes`)."""
    from atelier_common.service import worker_consumer

    consumers: dict[str, set[str]] = {}
    for name in services:
        spec = _spec(name)
        for consumer, table in ((name, spec.subscriptions), (worker_consumer(name), spec.worker_subscriptions)):
            if table:
                on_demand = table is spec.worker_subscriptions and spec.worker_routes is not None
                consumers[consumer] = set() if on_demand else {cls.type for cls in table}
    return consumers


def _wait_for_migrations(names: list[str], timeout: float) -> int:
    """0 once every named service's database is at head; 1 (naming the laggards) after `timeout`."""
    import time

    from atelier_common.migrations import at_head

    deadline = time.monotonic() + timeout
    pending = list(names)
    while True:
        pending = [name for name in pending if (migrations := _spec(name).migrations) is not None
                   and not at_head(migrations, _settings(name).resolved_database_url)]
        if not pending:
            typer.echo(f"migrations at head: {', '.join(names)}")
            return 0
        if time.monotonic() >= deadline:
            typer.echo(f"not migrated after {timeout:g}s: {', '.join(pending)} (is the migrate job running?)", err=True)
            return 1
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


@app.command()
def serve(service: Service, host: str = "127.0.0.1", port: int = 8100, workers: int = 1) -> None:
    """One service's HTTP API (the roles setting decides whether relay/consumers run in it too)."""
    import uvicorn

    from atelier_common.fast.protocol import http_protocol

    _check_service(service)
    # A bad setting or a server that does not answer ends here with its one line, not in uvicorn's
    # factory call or the app's lifespan.
    _exit_if_unreachable("serve", [_settings(service)])
    uvicorn.run(f"atelier_{service}.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=None, proxy_headers=False, loop="uvloop", http=http_protocol())


@app.command()
def worker(service: Service,
           role: Annotated[list[str], typer.Option(help="relay, consumer, worker and/or housekeeping")] = ["relay", "consumer"],  # noqa: B006 (typer reads a list default; it is never mutated)
           ) -> None:
    """A process without HTTP: this service's outbox relay, event consumers, job worker and/or
    housekeeping (deletes what is past retention, `atelier_common.housekeeping`)."""
    from atelier_common.service import run_workers

    _check_service(service)
    spec = _spec(service)
    roles = frozenset(role)
    if not roles or roles - {"relay", "consumer", "worker", "housekeeping"}:
        raise typer.BadParameter("roles are relay, consumer, worker and housekeeping")
    settings = _settings(service)
    _exit_if_unreachable("worker", [settings])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_workers(spec, settings, roles))


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
                http=http_protocol())


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
       dev: Annotated[bool, typer.Option(
           help="like `atelier dev`: demo data, the dev mailbox and the dev checkout (/api/dev/...)")] = False,
       gateway_workers: Annotated[int, typer.Option(
           help="gateway processes sharing the port (0: half the CPU cores, at least one; the services "
                "run on them too)", min=0)] = 0,
       preload: Annotated[bool, typer.Option(
           help="import every service once and fork the children from this process (Linux; "
                "--no-preload: each child is a fresh interpreter)")] = True,
       plan: Annotated[bool, typer.Option(
           help="print the processes and the PostgreSQL connections they may hold, start nothing")] = False,
       ) -> None:
    """The distributed mode on this machine: one process per service API, relay and consumer."""
    from atelier_platform.processes import Topology, default_gateway_workers

    for service in SERVICES:  # every child would refuse a bad setting: say it once, before starting any
        _settings(service)
    GatewaySettings()
    api_workers = {}
    for item in workers or []:
        service, _, count = item.partition("=")
        if service not in SERVICES or not count.isdigit() or int(count) < 1:
            raise typer.BadParameter(f"expected SERVICE=N with a known service, got {item!r}", param_hint="--workers")
        api_workers[service] = int(count)
    topology = Topology(postgres=postgres, amqp=amqp, host=host, port=port, base_port=base_port, split=split,
                        data_dir=data_dir, api_workers=api_workers, probe_base_port=probe_base_port, dev=dev,
                        gateway_workers=gateway_workers or default_gateway_workers(),
                        preload=preload and sys.platform == "linux", run_cli=run)
    if plan:  # no server needed: what would start, as docs/deploy.md points to it
        typer.echo(topology.plan())
        return
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


@app.command("openapi")
def dump_openapi(output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None) -> None:
    """The merged OpenAPI document the gateway serves at /api/schema, built without starting anything
    (what the client generators read: `make clients`)."""
    import tempfile

    from atelier_gateway.openapi import merge
    from atelier_platform.embedded import service_settings

    with tempfile.TemporaryDirectory(prefix="atelier-openapi-") as data_dir:  # no service opens it: no lifespan
        documents = {s: importlib.import_module(f"atelier_{s}.app").create_app(
            service_settings(s, Path(data_dir))).openapi() for s in SERVICES}
    text = json.dumps(merge(documents), indent=2, sort_keys=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


@app.command("config-docs")
def config_docs(output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
                check: Annotated[bool, typer.Option(help="exit 1 when OUTPUT differs from what would be written")]
                = False) -> None:
    """docs/configuration.md, generated from the settings classes (`make docs` writes it)."""
    from atelier_platform.configdocs import render

    text = render()
    if check:
        if output is None or not output.exists() or output.read_text() != text:
            typer.echo(f"{output} is stale: run atelier config-docs --output {output}", err=True)
            raise typer.Exit(1)
        return
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


@app.command("secrets")
def generate_secrets() -> None:
    """Print fresh values for every secret production requires, as an env file (docs/deploy.md: Secrets)."""
    from atelier_platform.production import env_file

    typer.echo(env_file(), nl=False)


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


def _new_password(stdin: bool) -> str:
    """A password from a hidden prompt (typed twice) or the first line of stdin; never an argument,
    which would stay in the shell's history and the process list."""
    if stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise typer.BadParameter("no password on stdin", param_hint="--stdin")
        return line
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _identity_db() -> tuple[Any, Any]:
    from atelier_common.db import Database

    settings = _settings("identity")
    return settings, Database(settings.resolved_database_url, service="identity")


def _access_ttl(settings: Any) -> Any:
    from datetime import timedelta

    return timedelta(minutes=getattr(settings, "access_token_ttl_minutes", 15))


def _run_identity(work: Callable[[Any, Any], Any]) -> Any:
    """Run `work(db, settings)` against identity's database; a refusal (unknown account, weak
    password, unknown role) is its message and exit code 1."""
    from atelier_common.errors import AtelierError

    settings, db = _identity_db()

    async def run() -> Any:
        try:
            return await work(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except AtelierError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc


StdinOption = Annotated[bool, typer.Option("--stdin", help="read the password from the first line of stdin")]


@users_app.command("create")
def create_user(email: str, staff: Annotated[bool, typer.Option(help="a staff account (admin unless --role)")] = False,
                role: Annotated[list[str] | None, typer.Option(
                    help="staff role(s): support, merchandiser, finance, admin (implies --staff)")] = None,
                stdin: StdinOption = False) -> None:
    """Create (or keep, and promote with --staff/--role) a verified account; the password is
    prompted for, or read from stdin with --stdin."""
    from atelier_identity.service import change_staff_roles
    from atelier_identity.service import create_user as create

    password = _new_password(stdin)
    roles = list(role or [])

    async def work(db: Any, settings: Any) -> dict[str, Any]:
        user = await create(db, email=email, password=password, staff=staff and not roles, verified=True)
        if roles:
            await change_staff_roles(db, email=email, grant=roles, access_ttl=_access_ttl(settings))
        return {"id": str(user.id), "email": user.email, "staff": bool(staff or roles),
                **({"roles": sorted(roles)} if roles else {})}

    typer.echo(json.dumps(_run_identity(work)))


@users_app.command("set-password")
def set_password(email: str, stdin: StdinOption = False) -> None:
    """Set an account's password (prompted, or from stdin with --stdin); its sessions end."""
    from atelier_identity.service import set_password as set_it

    password = _new_password(stdin)

    async def work(db: Any, settings: Any) -> dict[str, Any]:
        user = await set_it(db, email=email, password=password, access_ttl=_access_ttl(settings))
        return {"id": str(user.id), "email": user.email, "password": "set"}

    typer.echo(json.dumps(_run_identity(work)))


def _suspend(email: str, suspended: bool) -> None:
    from atelier_identity.service import set_suspended

    async def work(db: Any, settings: Any) -> bool:
        return await set_suspended(db, email=email, suspended=suspended, access_ttl=_access_ttl(settings))

    changed = _run_identity(work)
    typer.echo(json.dumps({"email": email, "suspended": suspended, "changed": changed}))


@users_app.command("suspend")
def suspend(email: str) -> None:
    """Suspend an account: no sign-in or refresh (403 ACCOUNT_DISABLED); every session ends."""
    _suspend(email, True)


@users_app.command("reactivate")
def reactivate(email: str) -> None:
    """Let a suspended account sign in again."""
    _suspend(email, False)


@app.command("import")
def import_dump(profile: Annotated[str, typer.Argument(
                    help="the source product: marbelle, shop, reviv, storybook or figureforge")],
                file: Annotated[Path, typer.Argument(
                    help="its `manage.py dumpdata` JSON (figureforge: `aws cognito-idp list-users` JSON)")],
                storefront: Annotated[str, typer.Option(help="the storefront the rows belong to")] = "default",
                dry_run: Annotated[bool, typer.Option(help="check every row, write nothing")] = False,
                report: Annotated[Path | None, typer.Option(help="also write the report here, as JSON")] = None,
                currency: Annotated[str, typer.Option(help="the products' currency")] = "USD",
                media_url: Annotated[str, typer.Option(
                    help="where the source served its media (image names are relative to it)")] = "/media",
                ) -> None:
    """Move a product's customers, catalog, credits and books in (docs/moving-in.md); safe to run twice."""
    from atelier_platform import moving_in

    reader = moving_in.PROFILES.get(profile)
    if reader is None:
        raise typer.BadParameter(f"unknown profile {profile!r}; choose from {', '.join(moving_in.PROFILES)}")
    try:
        batch = reader(moving_in.read_dump(file), currency=currency, media_url=media_url)
    except moving_in.DumpUnreadable as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    result = moving_in.Report(list(batch.refused), dry_run=dry_run)
    with _progress(f"importing {batch.size:,} rows from {file.name}", batch.size) as advance:
        result.outcomes += asyncio.run(_import_batch(batch, source=profile, storefront=storefront,
                                                     dry_run=dry_run, advance=advance))
    for line in result.lines():
        typer.echo(line)
    if report is not None:
        report.write_text(json.dumps(result.as_json(), indent=2) + "\n", encoding="utf-8")


async def _import_batch(batch: Any, *, source: str, storefront: str, dry_run: bool,
                        advance: Callable[[int], None]) -> list[Any]:
    """Each service's rows into that service, in-process against its database (the same settings
    `atelier users create` reads: the embedded SQLite files or the distributed PostgreSQL)."""
    from sqlalchemy.exc import SQLAlchemyError

    from atelier_catalog.imports import PRODUCT_MODEL, import_catalog
    from atelier_catalog.imports import imported_ids as catalog_ids
    from atelier_common.db import Database
    from atelier_common.errors import AtelierError
    from atelier_common.imports import RowOutcome
    from atelier_generation.imports import BOOK_MODEL, import_generation
    from atelier_generation.imports import imported_ids as generation_ids
    from atelier_identity.imports import USER_MODEL, import_accounts, imported_ids
    from atelier_identity.security import PasswordHasher
    from atelier_identity.settings import IdentitySettings
    from atelier_orders.imports import import_orders

    async def into(service: str, rows: list[Any], work: Callable[[Database], Any]) -> list[Any]:
        if not rows:
            return []
        db = Database(_settings(service).resolved_database_url, service=service)
        try:
            outcomes: list[Any] = await work(db)
        except (AtelierError, SQLAlchemyError) as exc:
            # A rule the checks before writing did not foresee (or a constraint of the database's):
            # that service's transaction rolled back whole, and each of its rows says why.
            code = exc.code if isinstance(exc, AtelierError) else type(exc).__name__
            reason = str(exc).splitlines()[0][:300]
            outcomes = [RowOutcome(type(row).__name__.removeprefix("Imported").lower(), row.source_pk, "refused",
                                   f"{service} rolled back the batch: {code}: {reason}") for row in rows]
        finally:
            await db.dispose()
        advance(len(rows))
        return outcomes

    target = None if storefront == "default" else storefront
    # Identity's settings name the work caps an imported password hash must stay within.
    passwords = PasswordHasher.of(IdentitySettings())
    outcomes = await into("identity", [*batch.users, *batch.addresses], lambda db: import_accounts(
        db, batch.users, batch.addresses, source=source, storefront=storefront, passwords=passwords,
        dry_run=dry_run))
    outcomes += await into("catalog", [*batch.categories, *batch.products], lambda db: import_catalog(
        db, batch.categories, batch.products, source=source, storefront=target, dry_run=dry_run))
    owned = batch.owned()
    if owned:
        # What each source user became; a dry run wrote no account, so a user it would import
        # stands in with a fresh id (nothing downstream is written either).
        owners = await _ids("identity", imported_ids, source, USER_MODEL, {row.owner_source_pk for row in owned})
        if dry_run:
            owners.update({o.pk: uuid.uuid4() for o in outcomes if o.model == USER_MODEL and o.status == "imported"})
        for row in owned:
            row.owner_id = owners.get(row.owner_source_pk)
    outcomes += await into("generation", [*batch.credits, *batch.books, *batch.restorations],
                           lambda db: import_generation(db, batch.credits, batch.books, batch.restorations,
                                                        source=source, storefront=storefront, dry_run=dry_run))
    if batch.orders:
        # An order line names the product (catalog) or book (generation) it became, when it moved in.
        lines = [line for order in batch.orders for line in order.lines]
        products = await _ids("catalog", catalog_ids, source, PRODUCT_MODEL,
                              {line.product_source_pk for line in lines})
        books = await _ids("generation", generation_ids, source, BOOK_MODEL,
                           {line.book_source_pk for line in lines if line.book_source_pk})
        for line in lines:
            line.product_id = products.get(line.product_source_pk)
            line.book_id = books.get(line.book_source_pk) if line.book_source_pk else None
    outcomes += await into("orders", batch.orders, lambda db: import_orders(
        db, batch.orders, source=source, storefront=storefront, dry_run=dry_run))
    return outcomes


async def _ids(service: str, lookup: Callable[..., Any], source: str, model: str, keys: set[str]) -> dict[str, Any]:
    """What each source key became in `service` (its `imported_ids`)."""
    from atelier_common.db import Database

    if not keys:
        return {}
    db = Database(_settings(service).resolved_database_url, service=service)
    try:
        found: dict[str, Any] = await lookup(db, source, model, sorted(keys))
        return found
    finally:
        await db.dispose()


def _change_roles(email: str, *, grant: list[str], revoke: list[str]) -> None:
    from atelier_identity.service import change_staff_roles

    async def work(db: Any, settings: Any) -> tuple[list[str], list[str]]:
        return await change_staff_roles(db, email=email, grant=grant, revoke=revoke, access_ttl=_access_ttl(settings))

    before, after = _run_identity(work)
    typer.echo(json.dumps({"email": email, "before": before, "roles": after}))


@users_app.command("grant-role")
def grant_role(email: str, role: str) -> None:
    """Give a staff role (support, merchandiser, finance, admin) to an account; its sessions end."""
    _change_roles(email, grant=[role], revoke=[])


@users_app.command("revoke-role")
def revoke_role(email: str, role: str) -> None:
    """Take a staff role back; with none left the account is a customer only. Its sessions end."""
    _change_roles(email, grant=[], revoke=[role])


def _stores() -> list[Any]:
    """Every service's database and local file store, as this install's settings place them (the
    embedded SQLite files under the data directory, or the distributed mode's PostgreSQL)."""
    from atelier_platform.backup import Store

    stores = []
    for name in SERVICES:
        settings = _settings(name)
        files = remote = None
        if name in ("catalog", "generation"):  # the services that keep files (storage.py)
            if settings.storage_backend == "local":  # type: ignore[attr-defined]  # both have StorageSettings
                files = settings.media_dir if name == "catalog" else settings.resolved_storage_dir  # type: ignore[attr-defined]  # named per service
            else:
                remote = f"s3://{settings.s3_bucket}/{settings.s3_prefix}"  # type: ignore[attr-defined]  # StorageSettings
        stores.append(Store(name, settings.resolved_database_url, _spec(name).migrations, files, remote))
    return stores


@app.command()
def backup(out: Annotated[Path | None, typer.Option(
        help="the archive to write (default: atelier-backup-<UTC time>.tar here; .tar.gz compresses)")] = None,
           ) -> None:
    """Every service database (pg_dump / SQLite backup API) and the file store, in one archive
    with a manifest (docs/operations.md). Safe while the platform runs."""
    from datetime import UTC, datetime

    from atelier_platform import backup as archive

    out = out or Path(f"atelier-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar")
    try:
        manifest = archive.backup(_stores(), _settings("identity").data_dir, out, say=lambda line: typer.echo(line, err=True))
    except archive.BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"archive": str(out), "created_at": manifest["created_at"],
                           "members": len(manifest["members"])}))


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="an archive `atelier backup` wrote")],
            force: Annotated[bool, typer.Option(help="replace the data this install already holds")] = False) -> None:
    """Restore a backup onto an empty install (stop the platform first): checksums are verified
    first, then each database and file store is restored and checked against the manifest."""
    from atelier_platform import backup as archive

    try:
        manifest = archive.restore(_stores(), _settings("identity").data_dir, file, force=force,
                                   say=lambda line: typer.echo(line, err=True))
    except archive.BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"restored": str(file), "created_at": manifest["created_at"],
                           "services": sorted(manifest["services"])}))


keys_app = typer.Typer(help="Identity's access token signing keys (docs/operations.md).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _with_identity_db(work: Callable[[Any, Any], Any]) -> Any:
    """Run `work(db, settings)` against identity's database (embedded SQLite or PostgreSQL)."""
    from atelier_common.db import Database
    from atelier_common.errors import AtelierError

    settings = _settings("identity")

    async def run() -> Any:
        db = Database(settings.resolved_database_url, service="identity")
        try:
            return await work(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except AtelierError as exc:
        typer.echo(f"{exc.message} ({json.dumps(exc.details)})" if exc.details else exc.message, err=True)
        raise typer.Exit(1) from exc


@keys_app.command("rotate")
def keys_rotate() -> None:
    """A new signing key signs from now on (every identity process within seconds); the old one
    stays in the JWKS for the access token lifetime, so nobody is signed out, then retires."""
    from datetime import timedelta

    from atelier_common.keys import SigningKey
    from atelier_identity.service.keys import adopt_configured_key, rotate

    async def work(db: Any, settings: Any) -> Any:
        ttl = timedelta(minutes=settings.access_token_ttl_minutes)
        # Before identity's first start the table is empty: the configured key is the one in use
        # (identity would store it at start, and rotate it in over this rotation's key).
        configured = SigningKey.load(settings.signing_key_pem, settings.data_dir / "keys" / "identity.pem")
        await adopt_configured_key(db, configured, access_ttl=ttl)
        return await rotate(db, access_ttl=ttl)

    typer.echo(json.dumps(_with_identity_db(work).as_json()))


@keys_app.command("retire")
def keys_retire(kid: Annotated[str | None, typer.Argument(help="only this key (default: every key past its overlap)")] = None,
                force: Annotated[bool, typer.Option(
                    help="retire KID now, before the tokens it signed expire (a leaked key: they stop verifying)")] = False,
                ) -> None:
    """Record keys past their overlap as retired and erase their private halves (automatic
    retirement already took them out of the JWKS)."""
    from atelier_identity.service.keys import retire

    for state in _with_identity_db(lambda db, _settings: retire(db, kid, force=force)):
        typer.echo(json.dumps(state.as_json()))


@keys_app.command("list")
def keys_list() -> None:
    """Every signing key: active (signs), published (verifies until retire_after) or retired."""
    from atelier_identity.service.keys import list_keys

    for state in _with_identity_db(lambda db, _settings: list_keys(db)):
        typer.echo(json.dumps(state.as_json()))


events_app = typer.Typer(help="The event bus.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: events a consumer gave up on (RabbitMQ).", no_args_is_help=True)
app.add_typer(events_app, name="events")
events_app.add_typer(dlq_app, name="dlq")
Consumer = Annotated[str, typer.Argument(help="a consumer: a service name, or <service>-worker")]
EventIds = Annotated[list[str] | None, typer.Argument(help="event ids (or --all)", show_default=False)]


def _with_dead_letters(consumer: str | None, work: Callable[[DeadLetterQueues, dict[str, set[str]]], Any]) -> Any:
    """Run `work` against the broker's dead-letter queues (the settings' RabbitMQ)."""
    from atelier_common.events.deadletters import DeadLetterQueues
    from atelier_common.events.rabbitmq import shown
    from atelier_common.service import make_bus
    from atelier_common.settings import amqp_urls

    consumers = _consumers()
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


CONFIGURATION_ERROR = 2  # like a usage error: the command cannot run as configured


@contextlib.contextmanager
def _configuration_errors() -> Iterator[None]:
    """A setting's invalid value ends the command with one line per setting (its name, its variable,
    what is wrong) and exit code 2, not a traceback; any other error keeps its traceback."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from atelier_common.settings import explain_settings_error

    try:
        yield
    except (ValidationError, SettingsError) as error:
        lines = explain_settings_error(error)
        if lines is None:
            raise
        for line in lines:
            typer.echo(line, err=True)
        sys.exit(CONFIGURATION_ERROR)


def main() -> None:
    with _configuration_errors():
        app()


def run(args: list[str]) -> None:
    """One command line in this process (a child `atelier up` forked runs its own with it)."""
    with _configuration_errors():
        app(args=args, prog_name="atelier")


if __name__ == "__main__":
    main()
