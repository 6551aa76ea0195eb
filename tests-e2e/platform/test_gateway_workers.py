"""The distributed mode's gateway runs in several processes on one port (`--gateway-workers`):
each serves requests, and a token revoked by logout is refused by every one of them (the one
that served the logout at once, the others when they hear identity.token_revoked)."""

from __future__ import annotations

import time

import httpx
import pytest
from infra.journeys import customer

from atelier_testing.platform import GATEWAY_WORKERS, Platform

pytestmark = pytest.mark.e2e


async def _by_worker(url: str, headers: dict[str, str]) -> tuple[int, int]:
    """On a fresh connection: which worker accepted it, and its answer to `headers`' caller — 401
    only when the gateway itself refused (a refusal by the service behind carries the request id
    the gateway adds to every proxied answer)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as fresh:
        pid = (await fresh.get("/health")).json()["pid"]
        r = await fresh.get("/api/v1/users/me", headers=headers)
        refused_here = r.status_code == 401 and "x-request-id" not in r.headers
        return pid, 401 if refused_here else r.status_code


async def test_every_worker_serves_and_refuses_a_revoked_token(distributed_platform: Platform) -> None:
    url = distributed_platform.url
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        headers = await customer(api)
        served: dict[int, int] = {}
        deadline = time.monotonic() + 60
        while len(served) < GATEWAY_WORKERS and time.monotonic() < deadline:
            pid, status = await _by_worker(url, headers)
            served[pid] = status
        assert len(served) == GATEWAY_WORKERS, f"connections reached only workers {sorted(served)}"
        assert set(served.values()) == {200}

        assert (await api.post("/api/v1/auth/logout", headers=headers)).status_code in (200, 204)

        refused: set[int] = set()
        deadline = time.monotonic() + 60
        while len(refused) < GATEWAY_WORKERS and time.monotonic() < deadline:
            pid, status = await _by_worker(url, headers)
            if status == 401:
                refused.add(pid)
        assert refused == set(served), f"workers {sorted(set(served) - refused)} still accept the revoked token"
