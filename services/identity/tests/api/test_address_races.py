"""Parallel address changes for one owner: the address book lock keeps S1's limits exact."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from atelier_testing import TestKeys

pytestmark = pytest.mark.databases("sqlite", "postgres", why="parallel transactions against the database's locks")


def _address(label: str) -> dict[str, str]:
    return {"label": label, "first_name": "Ada", "last_name": "Lovelace", "address_line_1": "1 Main St",
            "city": "London", "country": "GB"}


async def _in_parallel(api, headers: dict[str, str], prefix: str, count: int) -> list[httpx.Response]:
    """`count` addresses (labelled `prefix` and a number) created at once."""
    return await asyncio.gather(*(api.client.post("/api/v1/addresses", json=_address(f"{prefix}{n}"), headers=headers)
                                  for n in range(count)))


class TestParallelCreation:
    @pytest.mark.parametrize("existing", [10, 5], ids=["at-the-limit", "below-it"])
    async def test_parallel_creations_past_the_limit_stop_at_exactly_ten(self, api, test_keys: TestKeys,
                                                                         existing: int) -> None:
        """Ten at once on a book holding `existing`: those that fit are made, the others refused."""
        headers = test_keys.user_headers(uuid.uuid4())
        for n in range(existing):
            created = await api.client.post("/api/v1/addresses", json=_address(f"A{n}"), headers=headers)
            assert created.status_code == 201
        responses = await _in_parallel(api, headers, "B", 10)
        assert sorted(r.status_code for r in responses) == [201] * (10 - existing) + [409] * existing
        listed = (await api.client.get("/api/v1/addresses", headers=headers)).json()
        assert listed["count"] == 10
        assert sum(a["is_primary"] for a in listed["results"]) == 1

    async def test_parallel_first_addresses_make_exactly_one_primary(self, api, test_keys: TestKeys) -> None:
        headers = test_keys.anon_headers(uuid.uuid4())
        responses = await _in_parallel(api, headers, "C", 6)
        assert [r.status_code for r in responses] == [201] * 6
        assert sum(r.json()["is_primary"] for r in responses) == 1

    async def test_parallel_deletions_never_delete_the_last_address(self, api, test_keys: TestKeys) -> None:
        headers = test_keys.user_headers(uuid.uuid4())
        ids = [(await api.client.post("/api/v1/addresses", json=_address(f"D{n}"), headers=headers)).json()["id"]
               for n in range(4)]
        responses = await asyncio.gather(*(api.client.delete(f"/api/v1/addresses/{i}", headers=headers) for i in ids))
        assert sorted(r.status_code for r in responses) == [204, 204, 204, 409]
        [left] = (await api.client.get("/api/v1/addresses", headers=headers)).json()["results"]
        assert left["is_primary"] is True
