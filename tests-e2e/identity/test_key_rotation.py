"""Signing key rotation under load: `atelier keys rotate` while customers keep calling.

Tokens issued before the rotation keep working (0 × 401), and tokens issued after it verify at
once in every service (each refreshes its JWKS on the unknown kid), through the gateway. A leaked
key retired by force stops its tokens, those verified and remembered before included.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import jwt
import pytest
from infra.identity_steps import bearer, error_code, signed_in_customer
from infra.journeys import forget_staff, poll

from atelier_testing.platform import Platform

pytestmark = pytest.mark.modes("embedded", "distributed",
                               why="a revocation heard in the process (embedded) or broadcast to every gateway process (distributed)")

# Identity (its own routes), orders and cart: three services verifying the same tokens.
PATHS = ("/api/v1/users/me", "/api/v1/orders", "/api/v1/cart")
# And generation's and payments' too.
EVERY_SERVICE = (*PATHS, "/api/v1/credits/balance", "/api/v1/billing/ledger")


def _kid(access: str) -> str:
    return str(jwt.get_unverified_header(access)["kid"])


async def test_a_rotation_during_load_signs_nobody_out(platform: Platform, api: httpx.AsyncClient) -> None:
    customers = [await signed_in_customer(api) for _ in range(3)]
    # Issued before the rotation but first used after it: no process has them in its cache of
    # verified tokens, so they verify against the published keys then.
    unused = [await signed_in_customer(api) for _ in range(2)]
    old_kid = _kid(customers[0]["access"])
    statuses: Counter[tuple[str, int]] = Counter()
    refused: list[str] = []
    tokens = {c["id"]: c["access"] for c in customers}  # each caller's current token
    stop = asyncio.Event()

    async def caller(customer_id: str, label: str) -> None:
        while not stop.is_set():
            for path in PATHS:
                access = tokens[customer_id] if label == "current" else old[customer_id]
                response = await api.get(path, headers=bearer(access))
                statuses[(label, response.status_code)] += 1
                if response.status_code != 200:
                    refused.append(f"{label} {path} kid={_kid(access)}: {response.status_code} {response.text}")

    old = dict(tokens)  # issued before the rotation: used until the end

    def served(count: int):
        async def check() -> bool:
            return sum(statuses.values()) >= count
        return check

    callers = [asyncio.create_task(caller(cid, label)) for cid in tokens for label in ("old", "current")]
    try:
        await poll(served(30), timeout=120, message="load running")
        rotated = json.loads((await platform.atelier("keys", "rotate")).stdout)
        assert rotated["state"] == "active" and rotated["kid"] != old_kid

        # Within seconds every identity process signs with the new key; its first token verifies
        # everywhere on its first request. Refreshing (not signing in) keeps within sign-in limits.
        async def new_token() -> str | None:
            response = await api.post("/api/v1/auth/refresh", json={"refresh": customers[0]["refresh"]})
            assert response.status_code == 200, response.text
            body = response.json()
            customers[0]["refresh"] = body["refresh"]
            return body["access"] if _kid(body["access"]) == rotated["kid"] else None

        fresh = await poll(new_token, timeout=60, interval=1.0, message="a token signed with the new key")
        for path in PATHS:
            response = await api.get(path, headers=bearer(fresh))
            assert response.status_code == 200, (path, response.text)
        tokens[customers[0]["id"]] = fresh
        for customer in unused:
            for path in PATHS:
                response = await api.get(path, headers=bearer(customer["access"]))
                assert response.status_code == 200, (path, response.text)
        seen = sum(statuses.values())
        await poll(served(seen + 30), timeout=120, message="load after rotation")
    finally:
        stop.set()
        await asyncio.gather(*callers)

    assert refused == []
    assert statuses[("old", 200)] > 0 and statuses[("current", 200)] > 0
    kids = [k["kid"] for k in (await api.get("/.well-known/jwks.json")).json()["keys"]]
    assert rotated["kid"] in kids and old_kid in kids  # both published during the overlap
    states = {json.loads(line)["kid"]: json.loads(line)["state"]
              for line in (await platform.atelier("keys", "list")).stdout.splitlines()}
    assert states[rotated["kid"]] == "active" and states[old_kid] == "published"


async def test_a_leaked_key_retired_by_force_stops_the_tokens_verified_before(platform: Platform,
                                                                              api: httpx.AsyncClient) -> None:
    customer = await signed_in_customer(api)
    leaked = _kid(customer["access"])
    for path in EVERY_SERVICE:  # verified, and remembered, by the gateway and the service
        response = await api.get(path, headers=bearer(customer["access"]))
        assert response.status_code == 200, (path, response.text)
    rotated = json.loads((await platform.atelier("keys", "rotate")).stdout)

    async def new_token() -> str | None:
        response = await api.post("/api/v1/auth/refresh", json={"refresh": customer["refresh"]})
        assert response.status_code == 200, response.text
        customer["refresh"] = response.json()["refresh"]
        access: str = response.json()["access"]
        return access if _kid(access) == rotated["kid"] else None

    fresh = await poll(new_token, timeout=60, interval=1.0, message="a token signed with the new key")
    try:
        [retired] = [json.loads(line) for line in
                     (await platform.atelier("keys", "retire", leaked, "--force")).stdout.splitlines()]
        assert (retired["kid"], retired["state"]) == (leaked, "retired")

        async def refused_everywhere() -> bool:
            for path in EVERY_SERVICE:
                response = await api.get(path, headers=bearer(customer["access"]))
                if (response.status_code, error_code(response)) != (401, "INVALID_TOKEN"):
                    return False
            return True

        # Within seconds (identity.key_retired), well before any cache's lifetime would end.
        await poll(refused_everywhere, timeout=45, interval=0.5, message="the leaked key's token refused")
        for path in EVERY_SERVICE:
            response = await api.get(path, headers=bearer(fresh))
            assert response.status_code == 200, (path, response.text)
        kids = [k["kid"] for k in (await api.get("/.well-known/jwks.json")).json()["keys"]]
        assert leaked not in kids and rotated["kid"] in kids
    finally:
        forget_staff()  # the staff session the other tests share may be one the leaked key signed
