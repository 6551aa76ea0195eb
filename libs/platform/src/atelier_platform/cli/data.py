"""The commands that move an install's data in bulk: generated products (`seed`), another product's
dump (`import`), and the whole install out and back (`backup`, `restore`). Each works in this
process against the services' databases, as their settings place them, so none needs the platform
running."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from atelier_gateway.settings import SERVICES
from atelier_platform.cli.services import settings_of, spec_of


def seed(products: Annotated[int, typer.Option(help="how many generated products to add")] = 10_000) -> None:
    """A large generated catalog (benchmarks): N products in catalog's database."""
    from atelier_catalog.demo import seed_bulk
    from atelier_common.db import Database

    settings = settings_of("catalog")

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
        db = Database(settings_of(service).resolved_database_url, service=service)
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
    db = Database(settings_of(service).resolved_database_url, service=service)
    try:
        found: dict[str, Any] = await lookup(db, source, model, sorted(keys))
        return found
    finally:
        await db.dispose()


def _stores() -> list[Any]:
    """Every service's database and local file store, as this install's settings place them (the
    embedded SQLite files under the data directory, or the distributed mode's PostgreSQL)."""
    from atelier_platform.backup import Store

    stores = []
    for name in SERVICES:
        settings = settings_of(name)
        files = remote = None
        if name in ("catalog", "generation"):  # the services that keep files (storage.py)
            if settings.storage_backend == "local":  # type: ignore[attr-defined]  # both have StorageSettings
                files = settings.media_dir if name == "catalog" else settings.resolved_storage_dir  # type: ignore[attr-defined]  # named per service
            else:
                remote = f"s3://{settings.s3_bucket}/{settings.s3_prefix}"  # type: ignore[attr-defined]  # StorageSettings
        stores.append(Store(name, settings.resolved_database_url, spec_of(name).migrations, files, remote))
    return stores


def backup(out: Annotated[Path | None, typer.Option(
        help="the archive to write (default: atelier-backup-<UTC time>.tar here; .tar.gz compresses)")] = None,
           ) -> None:
    """Every service database (pg_dump / SQLite backup API) and the file store, in one archive
    with a manifest (docs/operations.md). Safe while the platform runs."""
    from datetime import UTC, datetime

    from atelier_platform import backup as archive

    out = out or Path(f"atelier-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar")
    try:
        manifest = archive.backup(_stores(), settings_of("identity").data_dir, out, say=lambda line: typer.echo(line, err=True))
    except archive.BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"archive": str(out), "created_at": manifest["created_at"],
                           "members": len(manifest["members"])}))


def restore(file: Annotated[Path, typer.Argument(help="an archive `atelier backup` wrote")],
            force: Annotated[bool, typer.Option(help="replace the data this install already holds")] = False) -> None:
    """Restore a backup onto an empty install (stop the platform first): checksums are verified
    first, then each database and file store is restored and checked against the manifest."""
    from atelier_platform import backup as archive

    try:
        manifest = archive.restore(_stores(), settings_of("identity").data_dir, file, force=force,
                                   say=lambda line: typer.echo(line, err=True))
    except archive.BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"restored": str(file), "created_at": manifest["created_at"],
                           "services": sorted(manifest["services"])}))
