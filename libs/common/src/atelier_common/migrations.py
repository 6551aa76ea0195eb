"""Alembic, one migration history per service, run programmatically or from each env.py."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Table, engine_from_config, pool
from sqlmodel import SQLModel
from sqlmodel.main import default_registry

from atelier_common.db import on_sqlite
from atelier_common.settings import is_sqlite, libpq_conninfo

MESSAGING_TABLES = {"outbox", "inbox"}


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://")


def alembic_config(migrations_dir: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s")
    return cfg


def ensure_database(url: str) -> None:
    """Create the service's PostgreSQL database (or SQLite folder) when it does not exist yet."""
    if is_sqlite(url):
        path = url.split(":///", 1)[1]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    target = sa.engine.make_url(url)
    with psycopg.connect(libpq_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{target.database}"')


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    ensure_database(url)
    command.upgrade(alembic_config(migrations_dir, url), revision)


def at_head(migrations_dir: Path, url: str) -> bool:
    """Whether the database at `url` exists and is at the head of this migration history. Creates
    nothing: an unreachable server or a missing database is simply not at head yet."""
    if is_sqlite(url) and not Path(url.split(":///", 1)[1]).exists():
        return False
    heads = set(ScriptDirectory.from_config(alembic_config(migrations_dir, url)).get_heads())
    connect_args = {} if is_sqlite(url) else {"connect_timeout": 5}
    engine = sa.create_engine(sync_url(url), poolclass=pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()
    return current == heads


def service_tables(package: str) -> set[str]:
    """The tables mapped by `package`'s models plus this service's outbox and inbox."""
    names = set(MESSAGING_TABLES)
    for mapper in default_registry.mappers:  # SQLModel's registry: every table model's mapper
        if mapper.class_.__module__.startswith(package) and isinstance(mapper.local_table, Table):
            names.add(mapper.local_table.name)
    return names


def run_env(package: str, *, default_url: str | None = None) -> None:
    """Body of every service's migrations/env.py (online mode)."""
    tables = service_tables(package)
    if not context.config.get_main_option("sqlalchemy.url") and default_url:
        ensure_database(default_url)
        context.config.set_main_option("sqlalchemy.url", sync_url(default_url).replace("%", "%%"))

    def include_name(name: str | None, type_: str, _parent: object) -> bool:
        return type_ != "table" or name in tables

    cfg = context.config
    connectable = engine_from_config(cfg.get_section(cfg.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=SQLModel.metadata, include_name=include_name,
                          compare_type=True, render_as_batch=on_sqlite(connection))
        with context.begin_transaction():
            context.run_migrations()


def create_messaging_tables() -> None:
    """The outbox and inbox of this service's database; call from its first migration."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("producer", sa.String(50), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("traceparent", sa.String(100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "occurred_at"])
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_messaging_tables() -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")


def create_idempotency_table() -> None:
    """The `idempotency_key` table of `atelier_common.idempotency`; call from a service's migration."""
    op.create_table(
        "idempotency_key",
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_key"),
    )


def drop_idempotency_table() -> None:
    op.drop_table("idempotency_key")


def create_owner_table(name: str) -> None:
    """A table of `atelier_common.owners.OwnerRow` (`cart_owner`, …); call from a service's migration."""
    op.create_table(
        name,
        sa.Column("owner_id", sa.Uuid(), primary_key=True),
        sa.Column("claimed_by", sa.Uuid(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


# The housekeeping sweeps' indexes on the shared tables (each sweep reads a range of one, not the
# table). Written out here rather than taken from the models: a migration must not change later.
def create_inbox_sweep_index() -> None:
    """`inbox.processed_at` (`atelier_common.inbox.sweep`)."""
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])


def drop_inbox_sweep_index() -> None:
    op.drop_index("ix_inbox_processed_at", table_name="inbox")


def create_idempotency_sweep_index() -> None:
    """`idempotency_key.expires_at` (`atelier_common.idempotency.sweep`)."""
    op.create_index("ix_idempotency_key_expires_at", "idempotency_key", ["expires_at"])


def drop_idempotency_sweep_index() -> None:
    op.drop_index("ix_idempotency_key_expires_at", table_name="idempotency_key")


def create_owner_sweep_index(name: str) -> None:
    """`updated_at` of an owner table's plain rows (`atelier_common.owners.sweep`)."""
    plain = sa.text("claimed_by IS NULL AND erased_at IS NULL")
    op.create_index(f"ix_{name}_plain_updated_at", name, ["updated_at"], postgresql_where=plain, sqlite_where=plain)


def drop_owner_sweep_index(name: str) -> None:
    op.drop_index(f"ix_{name}_plain_updated_at", table_name=name)
