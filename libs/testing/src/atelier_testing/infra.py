"""Real PostgreSQL, RabbitMQ and Redis for tests.

From `ATELIER_TEST_POSTGRES_URL` / `ATELIER_TEST_AMQP_URL` when set; otherwise testcontainers when
a Docker engine answers; otherwise the test is skipped with the reason — or fails when
`ATELIER_REQUIRE_INFRA=1` (CI), so that a skip can never hide a missing server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import aio_pika
import pytest

from atelier_common.events.rabbitmq import consumer_queues

# Tests are the one place outside settings.py that reads the environment: these variables
# configure the test-suite itself, not a service.
POSTGRES_ENV = "ATELIER_TEST_POSTGRES_URL"
AMQP_ENV = "ATELIER_TEST_AMQP_URL"
REDIS_ENV = "ATELIER_TEST_REDIS_URL"
REQUIRE_ENV = "ATELIER_REQUIRE_INFRA"


def infra_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") in {"1", "true", "yes"}


def postgres_from_env() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def unavailable(what: str) -> None:
    if what == "Redis":
        reason = f"Redis is not available: set {REDIS_ENV}"
    else:
        variable = POSTGRES_ENV if what == "PostgreSQL" else AMQP_ENV
        reason = f"{what} is not available: set {variable} or run a Docker engine for testcontainers"
    if infra_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL without a database name."""
    if url := postgres_from_env():
        yield url.rsplit("/", 1)[0] if url.count("/") > 2 else url
        return
    if not _docker_available():
        unavailable("PostgreSQL")
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver="psycopg") as pg:
        yield pg.get_connection_url().rsplit("/", 1)[0]


@contextmanager
def amqp_server() -> Iterator[str]:
    if url := os.environ.get(AMQP_ENV):
        yield url
        return
    if not _docker_available():
        unavailable("RabbitMQ")
    from testcontainers.rabbitmq import RabbitMqContainer

    with RabbitMqContainer("rabbitmq:3.13-management-alpine") as rmq:
        params = rmq.get_connection_params()
        yield f"amqp://guest:guest@{params.host}:{params.port}/"


@contextmanager
def redis_server() -> Iterator[str]:
    """From ATELIER_TEST_REDIS_URL only (no container: testcontainers' Redis module needs redis-py)."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        unavailable("Redis")
    assert url is not None  # unavailable() skips or fails
    yield url


async def delete_namespace(amqp_url: str, namespace: str, consumer: str) -> None:
    """Delete what a test's bus declared under `namespace` (the `namespace` fixture): `consumer`'s
    queues, every retry tier a test may use (retry_delay_ms=50, at most 10 retries), and the exchange."""
    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel()
        for name in consumer_queues(namespace, consumer, max_retries=10, retry_delay_ms=50):
            await channel.queue_delete(name)
        await channel.exchange_delete(f"{namespace}exchange")
