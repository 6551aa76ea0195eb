"""`atelier migrate --wait`: what a Deployment's init container runs until the migrate job is done."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from atelier_cart.app import SPEC as CART
from atelier_common.migrations import at_head, upgrade


@pytest.fixture
def cart_database(postgres_server_url: str) -> Iterator[tuple[dict[str, str], str]]:
    """The environment of a platform whose databases are named with a fresh prefix, and cart's URL."""
    prefix = f"atelier_wait_{uuid.uuid4().hex[:8]}_"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_") or k.startswith("ATELIER_TEST_")}
    env.update({"ATELIER_POSTGRES_SERVER_URL": postgres_server_url, "ATELIER_DATABASE_NAME_PREFIX": prefix,
                "ATELIER_ENVIRONMENT": "test", "ATELIER_LOG_JSON": "false"})
    url = f"{postgres_server_url.rstrip('/')}/{prefix}cart".replace("postgresql://", "postgresql+psycopg://", 1)
    yield env, url
    dsn = postgres_server_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{prefix}cart" WITH (FORCE)')


def _wait(env: dict[str, str], timeout: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "atelier_platform.cli", "migrate", "--wait", "--service", "cart",
                             "--timeout", str(timeout)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_wait_returns_once_the_database_is_at_head_and_creates_nothing(cart_database: tuple[dict[str, str], str]) -> None:
    env, url = cart_database
    assert CART.migrations is not None
    migrations: Path = CART.migrations
    # No database yet: not at head, and waiting does not create it.
    gave_up = _wait(env, 0)
    _, err = gave_up.communicate(timeout=120)
    assert gave_up.returncode == 1 and "not migrated after 0s: cart" in err
    assert not at_head(migrations, url)
    waiting = _wait(env, 240)
    try:
        upgrade(migrations, url, "base")  # created, but not migrated yet: still waiting
        assert not at_head(migrations, url) and waiting.poll() is None
        upgrade(migrations, url)  # what the migrate job does
        out, err = waiting.communicate(timeout=240)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, err
    assert "migrations at head: cart" in out and at_head(migrations, url)
