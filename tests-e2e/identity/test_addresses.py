"""Addresses: one owner can reach none of another's (404), whatever id it tries; the limit of ten holds
under parallel requests. Through the gateway, both modes."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from infra.identity_steps import address, addresses, bearer, expect_error, signed_in_customer, visitor

pytestmark = pytest.mark.e2e

ROUTES = [("GET", "", None), ("PUT", "", {"city": "Stolen"}), ("PATCH", "", {"label": "Mine now"}),
          ("DELETE", "", None), ("POST", "/set-primary", None), ("PATCH", "/set-primary", None)]


async def _create(api: httpx.AsyncClient, headers: dict[str, str], label: str, **fields: object) -> dict:
    r = await api.post("/api/v1/addresses", json=address(label, **fields), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_user_can_read_change_or_delete_none_of_another_users_addresses(api: httpx.AsyncClient) -> None:
    async with visitor(api) as a_client, visitor(api) as b_client:
        a, b = await signed_in_customer(a_client), await signed_in_customer(b_client)
        a_auth, b_auth = bearer(a["access"]), bearer(b["access"])
        b_home = await _create(b_client, b_auth, "Home", email=b["email"])
        b_work = await _create(b_client, b_auth, "Work", type="billing")
        mine = await _create(a_client, a_auth, "Mine")
        b_before = await addresses(b_client, b_auth)
        assert {x["id"] for x in b_before} == {b_home["id"], b_work["id"]}

        # Ids taken from B's answers (the create responses and B's list), as they are and re-spelled.
        targets = {b_home["id"], b_work["id"], *(x["id"] for x in b_before)}
        targets |= {t.upper() for t in targets} | {uuid.UUID(t).hex for t in targets}
        for target in sorted(targets):
            for method, suffix, body in ROUTES:
                r = await a_client.request(method, f"/api/v1/addresses/{target}{suffix}", json=body, headers=a_auth)
                expect_error(r, 404, "ADDRESS_NOT_FOUND")
        # B's account id is no address id either; neither is a guess.
        for guess in (b["id"], str(uuid.uuid4())):
            expect_error(await a_client.get(f"/api/v1/addresses/{guess}", headers=a_auth), 404, "ADDRESS_NOT_FOUND")
        # The service's internal route (which takes an owner id) is never reachable through the gateway.
        r = await a_client.get(f"/internal/addresses/{b_home['id']}", params={"owner_id": b["id"]})
        assert r.status_code == 404 and "Stolen" not in r.text and b["email"] not in r.text
        # An anonymous visitor fares no better.
        async with visitor(api) as stranger:
            expect_error(await stranger.get(f"/api/v1/addresses/{b_home['id']}"), 404, "ADDRESS_NOT_FOUND")
            assert await addresses(stranger, {}) == []

        # Nothing of B's changed or leaked; A still has only its own.
        assert await addresses(b_client, b_auth) == b_before
        assert [x["id"] for x in await addresses(a_client, a_auth)] == [mine["id"]]
        # B's own requests on the same ids do work (so the 404s above were about the owner).
        r = await b_client.patch(f"/api/v1/addresses/{b_work['id']}", json={"city": "Paris"}, headers=b_auth)
        assert r.status_code == 200 and r.json()["city"] == "Paris", r.text


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_ten_parallel_attempts_at_an_eleventh_address_leave_exactly_ten(api: httpx.AsyncClient) -> None:
    customer = await signed_in_customer(api)
    auth = bearer(customer["access"])
    for n in range(10):
        await _create(api, auth, f"Home {n}")

    answers = await asyncio.gather(*(api.post("/api/v1/addresses", json=address(f"Extra {n}"), headers=auth)
                                     for n in range(10)))
    assert [(r.status_code, r.json()["error"]["code"]) for r in answers] == [(409, "ADDRESS_LIMIT_REACHED")] * 10
    listed = await addresses(api, auth)
    assert sorted(x["label"] for x in listed) == sorted(f"Home {n}" for n in range(10))
    assert sum(x["is_primary"] for x in listed) == 1


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_ten_parallel_attempts_at_the_last_free_place_make_exactly_one_address(api: httpx.AsyncClient) -> None:
    customer = await signed_in_customer(api)
    auth = bearer(customer["access"])
    for n in range(9):
        await _create(api, auth, f"Home {n}")

    answers = await asyncio.gather(*(api.post("/api/v1/addresses", json=address(f"Extra {n}"), headers=auth)
                                     for n in range(10)))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 9, [r.text for r in answers]
    listed = await addresses(api, auth)
    assert len(listed) == 10
    [winner] = [r.json()["id"] for r in answers if r.status_code == 201]
    assert winner in {x["id"] for x in listed}
    assert sum(x["is_primary"] for x in listed) == 1
