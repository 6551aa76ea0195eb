"""Shipping zones of a storefront: staff write them with the storefront, each is checked
(codes, places, amounts, tiers) with a clear 400 that changes nothing, a PATCH replaces the list,
and the record every service copies carries them (`storefront.changed`)."""

from __future__ import annotations

from typing import Any

import pytest

from .test_storefronts import URL, create, outbox_events, rows, storefront

ZONE: dict[str, Any] = {
    "code": "us", "name": "United States", "countries": ["us"], "regions": [], "tax_rate": "0.0725",
    "methods": [{"code": "standard", "name": "Standard", "amount": "5"},
                {"code": "heavy", "name": "By weight", "kind": "weight",
                 "tiers": [{"min": 0, "amount": "5"}, {"min": 2000, "amount": "9.5"}], "free_over": "100"}]}


def _zone(**overrides: Any) -> dict[str, Any]:
    return {**ZONE, **overrides}


def _method(**overrides: Any) -> dict[str, Any]:
    return {"code": "m", "name": "M", **overrides}


class TestWrite:
    async def test_zones_are_stored_normalised_and_announced(self, api, staff) -> None:
        body = await create(api, staff, shipping_zones=[
            ZONE, {"code": "ca", "name": "California", "regions": ["us-ca"], "methods": []},
            {"code": "world", "name": "Rest of the world", "countries": ["*"],
             "methods": [{"code": "intl", "name": "International", "kind": "subtotal",
                          "tiers": [{"min": "0", "amount": "20"}, {"min": "100", "amount": "10"}]}]}])
        [us, ca, world] = body["shipping_zones"]
        assert (us["countries"], us["tax_rate"], ca["regions"], world["countries"]) == (
            ["US"], "0.0725", ["US-CA"], ["*"])
        assert {k: v for k, v in us["methods"][0].items() if k != "id"} == {"code": "standard", "name": "Standard", "kind": "flat", "amount": "5.00",
                                    "tiers": [], "free_over": None, "names": {}}
        assert us["methods"][1]["tiers"] == [{"min": "0.00", "amount": "5.00"}, {"min": "2000.00", "amount": "9.50"}]
        [event] = await outbox_events(api)
        assert event.data["storefront"]["shipping_zones"] == body["shipping_zones"]

    async def test_a_patch_replaces_the_zones_and_an_empty_list_removes_them(self, api, staff) -> None:
        await create(api, staff, shipping_zones=[ZONE])
        response = await api.client.patch(f"{URL}/b", json={"shipping_zones": [_zone(code="gb", countries=["GB"])]},
                                          headers=staff)
        assert response.status_code == 200, response.text
        assert [z["code"] for z in response.json()["shipping_zones"]] == ["gb"]
        response = await api.client.patch(f"{URL}/b", json={"name": "Renamed"}, headers=staff)
        assert [z["code"] for z in response.json()["shipping_zones"]] == ["gb"]  # not sent: kept
        response = await api.client.patch(f"{URL}/b", json={"shipping_zones": []}, headers=staff)
        assert response.json()["shipping_zones"] == []

    async def test_a_storefront_without_zones_has_an_empty_list(self, api, staff) -> None:
        assert (await create(api, staff))["shipping_zones"] == []


INVALID: list[tuple[str, list[dict[str, Any]]]] = [
    ("shipping_zones", [ZONE, _zone(countries=["GB"])]),  # the code twice
    ("shipping_zones", [ZONE, _zone(code="usa")]),  # US in two zones
    ("shipping_zones", [_zone(countries=["*"]), _zone(code="w", countries=["*"])]),
    ("shipping_zones", [_zone(countries=[], regions=["US-CA"]), _zone(code="ca", countries=[], regions=["us-ca"])]),
    ("shipping_zones.0", [_zone(countries=[], regions=[])]),
    ("shipping_zones.0.code", [_zone(code="Not a code")]),
    ("shipping_zones.0.name", [_zone(name="")]),
    ("shipping_zones.0.countries.0", [_zone(countries=["USA"])]),
    ("shipping_zones.0.countries.0", [_zone(countries=["1A"])]),
    ("shipping_zones.0.regions.0", [_zone(regions=["California"])]),
    ("shipping_zones.0.regions.0", [_zone(regions=["US"])]),
    ("shipping_zones.0.tax_rate", [_zone(tax_rate="1")]),
    ("shipping_zones.0.tax_rate", [_zone(tax_rate="-0.01")]),
    ("shipping_zones.0", [_zone(methods=[_method(), _method()])]),  # a method code twice
    ("shipping_zones.0.methods.0.amount", [_zone(methods=[_method(amount="-1")])]),
    ("shipping_zones.0.methods.0.amount", [_zone(methods=[_method(amount="1.001")])]),
    ("shipping_zones.0.methods.0.amount", [_zone(methods=[_method(amount="NaN")])]),
    ("shipping_zones.0.methods.0.free_over", [_zone(methods=[_method(free_over="-5")])]),
    ("shipping_zones.0.methods.0.kind", [_zone(methods=[_method(kind="per_item")])]),
    ("shipping_zones.0.methods.0", [_zone(methods=[_method(tiers=[{"min": 0, "amount": 1}])])]),  # flat + tiers
    ("shipping_zones.0.methods.0", [_zone(methods=[_method(kind="weight")])]),  # no tiers
    ("shipping_zones.0.methods.0", [_zone(methods=[_method(kind="weight", amount="5",
                                                           tiers=[{"min": 0, "amount": 1}])])]),
    ("shipping_zones.0.methods.0", [_zone(methods=[_method(kind="subtotal", tiers=[{"min": 10, "amount": 1}])])]),
    ("shipping_zones.0.methods.0", [_zone(methods=[_method(kind="subtotal", tiers=[
        {"min": 0, "amount": 1}, {"min": 50, "amount": 1}, {"min": 50, "amount": 2}])])]),
    ("shipping_zones.0.methods.0", [_zone(methods=[_method(kind="weight", tiers=[
        {"min": 0, "amount": 1}, {"min": "0.5", "amount": 2}])])]),
    ("shipping_zones.0.methods.0.tiers.0.amount", [_zone(methods=[_method(kind="weight", tiers=[
        {"min": 0, "amount": "-1"}])])]),
    ("shipping_zones", {"code": "us"}),  # not a list
]


class TestValidation:
    @pytest.mark.parametrize(("field", "zones"), INVALID)
    async def test_a_bad_zone_is_400_naming_the_field_and_creates_nothing(self, api, staff, expect_error,
                                                                          field: str, zones: Any) -> None:
        response = await api.client.post(URL, json=storefront(shipping_zones=zones), headers=staff)
        details = expect_error(response, 400, "VALIDATION_ERROR")
        assert any(key == field or key.startswith(field + ".") for key in details["fields"]), details
        assert await rows(api) == {} and await outbox_events(api) == []

    async def test_a_bad_patch_changes_nothing(self, api, staff, expect_error) -> None:
        await create(api, staff, shipping_zones=[ZONE])
        response = await api.client.patch(f"{URL}/b", json={"shipping_zones": [ZONE, ZONE]}, headers=staff)
        expect_error(response, 400, "VALIDATION_ERROR")
        response = await api.client.patch(f"{URL}/b", json={"shipping_zones": None}, headers=staff)
        expect_error(response, 400, "VALIDATION_ERROR")
        stored = await api.client.get(f"{URL}/b", headers=staff)
        assert [z["code"] for z in stored.json()["shipping_zones"]] == ["us"]
