"""/api/v1/addresses: S1's rules, S3's field names, anonymous owners (S0), and isolation between owners."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from atelier_testing import TestKeys

SERVICE = {"X-Service-Token": "changethis"}


def address(label: str | None = "Home", **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Ada", "last_name": "Lovelace", "address_line_1": "12 St James's Square",
            "address_line_2": "Flat 2", "city": "London", "state": "", "postal_code": "SW1Y 4JH", "country": "GB",
            "phone": "+44 20 7946 0000", **fields}
    if label is not None:
        body["label"] = label
    return body


@pytest.fixture
def ada(test_keys: TestKeys) -> dict[str, str]:
    return test_keys.user_headers(uuid.uuid4())


@pytest.fixture
def bob(test_keys: TestKeys) -> dict[str, str]:
    return test_keys.user_headers(uuid.uuid4())


async def _create(api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await api.client.post("/api/v1/addresses", json=address(**fields), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _list(api, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.client.get("/api/v1/addresses", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


class TestCreate:
    async def test_answers_s1_fields_plus_type_email_and_full_name(self, api, ada) -> None:
        created = await _create(api, ada, email="ada@example.com")
        assert set(created) == {"id", "label", "type", "first_name", "last_name", "full_name", "company",
                                "address_line_1", "address_line_2", "city", "state", "postal_code", "country",
                                "phone", "email", "is_primary", "created_at", "updated_at"}
        assert (created["label"], created["type"], created["full_name"]) == ("Home", "shipping", "Ada Lovelace")
        assert (created["email"], created["is_primary"]) == ("ada@example.com", True)

    async def test_the_first_address_is_primary_and_later_ones_are_not(self, api, ada) -> None:
        first = await _create(api, ada, label="Home")
        second = await _create(api, ada, label="Work")
        assert (first["is_primary"], second["is_primary"]) == (True, False)

    async def test_a_new_address_may_take_the_primary_place(self, api, ada) -> None:
        await _create(api, ada, label="Home")
        work = await _create(api, ada, label="Work", is_primary=True)
        listed = await _list(api, ada)
        assert [(a["label"], a["is_primary"]) for a in listed] == [("Work", True), ("Home", False)]
        assert work["is_primary"] is True

    async def test_s3_field_names_are_accepted(self, api, ada) -> None:
        response = await api.client.post("/api/v1/addresses", headers=ada, json={
            "address_type": "billing", "full_name": "Grace Brewster Hopper", "phone_number": "+1 555 0100",
            "street_address": "456 Oak Ave", "apartment": "Suite 9", "city": "Los Angeles", "state": "CA",
            "country": "USA", "zip_code": "90001", "is_default": False})
        assert response.status_code == 201, response.text
        created = response.json()
        assert (created["type"], created["first_name"], created["last_name"]) == ("billing", "Grace",
                                                                                  "Brewster Hopper")
        assert (created["address_line_1"], created["address_line_2"], created["postal_code"]) == (
            "456 Oak Ave", "Suite 9", "90001")
        assert created["label"] == "Billing"  # S3 sends no label: one is made up from the type
        assert created["is_primary"] is True  # the first address, whatever is_default says

    async def test_labels_are_unique_per_owner_whatever_their_case(self, api, ada, bob, expect_error) -> None:
        await _create(api, ada, label="Home")
        response = await api.client.post("/api/v1/addresses", json=address(label="HOME"), headers=ada)
        expect_error(response, 409, "ADDRESS_LABEL_EXISTS")
        await _create(api, bob, label="Home")  # another owner may use it

    async def test_at_most_ten_addresses(self, api, ada, expect_error) -> None:
        for n in range(10):
            await _create(api, ada, label=f"Address {n}")
        details = expect_error(await api.client.post("/api/v1/addresses", json=address(label="Eleventh"),
                                                     headers=ada), 409, "ADDRESS_LIMIT_REACHED")
        assert details == {"limit": 10}
        assert len(await _list(api, ada)) == 10

    @pytest.mark.parametrize(("body", "field"), [
        ({"city": None}, "city"), ({"country": "G"}, "country"), ({"type": "holiday"}, "type"),
        ({"email": "not-an-email"}, "email"), ({"label": ""}, "label"), ({"first_name": 5}, "first_name"),
    ])
    async def test_invalid_fields_are_validation_errors(self, api, ada, expect_error, body, field) -> None:
        details = expect_error(await api.client.post("/api/v1/addresses", json={**address(), **body}, headers=ada),
                               400, "VALIDATION_ERROR")
        assert field in details["fields"]

    async def test_missing_required_fields_are_named(self, api, ada, expect_error) -> None:
        details = expect_error(await api.client.post("/api/v1/addresses", json={"label": "x"}, headers=ada),
                               400, "VALIDATION_ERROR")
        assert {"first_name", "address_line_1", "city", "country"} <= set(details["fields"])

    async def test_without_any_token_it_is_401(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/addresses", json=address()), 401, "AUTHENTICATION_REQUIRED")


class TestAnonymousOwners:
    async def test_an_anonymous_visitor_keeps_addresses_of_its_own(self, api, test_keys: TestKeys) -> None:
        visitor = test_keys.anon_headers(uuid.uuid4())
        created = await _create(api, visitor, email="guest@example.com")
        assert [a["id"] for a in await _list(api, visitor)] == [created["id"]]
        assert await _list(api, test_keys.anon_headers(uuid.uuid4())) == []

    async def test_with_a_bearer_token_the_user_owns_not_the_anonymous_id(self, api, test_keys: TestKeys) -> None:
        user_id, anon_id = uuid.uuid4(), uuid.uuid4()
        both = {**test_keys.user_headers(user_id), **test_keys.anon_headers(anon_id)}
        await _create(api, both)
        assert await _list(api, test_keys.anon_headers(anon_id)) == []
        assert len(await _list(api, test_keys.user_headers(user_id))) == 1


class TestList:
    async def test_primary_first_then_oldest_first_as_a_page(self, api, ada) -> None:
        for label in ("A", "B", "C"):
            await _create(api, ada, label=label)
        await api.client.post(f"/api/v1/addresses/{(await _list(api, ada))[2]['id']}/set-primary", headers=ada)
        response = await api.client.get("/api/v1/addresses", headers=ada, params={"page_size": 2})
        body = response.json()
        assert (body["count"], body["previous"]) == (3, None) and body["next"]
        assert [a["label"] for a in body["results"]] == ["C", "A"]


class TestUpdate:
    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    async def test_changes_only_the_fields_sent(self, api, ada, method: str) -> None:
        created = await _create(api, ada)
        response = await api.client.request(method, f"/api/v1/addresses/{created['id']}", headers=ada,
                                            json={"city": "Bath", "address_line_2": None})
        assert response.status_code == 200, response.text
        updated = response.json()
        assert (updated["city"], updated["address_line_2"], updated["address_line_1"]) == (
            "Bath", None, created["address_line_1"])
        assert updated["updated_at"] >= created["updated_at"]

    async def test_a_label_taken_by_another_address_is_409(self, api, ada, expect_error) -> None:
        await _create(api, ada, label="Home")
        work = await _create(api, ada, label="Work")
        response = await api.client.patch(f"/api/v1/addresses/{work['id']}", json={"label": "home"}, headers=ada)
        expect_error(response, 409, "ADDRESS_LABEL_EXISTS")
        same = await api.client.patch(f"/api/v1/addresses/{work['id']}", json={"label": "Work"}, headers=ada)
        assert same.status_code == 200

    async def test_is_primary_true_moves_the_primary_and_false_changes_nothing(self, api, ada) -> None:
        home = await _create(api, ada, label="Home")
        work = await _create(api, ada, label="Work")
        await api.client.patch(f"/api/v1/addresses/{work['id']}", json={"is_primary": True}, headers=ada)
        await api.client.patch(f"/api/v1/addresses/{work['id']}", json={"is_primary": False}, headers=ada)
        assert {a["label"]: a["is_primary"] for a in await _list(api, ada)} == {"Work": True, "Home": False}
        assert home["id"] != work["id"]

    async def test_required_fields_cannot_be_cleared(self, api, ada, expect_error) -> None:
        created = await _create(api, ada)
        response = await api.client.patch(f"/api/v1/addresses/{created['id']}", json={"city": None}, headers=ada)
        assert "city" in expect_error(response, 400, "VALIDATION_ERROR")["fields"]


class TestSetPrimary:
    @pytest.mark.parametrize("method", ["POST", "PATCH"])
    async def test_exactly_one_primary_remains(self, api, ada, method: str) -> None:
        await _create(api, ada, label="Home")
        work = await _create(api, ada, label="Work")
        response = await api.client.request(method, f"/api/v1/addresses/{work['id']}/set-primary", headers=ada)
        assert response.status_code == 200 and response.json()["is_primary"] is True
        assert [a["label"] for a in await _list(api, ada) if a["is_primary"]] == ["Work"]


class TestDelete:
    async def test_the_last_address_cannot_be_deleted(self, api, ada, expect_error) -> None:
        only = await _create(api, ada)
        expect_error(await api.client.delete(f"/api/v1/addresses/{only['id']}", headers=ada), 409,
                     "ADDRESS_NOT_DELETABLE")
        assert len(await _list(api, ada)) == 1

    async def test_deleting_the_primary_promotes_the_oldest_remaining(self, api, ada) -> None:
        home = await _create(api, ada, label="Home")
        await _create(api, ada, label="Work")
        await _create(api, ada, label="Holiday")
        response = await api.client.delete(f"/api/v1/addresses/{home['id']}", headers=ada)
        assert response.status_code == 204 and response.content == b""
        assert [(a["label"], a["is_primary"]) for a in await _list(api, ada)] == [("Work", True), ("Holiday", False)]

    async def test_deleting_another_address_keeps_the_primary(self, api, ada) -> None:
        await _create(api, ada, label="Home")
        work = await _create(api, ada, label="Work")
        await api.client.delete(f"/api/v1/addresses/{work['id']}", headers=ada)
        assert [(a["label"], a["is_primary"]) for a in await _list(api, ada)] == [("Home", True)]


class TestIsolation:
    """User A can read, change or delete none of user B's addresses, even with ids taken from B's answers."""

    @pytest.fixture
    async def bobs(self, api, bob) -> list[dict[str, Any]]:
        return [await _create(api, bob, label="Home"), await _create(api, bob, label="Work")]

    @pytest.mark.parametrize(("method", "suffix", "body"), [
        ("GET", "", None), ("PUT", "", {"city": "Stolen"}), ("PATCH", "", {"city": "Stolen"}), ("DELETE", "", None),
        ("POST", "/set-primary", None), ("PATCH", "/set-primary", None),
    ])
    async def test_every_route_answers_404_for_another_owners_address(self, api, ada, bob, bobs, expect_error,
                                                                      method, suffix, body) -> None:
        await _create(api, ada, label="Mine")
        for target in bobs:
            response = await api.client.request(method, f"/api/v1/addresses/{target['id']}{suffix}", json=body,
                                                headers=ada)
            expect_error(response, 404, "ADDRESS_NOT_FOUND")
        assert await _list(api, bob) == bobs  # untouched
        assert [a["label"] for a in await _list(api, ada)] == ["Mine"]

    async def test_an_anonymous_visitor_cannot_reach_a_users_address(self, api, bobs, test_keys: TestKeys,
                                                                     expect_error) -> None:
        response = await api.client.get(f"/api/v1/addresses/{bobs[0]['id']}", headers=test_keys.anon_headers())
        expect_error(response, 404, "ADDRESS_NOT_FOUND")

    async def test_an_unknown_id_is_404_and_a_malformed_one_400(self, api, ada, expect_error) -> None:
        expect_error(await api.client.get(f"/api/v1/addresses/{uuid.uuid4()}", headers=ada), 404, "ADDRESS_NOT_FOUND")
        expect_error(await api.client.get("/api/v1/addresses/42", headers=ada), 400, "VALIDATION_ERROR")


class TestInternalAddress:
    async def test_answers_the_owner_its_address_with_s3_names_too(self, api, test_keys: TestKeys) -> None:
        owner = uuid.uuid4()
        created = await _create(api, test_keys.user_headers(owner), email="ada@example.com", type="billing")
        response = await api.client.get(f"/internal/addresses/{created['id']}", params={"owner_id": str(owner)},
                                        headers=SERVICE)
        assert response.status_code == 200, response.text
        body = response.json()
        assert {"id", "label", "type", "first_name", "last_name", "full_name", "email", "phone", "company",
                "street_address", "apartment", "city", "state", "postal_code", "country", "is_primary"} <= set(body)
        assert (body["street_address"], body["apartment"], body["full_name"]) == (
            "12 St James's Square", "Flat 2", "Ada Lovelace")
        assert (body["type"], body["email"]) == ("billing", "ada@example.com")

    async def test_an_anonymous_owner_is_answered_too(self, api, test_keys: TestKeys) -> None:
        anon_id = uuid.uuid4()
        created = await _create(api, test_keys.anon_headers(anon_id))
        response = await api.client.get(f"/internal/addresses/{created['id']}", params={"owner_id": str(anon_id)},
                                        headers=SERVICE)
        assert response.status_code == 200
        assert response.json()["owner_tax_number"] is None  # no account, no tax number

    async def test_the_owners_tax_number_comes_with_it(self, api, auth_header) -> None:
        """What orders prints on the invoice of an order that names no tax number of its own."""
        session = await api.signed_in()
        headers = auth_header(session["access"])
        created = await _create(api, headers)
        owner = (await api.client.get("/api/v1/users/me", headers=headers)).json()["id"]

        async def read() -> dict[str, Any]:
            response = await api.client.get(f"/internal/addresses/{created['id']}", params={"owner_id": owner},
                                            headers=SERVICE)
            assert response.status_code == 200, response.text
            return dict(response.json())

        assert (await read())["owner_tax_number"] is None
        await api.client.patch("/api/v1/users/me", headers=headers, json={"tax_number": "DE123456789"})
        assert (await read())["owner_tax_number"] == "DE123456789"

    async def test_another_owner_or_no_credential_is_refused(self, api, ada, expect_error) -> None:
        created = await _create(api, ada)
        response = await api.client.get(f"/internal/addresses/{created['id']}", params={"owner_id": str(uuid.uuid4())},
                                        headers=SERVICE)
        expect_error(response, 404, "ADDRESS_NOT_FOUND")
        response = await api.client.get(f"/internal/addresses/{created['id']}", params={"owner_id": str(uuid.uuid4())})
        expect_error(response, 401, "AUTHENTICATION_REQUIRED")
