"""A storefront's legal details (docs/storefronts.md#legal-details): staff set them on create and
PATCH, identity checks and stores them in the storefront's record, and its event carries them to
every copy; bad input is a 400 that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from .test_storefronts import URL, create, outbox_events, rows, storefront

LEGAL = {"name": "Atelier Trading Ltd", "address": ["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
         "tax_number": "GB 123.4567-89", "registration_number": "SC123456", "email": "Accounts@Atelier.example"}


class TestLegalDetails:
    async def test_created_with_the_storefront_stored_and_announced(self, api, staff) -> None:
        body = await create(api, staff, legal={**LEGAL, "name": "  Atelier Trading Ltd  "})
        assert body["legal"] == {**LEGAL, "email": "Accounts@atelier.example"}
        assert (await rows(api))["b"].data["legal"] == body["legal"]
        [event] = await outbox_events(api)
        assert event.data["storefront"]["legal"] == body["legal"]
        assert (await api.client.get(f"{URL}/b", headers=staff)).json()["legal"] == body["legal"]

    async def test_a_storefront_without_them_has_none(self, api, staff) -> None:
        assert (await create(api, staff))["legal"] is None

    async def test_only_the_name_is_required(self, api, staff) -> None:
        body = await create(api, staff, legal={"name": "Fox Prints GmbH"})
        assert body["legal"] == {"name": "Fox Prints GmbH", "address": [], "tax_number": None,
                                 "registration_number": None, "email": None}

    async def test_a_patch_replaces_the_block_whole_and_null_removes_it(self, api, staff) -> None:
        created = await create(api, staff, legal=LEGAL)
        response = await api.client.patch(f"{URL}/b", json={"legal": {"name": "Renamed Ltd", "tax_number": "GB1"}},
                                          headers=staff)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["legal"] == {"name": "Renamed Ltd", "address": [], "tax_number": "GB1",
                                 "registration_number": None, "email": None}
        assert {k: v for k, v in body.items() if k not in ("legal", "revision")} == {
            k: v for k, v in created.items() if k not in ("legal", "revision")}
        # A PATCH that does not name the block keeps it.
        renamed = (await api.client.patch(f"{URL}/b", json={"name": "B"}, headers=staff)).json()
        assert renamed["legal"] == body["legal"]
        cleared = await api.client.patch(f"{URL}/b", json={"legal": None}, headers=staff)
        assert cleared.status_code == 200 and cleared.json()["legal"] is None
        assert (await rows(api))["b"].data["legal"] is None
        assert [e.data["storefront"]["legal"] for e in await outbox_events(api)][-1] is None

    async def test_the_default_storefront_takes_them(self, api, staff) -> None:
        response = await api.client.patch(f"{URL}/default", json={"legal": LEGAL}, headers=staff)
        assert response.status_code == 200, response.text
        assert response.json()["legal"]["tax_number"] == LEGAL["tax_number"]
        assert (await rows(api))["default"].data["legal"]["name"] == LEGAL["name"]


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("legal.name", {"name": ""}),
    ("legal.name", {"name": "   "}),
    ("legal.name", {"name": "x" * 201}),
    ("legal.name", {"name": "Atelier\nTrading"}),
    ("legal.name", {"legal": {"address": ["Somewhere"]}}),
    ("legal.address", {"address": [f"line {n}" for n in range(7)]}),
    ("legal.address.0", {"address": ["12 Harbour Street\r\nBcc: x"]}),
    ("legal.address.1", {"address": ["12 Harbour Street", ""]}),
    ("legal.address", {"address": "12 Harbour Street"}),
    ("legal.tax_number", {"tax_number": "GB/123"}),
    ("legal.tax_number", {"tax_number": "-GB123"}),
    ("legal.tax_number", {"tax_number": "G" * 41}),
    ("legal.tax_number", {"tax_number": 123456789}),
    ("legal.registration_number", {"registration_number": "x" * 101}),
    ("legal.email", {"email": "not an address"}),
    ("legal", {"legal": "Atelier Trading Ltd"}),
]


def _legal(change: dict[str, Any]) -> Any:
    return change.get("legal", {**LEGAL, **change})


class TestLegalValidation:
    @pytest.mark.parametrize(("field", "change"), INVALID)
    async def test_a_bad_block_is_400_and_creates_nothing(self, api, staff, expect_error, field: str,
                                                          change: dict[str, Any]) -> None:
        response = await api.client.post(URL, json=storefront(legal=_legal(change)), headers=staff)
        details = expect_error(response, 400, "VALIDATION_ERROR")
        assert any(key == field or key.startswith(field + ".") for key in details["fields"]), details
        assert await rows(api) == {} and await outbox_events(api) == []

    @pytest.mark.parametrize(("field", "change"), INVALID)
    async def test_a_bad_patch_is_400_and_changes_nothing(self, api, staff, expect_error, field: str,
                                                          change: dict[str, Any]) -> None:
        created = await create(api, staff, legal=LEGAL)
        response = await api.client.patch(f"{URL}/b", json={"legal": _legal(change)}, headers=staff)
        details = expect_error(response, 400, "VALIDATION_ERROR")
        assert any(key == field or key.startswith(field + ".") for key in details["fields"]), details
        assert (await rows(api))["b"].data == created and len(await outbox_events(api)) == 1
