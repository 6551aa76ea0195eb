"""The staff routes of shipping zones and methods (#56): merchandisers and admins only, each write a
storefront write (a new revision, `storefront.changed`, audited), a bad body a 400 that changes
nothing, ids stable in the storefront document every service copies."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_testing.tokens import TestKeys

from .test_storefronts import create, outbox_events

ZONES = "/api/v1/staff/shipping-zones"
US: dict[str, Any] = {"storefront": "b", "name": "United States", "countries": ["us"], "tax_rate": "0.0725"}


@pytest.fixture
def staff(test_keys: TestKeys) -> dict[str, str]:
    return test_keys.staff_headers("merchandiser")


@pytest.fixture
async def zone(api, test_keys: TestKeys, staff) -> dict[str, Any]:
    await create(api, test_keys.staff_headers())
    response = await api.client.post(ZONES, json=US, headers=staff)
    assert response.status_code == 201, response.text
    return response.json()


async def _storefront(api, test_keys: TestKeys) -> dict[str, Any]:
    response = await api.client.get("/api/v1/storefronts/b", headers=test_keys.staff_headers())
    return response.json()


class TestZones:
    async def test_a_zone_is_created_in_its_storefront_and_announced(self, api, test_keys, zone) -> None:
        assert zone["countries"] == ["US"] and zone["tax_rate"] == "0.0725" and zone["storefront"] == "b"
        assert zone["tax_inclusive"] is None and zone["methods"] == []
        # Its methods' prices are in its storefront's currency, which the zone names.
        assert zone["currency"] == (await _storefront(api, test_keys))["currency"]
        [stored] = (await _storefront(api, test_keys))["shipping_zones"]
        assert stored["id"] == zone["id"]
        events = await outbox_events(api)
        assert events[-1].data["storefront"]["shipping_zones"][0]["id"] == zone["id"]

    async def test_a_zone_without_storefront_is_the_requests(self, api, staff) -> None:
        response = await api.client.post(ZONES, json={"name": "Everywhere", "countries": ["*"], "tax_rate": "0"},
                                         headers=staff)
        assert response.status_code == 201, response.text
        assert response.json()["storefront"] == "default"

    async def test_patch_changes_what_is_sent_and_delete_removes(self, api, test_keys, staff, zone) -> None:
        url = f"{ZONES}/{zone['id']}"
        response = await api.client.patch(url, json={"tax_inclusive": True, "name": "USA"}, headers=staff)
        assert response.status_code == 200, response.text
        assert (response.json()["name"], response.json()["tax_inclusive"], response.json()["countries"]) == (
            "USA", True, ["US"])
        listed = (await api.client.get(ZONES, params={"storefront": "b"}, headers=staff)).json()["results"]
        assert [z["id"] for z in listed] == [zone["id"]]
        assert (await api.client.delete(url, headers=staff)).status_code == 204
        assert (await api.client.get(url, headers=staff)).status_code == 404
        assert (await _storefront(api, test_keys))["shipping_zones"] == []

    @pytest.mark.parametrize("body", [
        {**US, "countries": ["USA"]}, {**US, "tax_rate": "2"}, {**US, "name": ""}, {"storefront": "b"},
        {**US, "countries": []},  # covers nowhere
        {**US, "tax_rates": {"luxury": "0.3"}}, {**US, "tax_rates": {"reduced": "1.5"}},
        {**US, "tax_rates": {"standard": "0.1"}},
        {**US, "storefront": "b", "countries": ["US"]},  # US is in a zone already
    ])
    async def test_a_bad_zone_is_400_and_changes_nothing(self, api, test_keys, staff, zone, body) -> None:
        before = await _storefront(api, test_keys)
        response = await api.client.post(ZONES, json=body, headers=staff)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert await _storefront(api, test_keys) == before

    async def test_a_zones_class_rates_are_set_replaced_and_cleared(self, api, test_keys, staff, zone) -> None:
        assert zone["tax_rates"] is None
        url = f"{ZONES}/{zone['id']}"
        response = await api.client.patch(url, json={"tax_rates": {"reduced": "0.055", "zero": "0"}}, headers=staff)
        assert response.status_code == 200, response.text
        assert response.json()["tax_rates"] == {"reduced": "0.055", "zero": "0"}
        [stored] = (await _storefront(api, test_keys))["shipping_zones"]
        assert stored["tax_rates"] == {"reduced": "0.055", "zero": "0"}
        response = await api.client.patch(url, json={"tax_rates": None}, headers=staff)
        assert response.status_code == 200 and response.json()["tax_rates"] is None

    async def test_an_unknown_zone_is_404(self, api, staff) -> None:
        response = await api.client.patch(f"{ZONES}/00000000-0000-0000-0000-000000000000", json={"name": "x"},
                                          headers=staff)
        assert response.status_code == 404


class TestMethods:
    async def test_methods_are_added_edited_and_removed(self, api, test_keys, staff, zone) -> None:
        url = f"{ZONES}/{zone['id']}/methods"
        response = await api.client.post(url, json={"name": "Standard", "kind": "flat", "price": "5",
                                                    "free_over": "100"}, headers=staff)
        assert response.status_code == 201, response.text
        flat = response.json()
        assert (flat["name"], flat["kind"], flat["price"], flat["free_over"]) == ("Standard", "flat", "5.00", "100.00")
        response = await api.client.post(url, json={"name": "Heavy", "kind": "weight", "price": "5",
                                                    "rates": [{"min": 0, "amount": "5"}, {"min": 2000, "amount": "9"}]},
                                         headers=staff)
        assert response.status_code == 201, response.text
        heavy = response.json()
        assert heavy["rates"] == [{"min": "0.00", "amount": "5.00"}, {"min": "2000.00", "amount": "9.00"}]
        response = await api.client.patch(f"{url}/{flat['id']}", json={"price": "6.5"}, headers=staff)
        assert response.status_code == 200, response.text
        assert (response.json()["price"], response.json()["name"]) == ("6.50", "Standard")
        [stored] = (await _storefront(api, test_keys))["shipping_zones"]
        assert [m["id"] for m in stored["methods"]] == [flat["id"], heavy["id"]]
        assert stored["methods"][0]["amount"] == "6.50"
        assert (await api.client.delete(f"{url}/{heavy['id']}", headers=staff)).status_code == 204
        assert (await api.client.delete(f"{url}/{heavy['id']}", headers=staff)).status_code == 404
        [stored] = (await _storefront(api, test_keys))["shipping_zones"]
        assert [m["id"] for m in stored["methods"]] == [flat["id"]]

    @pytest.mark.parametrize("body", [
        {"name": "X", "kind": "drone", "price": "1"}, {"name": "X", "price": "-1"},
        {"name": "X", "kind": "weight", "rates": [{"min": 5, "amount": "1"}]},  # must start at 0
    ])
    async def test_a_bad_method_is_400_and_changes_nothing(self, api, test_keys, staff, zone, body) -> None:
        before = await _storefront(api, test_keys)
        response = await api.client.post(f"{ZONES}/{zone['id']}/methods", json=body, headers=staff)
        assert response.status_code == 400, response.text
        assert await _storefront(api, test_keys) == before


class TestRoles:
    @pytest.mark.parametrize(("role", "allowed"), [("merchandiser", True), ("admin", True), ("support", False),
                                                  ("finance", False)])
    async def test_merchandisers_and_admins_manage_zones(self, api, test_keys, role, allowed) -> None:
        response = await api.client.post(ZONES, json={"name": "W", "countries": ["*"], "tax_rate": "0"},
                                         headers=test_keys.staff_headers(role))
        assert response.status_code == (201 if allowed else 403), response.text
        response = await api.client.get(ZONES, headers=test_keys.staff_headers(role))
        assert response.status_code == (200 if allowed else 403)

    async def test_customers_are_refused(self, api, test_keys) -> None:
        assert (await api.client.get(ZONES, headers=test_keys.user_headers())).status_code == 403
        assert (await api.client.get(ZONES)).status_code == 401
