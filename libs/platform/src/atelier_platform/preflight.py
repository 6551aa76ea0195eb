"""Before a command starts anything: do its PostgreSQL servers and its broker answer? Each check
returns None, or one line that names the server (never its password) and why, so that `atelier
dev`, `serve`, `worker`, `migrate` and `up` end with that line and exit code 2 instead of a
traceback from deep inside a migration or a lifespan."""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class ServerProblem:
    """Why a PostgreSQL server would not let us in. `answered`: it did answer, and refused (a role,
    a password or a database it does not know): its own words are in `text`, and starting it is no
    remedy; else nothing answered."""

    text: str
    answered: bool

    def __str__(self) -> str:
        return self.text


def postgres_problem(url: str) -> ServerProblem | None:
    """Whether the PostgreSQL server of `url` (a database URL or a server URL) lets us in. Connects to
    the server's `postgres` database: the service's own may not exist yet (`migrate` creates it)."""
    try:
        target = sa.engine.make_url(normalise_database_url(url))
    except ArgumentError:
        return ServerProblem(f"{shown_url(url)} is not a database URL", answered=False)
    if target.get_backend_name() != "postgresql":
        return ServerProblem(f"{shown_url(url)} is not a PostgreSQL or SQLite URL", answered=False)
    # With several hosts, the one `target_session_attrs` picks (the primary) must answer.
    admin = libpq_conninfo(url, dbname="postgres")
    try:
        with psycopg.connect(admin, connect_timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except psycopg.Error as exc:
        message = str(exc).strip()
        # libpq quotes what the server said after "FATAL:" (`role "nobody" does not exist`); a
        # connection that never reached it has no such line.
        said = next((line.split("FATAL:", 1)[1].strip() for line in message.splitlines() if "FATAL:" in line), None)
        if said:
            return ServerProblem(f"PostgreSQL at {shown_url(url)} refused the connection: {said}", answered=True)
        reason = message.splitlines()[0] if message else type(exc).__name__
        return ServerProblem(f"PostgreSQL at {shown_url(url)} is unreachable ({reason})", answered=False)
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
            if server_problem := postgres_problem(url):
                remedy = "correct" if server_problem.answered else "start it, or correct"
                return f"{server_problem}; {remedy} ATELIER_DATABASE_URL / ATELIER_POSTGRES_SERVER_URL"
        if settings.bus == "rabbitmq" and settings.amqp_url not in tried:
            tried.add(settings.amqp_url)
            if problem := broker_problem(settings.amqp_url):
                return f"{problem}; start it, or correct ATELIER_AMQP_URL"
    return None
