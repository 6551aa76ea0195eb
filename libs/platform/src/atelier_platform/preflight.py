"""Before a command starts anything: do its PostgreSQL servers and its broker answer? Each check
returns None, or one line that names the server (never its password) and why, so that `atelier
dev`, `serve`, `worker`, `migrate` and `up` end with that line and exit code 2 instead of a
traceback from deep inside a migration or a lifespan."""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Iterable

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from atelier_common.settings import AtelierSettings, amqp_urls, is_sqlite, libpq_conninfo, normalise_database_url

CONNECT_TIMEOUT_SECONDS = 3


def shown_url(url: str) -> str:
    """`url` with its password masked, as the lines below print it (each of a list of brokers)."""
    if url.startswith(("amqp://", "amqps://")) and "," in url:
        return ",".join(shown_url(one) for one in amqp_urls(url))
    try:
        parsed = sa.engine.make_url(normalise_database_url(url) if url.startswith("postgres") else url)
        if parsed.get_backend_name() == "postgresql":  # as it was written, not with the driver we chose
            parsed = parsed.set(drivername="postgresql")
        return parsed.render_as_string(hide_password=True)
    except ArgumentError:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}" if host else "(unparsable)"


def postgres_problem(url: str) -> str | None:
    """Whether the PostgreSQL server of `url` (a database URL or a server URL) answers. Connects to
    the server's `postgres` database: the service's own may not exist yet (`migrate` creates it)."""
    try:
        target = sa.engine.make_url(normalise_database_url(url))
    except ArgumentError:
        return f"{shown_url(url)} is not a database URL"
    if target.get_backend_name() != "postgresql":
        return f"{shown_url(url)} is not a PostgreSQL or SQLite URL"
    # With several hosts, the one `target_session_attrs` picks (the primary) must answer.
    admin = libpq_conninfo(url, dbname="postgres")
    try:
        with psycopg.connect(admin, connect_timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL at {shown_url(url)} is unreachable ({reason})"
    return None


def broker_problem(amqp_url: str) -> str | None:
    """Whether RabbitMQ's port at `amqp_url` accepts a connection; of a list of brokers (a cluster's
    nodes), whether one does: the processes connect to the first that answers."""
    problems = []
    for url in amqp_urls(amqp_url) or [amqp_url]:
        broker = urllib.parse.urlsplit(url)
        if broker.scheme not in ("amqp", "amqps"):
            return f"{shown_url(url)} is not an AMQP URL (amqp://user:password@host:5672/)"
        host, port = broker.hostname or "127.0.0.1", broker.port or (5671 if broker.scheme == "amqps" else 5672)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS).close()
        except OSError as exc:
            problems.append(f"{host}:{port} is unreachable ({exc.strerror or exc})")
            continue
        return None
    return f"RabbitMQ at {'; '.join(problems)}"


def _server(url: str) -> str:
    """The server part of a database URL: the services' databases on one server are tried once."""
    try:
        return sa.engine.make_url(normalise_database_url(url)).set(database=None).render_as_string(hide_password=False)
    except ArgumentError:
        return url


def settings_problem(every: Iterable[AtelierSettings]) -> str | None:
    """The first server these processes' settings name that does not answer, with the variables
    that point at it; each server is tried once."""
    tried: set[str] = set()
    for settings in every:
        url = settings.resolved_database_url
        if not is_sqlite(url) and (server := _server(url)) not in tried:
            tried.add(server)
            if problem := postgres_problem(url):
                return f"{problem}; start it, or correct ATELIER_DATABASE_URL / ATELIER_POSTGRES_SERVER_URL"
        if settings.bus == "rabbitmq" and settings.amqp_url not in tried:
            tried.add(settings.amqp_url)
            if problem := broker_problem(settings.amqp_url):
                return f"{problem}; start it, or correct ATELIER_AMQP_URL"
    return None
