"""Seed frontends talking to their compatibility profiles: each test is a new visitor (own client address)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from infra.identity_steps import visitor_client

from atelier_testing.platform import Platform

SeedClient = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The native API (`/api/v1`), for reading back what a seed client did."""
    async with visitor_client(platform.url) as client:
        yield client


@pytest.fixture
def seed_client(platform: Platform) -> SeedClient:
    """`async with seed_client("marbelle") as s:` a frontend whose base URL is the profile's prefix."""
    return lambda profile: visitor_client(f"{platform.url}/compat/{profile}")
