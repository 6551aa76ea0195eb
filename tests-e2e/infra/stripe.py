"""The fake Stripe server payments' own tests use (`atelier_testing.fakes.stripe`), and the platform
settings that point payments at it (the `stripe` provider)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from infra.oidc import identity_env

from atelier_testing.fakes import stripe as stripe_fake
from atelier_testing.platform import Platform, distributed, embedded


def fake_stripe() -> ModuleType:
    return stripe_fake


def stripe_env(server_url: str) -> dict[str, str]:
    module = fake_stripe()
    return {"ATELIER_PAYMENTS_PROVIDER": "stripe", "ATELIER_PAYMENTS_STRIPE_API_KEY": module.API_KEY,
            "ATELIER_PAYMENTS_STRIPE_WEBHOOK_SECRET": module.WEBHOOK_SECRET,
            "ATELIER_PAYMENTS_STRIPE_API_BASE": server_url}


@contextlib.contextmanager
def served_stripe() -> Iterator[Any]:
    server = fake_stripe().FakeStripeServer().start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def stripe_platform(request: pytest.FixtureRequest, mode: str, name: str, stripe_server: Any,
                    oidc_provider: Any) -> Iterator[Platform]:
    """A platform of the `mode` whose payments use the `stripe` provider against
    `stripe_server`, beside the session's. Distributed, it runs one process per service (the
    session's platform covers the split topology) with small pools, which keeps the two platforms
    within PostgreSQL's max_connections."""
    env = {**identity_env(oidc_provider), **stripe_env(stripe_server.url)}
    tmp = request.getfixturevalue("tmp_path_factory").mktemp(name)
    if mode == "embedded":
        with embedded(tmp, env) as platform:
            yield platform
    else:
        with distributed(tmp, request.getfixturevalue("postgres_server_url"), request.getfixturevalue("amqp_url"),
                         env, split=False) as platform:
            yield platform
