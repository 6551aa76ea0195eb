"""Single-use tokens under concurrent requests: guarded updates, never read-then-write."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from atelier_identity.models import RefreshToken

pytestmark = pytest.mark.databases("sqlite", "postgres", why="parallel transactions against the database's locks")


class TestConcurrentUse:
    async def test_one_refresh_token_rotates_once(self, api) -> None:
        session = await api.signed_in()
        api.client.cookies.clear()
        responses = await asyncio.gather(*(api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
                                           for _ in range(4)))
        assert sorted(r.status_code for r in responses) == [200, 401, 401, 401]
        async with api.h.runtime.db.read_only() as s:
            issued = (await s.exec(select(RefreshToken))).all()
        assert len(issued) == 2  # the login's token and exactly one successor

    async def test_one_verification_link_is_used_once(self, api) -> None:
        await api.register()
        token = await api.mailed_token("ada@example.com")
        responses = await asyncio.gather(*(api.client.post("/api/v1/auth/verify-email", json={"token": token})
                                           for _ in range(4)))
        assert sorted(r.status_code for r in responses) == [200, 400, 400, 400]

    async def test_one_email_registers_once(self, api) -> None:
        responses = await asyncio.gather(*(api.register("ada@example.com") for _ in range(4)))
        assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
