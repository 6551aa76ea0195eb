"""Claiming an anonymous identity at sign-in: identity's own data (addresses) moves in the same transaction."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import col, select

from atelier_identity.models import AddressBook
from atelier_testing import TestKeys


def _address(label: str, **fields: Any) -> dict[str, Any]:
    return {"label": label, "first_name": "Ada", "last_name": "Lovelace", "address_line_1": "1 Main St",
            "city": "London", "country": "GB", **fields}


async def _add(api, headers: dict[str, str], *labels: str) -> None:
    for label in labels:
        assert (await api.client.post("/api/v1/addresses", json=_address(label), headers=headers)).status_code == 201


async def _addresses(api, headers: dict[str, str]) -> list[dict[str, Any]]:
    return (await api.client.get("/api/v1/addresses", headers=headers)).json()["results"]


class TestAddressesFollowTheClaim:
    async def test_a_visitors_addresses_become_the_users_at_login(self, api, harness, test_keys: TestKeys,
                                                                  auth_header) -> None:
        await api.verified_user()
        anon_id = uuid.uuid4()
        visitor = test_keys.anon_headers(anon_id)
        await _add(api, visitor, "Delivery", "Gift")
        session = (await api.login(headers=visitor)).json()
        mine = await _addresses(api, auth_header(session["access"]))
        assert [(a["label"], a["is_primary"]) for a in mine] == [("Delivery", True), ("Gift", False)]
        assert await _addresses(api, test_keys.anon_headers(anon_id)) == []
        await harness.drain()
        assert [e.data["anon_id"] for e in harness.published("identity.anonymous_claimed")] == [str(anon_id)]

    async def test_the_users_own_primary_stays_and_clashing_labels_get_a_suffix(self, api, test_keys: TestKeys,
                                                                                 auth_header) -> None:
        await api.verified_user()
        session = (await api.login()).json()
        me = auth_header(session["access"])
        await _add(api, me, "Home")
        visitor = test_keys.anon_headers(uuid.uuid4())
        await _add(api, visitor, "Home", "Office")
        session = (await api.login(headers=visitor)).json()
        mine = await _addresses(api, auth_header(session["access"]))
        assert [(a["label"], a["is_primary"]) for a in mine] == [("Home", True), ("Home (2)", False),
                                                                ("Office", False)]

    async def test_the_limit_holds_and_the_rest_stays_with_the_visitor(self, api, test_keys: TestKeys,
                                                                       auth_header) -> None:
        await api.verified_user()
        me = auth_header((await api.login()).json()["access"])
        await _add(api, me, *[f"Mine {n}" for n in range(8)])
        anon_id = uuid.uuid4()
        visitor = test_keys.anon_headers(anon_id)
        await _add(api, visitor, "V1", "V2", "V3")
        me = auth_header((await api.login(headers=visitor)).json()["access"])
        labels = [a["label"] for a in await _addresses(api, me)]
        assert len(labels) == 10 and {"V1", "V2"} <= set(labels) and "V3" not in labels
        left = await _addresses(api, test_keys.anon_headers(anon_id))
        assert [(a["label"], a["is_primary"]) for a in left] == [("V3", True)]

    async def test_registration_claims_too(self, api, harness, test_keys: TestKeys) -> None:
        anon_id = uuid.uuid4()
        await _add(api, test_keys.anon_headers(anon_id), "Delivery")
        user = (await api.register(headers=test_keys.anon_headers(anon_id))).json()["user"]
        await harness.drain()
        [claimed] = harness.published("identity.anonymous_claimed")
        assert claimed.data == {"anon_id": str(anon_id), "user_id": user["id"]}
        response = await api.client.get("/api/v1/addresses", headers=test_keys.user_headers(uuid.UUID(user["id"])))
        assert [a["label"] for a in response.json()["results"]] == ["Delivery"]


@pytest.mark.databases("sqlite", "postgres", why="the mark is kept by an upsert written per dialect (_lock_books)")
class TestTheAnonymousMarker:
    """Housekeeping deletes only books marked anonymous: the mark must say who owns the book."""

    async def _marks(self, api) -> dict[uuid.UUID, bool]:
        async with api.h.runtime.db.read_only() as session:
            return {owner: anonymous for owner, anonymous in await session.execute(
                select(col(AddressBook.owner_id), col(AddressBook.anonymous)))}

    async def test_a_visitors_book_is_marked_and_the_users_is_not_after_the_claim(self, api, test_keys: TestKeys,
                                                                                  auth_header) -> None:
        user = await api.verified_user()
        anon_id = uuid.uuid4()
        visitor = test_keys.anon_headers(anon_id)
        await _add(api, visitor, "Delivery")
        assert await self._marks(api) == {anon_id: True}
        session = (await api.login(headers=visitor)).json()
        user_id = uuid.UUID(user["id"])
        assert await self._marks(api) == {anon_id: True, user_id: False}
        await _add(api, auth_header(session["access"]), "Office")
        assert await self._marks(api) == {anon_id: True, user_id: False}

    async def test_a_users_request_clears_a_mark_that_is_wrong(self, api, auth_header) -> None:
        user = await api.verified_user()
        user_id = uuid.UUID(user["id"])
        async with api.h.runtime.db.transaction() as session:
            session.add(AddressBook(owner_id=user_id, anonymous=True))
        me = auth_header((await api.login()).json()["access"])
        await _add(api, me, "Home")
        assert await self._marks(api) == {user_id: False}
