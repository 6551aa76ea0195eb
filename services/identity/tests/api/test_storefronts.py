"""Storefronts: the staff API, its rules, the events each write adds to the outbox, and the
orders it asks before a delete or a currency change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from atelier_common.contracts.identity import DEFAULT_LINK_PATHS
from atelier_common.outbox import OutboxMessage
from atelier_identity.models import StorefrontRecord
from atelier_testing.tokens import TestKeys

URL = "/api/v1/storefronts"
CHANGED, DELETED = "storefront.changed", "storefront.deleted"


def storefront(slug: str = "b", **overrides: Any) -> dict[str, Any]:
    """A valid creation body for `slug` at https://<slug>.example."""
    origin = f"https://{slug}.example"
    return {"slug": slug, "name": f"Storefront {slug.upper()}", "origins": [origin], "frontend_url": origin,
            "mail_from": f"{slug.upper()} <hello@{slug}.example>", "currency": "EUR",
            "tax": {"rate": "0.20", "inclusive": False, "shipping_rate": "7.50"}, "sells": ["physical"],
            "passkey": {"rp_id": f"{slug}.example", "origins": [origin]}, **overrides}


async def rows(api) -> dict[str, StorefrontRecord]:
    async with api.h.runtime.db.read_only() as session:
        return {row.slug: row for row in (await session.exec(select(StorefrontRecord))).all()}


def _written_order(message: OutboxMessage) -> tuple[Any, bool]:
    # One transaction's events may share an instant: there the new default's comes before the demoted one's.
    return message.occurred_at, not message.data.get("storefront", {}).get("is_default", False)


async def outbox_events(api, *types: str) -> list[OutboxMessage]:
    async with api.h.runtime.db.read_only() as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.type).in_(types or (CHANGED, DELETED)))
        return sorted((await session.exec(stmt)).all(), key=_written_order)


async def create(api, staff: dict[str, str], slug: str = "b", **overrides: Any) -> dict[str, Any]:
    response = await api.client.post(URL, json=storefront(slug, **overrides), headers=staff)
    assert response.status_code == 201, response.text
    return response.json()


class TestAccess:
    ROUTES = [("GET", URL), ("POST", URL), ("GET", f"{URL}/default"), ("PATCH", f"{URL}/default"),
              ("DELETE", f"{URL}/b")]

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    async def test_anonymous_callers_are_401(self, api, expect_error, method: str, path: str) -> None:
        expect_error(await api.client.request(method, path, json={}), 401, "AUTHENTICATION_REQUIRED")

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    async def test_customers_are_403(self, api, expect_error, test_keys: TestKeys, method: str, path: str) -> None:
        response = await api.client.request(method, path, json=storefront(), headers=test_keys.user_headers())
        expect_error(response, 403, "PERMISSION_DENIED")
        assert await rows(api) == {}

    async def test_the_internal_list_requires_the_service_credential(self, api, expect_error) -> None:
        expect_error(await api.client.get("/internal/storefronts"), 401, "AUTHENTICATION_REQUIRED")


class TestCreate:
    async def test_stores_the_record_and_announces_it_in_the_same_transaction(self, api, staff) -> None:
        body = await create(api, staff)
        assert body["slug"] == "b" and body["currency"] == "EUR" and body["is_default"] is False
        assert body["tax"] == {"rate": "0.20", "inclusive": False, "shipping_rate": "7.50", "shipping_taxed": False,
                               "tax_rates": {}}
        assert body["link_paths"] == DEFAULT_LINK_PATHS
        row = (await rows(api))["b"]
        assert row.data == body and row.revision == body["revision"] > 0
        [event] = await outbox_events(api)
        assert event.type == CHANGED and event.data["storefront"] == body

    async def test_values_are_normalised(self, api, staff) -> None:
        body = await create(api, staff, origins=["HTTPS://B.Example:443/", "http://B.example:8080",
                                                  "https://b.example"],
                            currency="eur", sells=["physical", "physical", "credit_pack"],
                            tax={"rate": 0.2, "shipping_rate": 7},
                            link_paths={"order": "/account/orders/{order_id}"},
                            passkey={"rp_id": "B.Example", "origins": ["https://shop.b.example/"]})
        assert body["origins"] == ["https://b.example", "http://b.example:8080"]
        assert body["currency"] == "EUR"
        assert body["sells"] == ["physical", "credit_pack"]
        assert body["tax"] == {"rate": "0.2", "inclusive": False, "shipping_rate": "7.00", "shipping_taxed": False,
                               "tax_rates": {}}
        assert body["link_paths"] == {**DEFAULT_LINK_PATHS, "order": "/account/orders/{order_id}"}
        assert body["passkey"] == {"rp_id": "b.example", "origins": ["https://shop.b.example"]}

    async def test_optional_fields_have_defaults(self, api, staff) -> None:
        response = await api.client.post(URL, json={"slug": "min", "name": "Min",
                                                    "frontend_url": "https://min.example/shop"}, headers=staff)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["origins"] == [] and body["currency"] == "USD" and body["passkey"] is None
        assert body["verified_email_optional"] is False
        assert body["sells"] == ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier",
                                 "gift_card"]

    async def test_a_taken_slug_is_409_and_changes_nothing(self, api, staff, expect_error) -> None:
        first = await create(api, staff)
        response = await api.client.post(URL, json=storefront("b", name="Other", origins=[]), headers=staff)
        expect_error(response, 409, "STOREFRONT_EXISTS")
        assert (await rows(api))["b"].data == first
        assert len(await outbox_events(api)) == 1

    async def test_the_default_slug_is_taken_before_it_has_a_row(self, api, staff, expect_error) -> None:
        expect_error(await api.client.post(URL, json=storefront("default"), headers=staff), 409, "STOREFRONT_EXISTS")
        assert await rows(api) == {} and await outbox_events(api) == []

    async def test_two_storefronts_never_share_an_origin(self, api, staff, expect_error) -> None:
        await create(api, staff, "b", origins=["https://b.example", "https://shared.example"])
        response = await api.client.post(URL, json=storefront("c", origins=["https://SHARED.example/"]),
                                         headers=staff)
        details = expect_error(response, 409, "STOREFRONT_ORIGIN_TAKEN")
        assert details == {"origins": ["https://shared.example"], "storefront": "b"}
        assert set(await rows(api)) == {"b"} and len(await outbox_events(api)) == 1

    async def test_two_storefronts_never_share_a_compatibility_profile(self, api, staff, expect_error) -> None:
        await create(api, staff, "b", compat_profile="marbelle")
        response = await api.client.post(URL, json=storefront("c", compat_profile="marbelle"), headers=staff)
        expect_error(response, 409, "STOREFRONT_PROFILE_TAKEN")
        assert set(await rows(api)) == {"b"}


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("slug", {"slug": "B"}), ("slug", {"slug": "-b"}), ("slug", {"slug": "b_c"}), ("slug", {"slug": "b" * 64}),
    ("slug", {"slug": ""}), ("name", {"name": "  "}), ("name", {"name": 42}),
    ("origins.0", {"origins": ["ftp://b.example"]}), ("origins.0", {"origins": ["https://b.example/shop"]}),
    ("origins.0", {"origins": ["https://b.example?x=1"]}), ("origins.0", {"origins": ["b.example"]}),
    ("origins.0", {"origins": ["https://user@b.example"]}), ("origins.0", {"origins": ["https://b.example:99999"]}),
    ("origins.0", {"origins": ["https://b_b.example"]}), ("origins.0", {"origins": ["https://b.example#top"]}),
    ("origins", {"origins": "https://b.example"}),
    ("frontend_url", {"frontend_url": "not a url"}), ("frontend_url", {"frontend_url": "/relative"}),
    ("success_url", {"success_url": "javascript:alert(1)"}), ("cancel_url", {"cancel_url": "mailto:a@b.example"}),
    ("currency", {"currency": "XXQ"}), ("currency", {"currency": "US"}), ("currency", {"currency": "EURO"}),
    ("currency", {"currency": "XAU"}),
    ("tax.rate", {"tax": {"rate": 1}}), ("tax.rate", {"tax": {"rate": "-0.1"}}), ("tax.rate", {"tax": {"rate": "NaN"}}),
    ("tax.rate", {"tax": {"rate": True}}), ("tax.shipping_rate", {"tax": {"shipping_rate": -1}}),
    ("tax.shipping_rate", {"tax": {"shipping_rate": "5.001"}}), ("tax.inclusive", {"tax": {"inclusive": "yes"}}),
    ("tax.tax_rates", {"tax": {"tax_rates": {"luxury": "0.3"}}}),
    ("tax.tax_rates", {"tax": {"tax_rates": {"standard": "0.2"}}}),
    ("tax.tax_rates.reduced", {"tax": {"tax_rates": {"reduced": "1"}}}),
    ("tax.tax_rates.reduced", {"tax": {"tax_rates": {"reduced": "-0.05"}}}),
    ("tax.tax_rates", {"tax": {"tax_rates": ["reduced"]}}),
    ("sells", {"sells": []}), ("sells", {"sells": ["toys"]}),
    ("link_paths.verify_email", {"link_paths": {"verify_email": "verify?token={token}"}}),
    ("link_paths.order", {"link_paths": {"order": "/orders/{id}"}}),
    ("link_paths.order", {"link_paths": {"order": "/orders/{order_id"}}),
    ("link_paths", {"link_paths": {"welcome": "/welcome"}}),
    ("passkey", {"passkey": {"rp_id": "other.example", "origins": ["https://b.example"]}}),
    ("passkey", {"passkey": {"rp_id": "example", "origins": ["https://b.example"]}}),
    ("passkey", {"passkey": {"rp_id": "ample.example", "origins": ["https://b.example"]}}),
    ("passkey", {"passkey": {"rp_id": "elsewhere.example", "origins": []}}),
    ("passkey.rp_id", {"passkey": {"rp_id": "https://b.example"}}),
    ("statement_descriptor", {"statement_descriptor": "A descriptor way too long"}),
    ("statement_descriptor", {"statement_descriptor": "<b>"}),
    ("compat_profile", {"compat_profile": "woo"}),
    ("mail_from", {"mail_from": "B <hello@b.example>\r\nBcc: all@example.com"}),
    ("mail_from", {"mail_from": "not an address"}),
    ("is_default", {"is_default": "true"}),
]


class TestValidation:
    @pytest.mark.parametrize(("field", "overrides"), INVALID)
    async def test_a_bad_field_is_400_and_creates_nothing(self, api, staff, expect_error, field: str,
                                                          overrides: dict[str, Any]) -> None:
        response = await api.client.post(URL, json=storefront(**overrides), headers=staff)
        details = expect_error(response, 400, "VALIDATION_ERROR")
        assert any(key == field or key.startswith(field + ".") for key in details["fields"]), details
        assert await rows(api) == {} and await outbox_events(api) == []

    @pytest.mark.parametrize("overrides", [
        {"passkey": {"rp_id": "b.example", "origins": ["https://shop.b.example", "https://b.example"]}},
        {"passkey": {"rp_id": "b.example", "origins": []}},
        {"passkey": {"rp_id": "localhost", "origins": ["http://localhost:3000"]}},
        {"statement_descriptor": "MARBELLE*SHOP"[:8]}, {"currency": "JPY"}, {"currency": "gel"},
        {"tax": {"rate": "0.999999", "inclusive": True}}, {"tax": {"rate": 0}},
        {"tax": {"rate": "0.2", "tax_rates": {"reduced": "0.055", "zero": "0"}}},
        {"success_url": "https://b.example/done?session={CHECKOUT_SESSION_ID}"},
        {"link_paths": {"magic_link": "/m/{code}?e={email}&t={token}"}}, {"mail_from": "hello@b.example"},
        {"origins": ["http://[::1]:3000", "http://127.0.0.1:3000"]},
        {"compat_profile": "marbelle", "compat_at_root": True},
    ])
    async def test_good_values_are_accepted(self, api, staff, overrides: dict[str, Any]) -> None:
        await create(api, staff, **overrides)

    async def test_the_root_needs_a_profile(self, api, staff, expect_error) -> None:
        response = await api.client.post(URL, json=storefront(compat_at_root=True), headers=staff)
        expect_error(response, 400, "VALIDATION_ERROR")
        assert await rows(api) == {}


class TestRead:
    async def test_the_default_is_built_from_settings_until_staff_edit_it(self, start_identity, test_keys) -> None:
        async with start_identity(frontend_url="https://atelier.example", mail_from="Atelier <a@atelier.example>",
                                  default_currency="EUR", tax_rate="0.2") as api:
            response = await api.client.get(f"{URL}/default", headers=test_keys.staff_headers())
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["frontend_url"] == "https://atelier.example" and body["currency"] == "EUR"
            assert body["mail_from"] == "Atelier <a@atelier.example>" and body["tax"]["rate"] == "0.2"
            assert body["is_default"] is True and body["revision"] == 0
            assert body["passkey"] == {"rp_id": "localhost", "origins": ["https://atelier.example"]}
            assert await rows(api) == {}

    async def test_an_unknown_slug_is_404(self, api, staff, expect_error) -> None:
        expect_error(await api.client.get(f"{URL}/nope", headers=staff), 404, "STOREFRONT_NOT_FOUND")
        expect_error(await api.client.patch(f"{URL}/nope", json={"name": "X"}, headers=staff), 404,
                     "STOREFRONT_NOT_FOUND")
        expect_error(await api.client.delete(f"{URL}/nope", headers=staff), 404, "STOREFRONT_NOT_FOUND")
        assert await outbox_events(api) == []

    async def test_the_list_is_paginated_with_the_default_first(self, api, staff) -> None:
        for slug in ("c", "b", "d"):
            await create(api, staff, slug)
        response = await api.client.get(URL, params={"limit": 2}, headers=staff)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["count"] == 4 and page["previous"] is None and "offset=2" in page["next"]
        assert [s["slug"] for s in page["results"]] == ["default", "b"]
        rest = (await api.client.get(page["next"], headers=staff)).json()
        assert [s["slug"] for s in rest["results"]] == ["c", "d"] and rest["next"] is None

    async def test_the_internal_list_has_every_record_the_default_included(self, api, staff) -> None:
        created = await create(api, staff)
        response = await api.client.get("/internal/storefronts", headers={"X-Service-Token": "changethis"})
        assert response.status_code == 200, response.text
        listed = response.json()["storefronts"]
        assert [s["slug"] for s in listed] == ["default", "b"]
        assert listed[1] == created and listed[0]["is_default"] is True


class TestUpdate:
    async def test_a_patch_changes_only_what_is_sent(self, api, staff) -> None:
        created = await create(api, staff, statement_descriptor="B SHOP")
        response = await api.client.patch(f"{URL}/b", headers=staff, json={
            "name": "Renamed", "tax": {"inclusive": True}, "link_paths": {"order": "/o/{order_id}"},
            "statement_descriptor": None})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "Renamed" and body["statement_descriptor"] is None
        assert body["tax"] == {"rate": "0.20", "inclusive": True, "shipping_rate": "7.50", "shipping_taxed": False,
                               "tax_rates": {}}
        assert body["link_paths"] == {**DEFAULT_LINK_PATHS, "order": "/o/{order_id}"}
        assert body["revision"] > created["revision"]
        unchanged = {k: v for k, v in created.items()
                     if k not in ("name", "tax", "link_paths", "statement_descriptor", "revision")}
        assert {k: body[k] for k in unchanged} == unchanged
        assert (await rows(api))["b"].data == body and (await rows(api))["b"].revision == body["revision"]
        events = await outbox_events(api)
        assert [e.data["storefront"] for e in events] == [created, body]

    async def test_a_patch_of_the_class_rates_replaces_them_and_keeps_the_rest_of_the_tax(self, api, staff) -> None:
        await create(api, staff, tax={"rate": "0.20", "tax_rates": {"reduced": "0.055", "zero": "0.01"}})
        response = await api.client.patch(f"{URL}/b", headers=staff, json={"tax": {"tax_rates": {"reduced": "0.1"}}})
        assert response.status_code == 200, response.text
        assert (response.json()["tax"]["rate"], response.json()["tax"]["tax_rates"]) == ("0.20", {"reduced": "0.1"})

    async def test_verified_email_optional_is_set_and_cleared(self, api, staff, expect_error) -> None:
        await create(api, staff)
        on = await api.client.patch(f"{URL}/b", json={"verified_email_optional": True}, headers=staff)
        assert on.status_code == 200 and on.json()["verified_email_optional"] is True
        expect_error(await api.client.patch(f"{URL}/b", json={"verified_email_optional": None}, headers=staff), 400,
                     "VALIDATION_ERROR")
        off = await api.client.patch(f"{URL}/b", json={"verified_email_optional": False}, headers=staff)
        assert off.json()["verified_email_optional"] is False

    async def test_the_revision_grows_with_every_write(self, api, staff) -> None:
        revisions = [(await create(api, staff))["revision"]]
        for name in ("one", "two", "three"):
            response = await api.client.patch(f"{URL}/b", json={"name": name}, headers=staff)
            revisions.append(response.json()["revision"])
        assert revisions == sorted(set(revisions))
        async with api.h.runtime.db.transaction() as session:  # a clock stepping back changes nothing
            row = await session.get(StorefrontRecord, "b")
            row.revision = 10**18
            row.data = {**row.data, "revision": 10**18}
        response = await api.client.patch(f"{URL}/b", json={"name": "four"}, headers=staff)
        assert response.json()["revision"] == 10**18 + 1

    async def test_the_slug_cannot_change(self, api, staff, expect_error) -> None:
        created = await create(api, staff)
        details = expect_error(await api.client.patch(f"{URL}/b", json={"slug": "c"}, headers=staff), 400,
                               "VALIDATION_ERROR")
        assert "slug" in details["fields"]
        ok = await api.client.patch(f"{URL}/b", json={"slug": "b", "name": "Same slug"}, headers=staff)
        assert ok.status_code == 200 and ok.json()["slug"] == "b"
        assert created["revision"] < ok.json()["revision"]

    @pytest.mark.parametrize(("field", "change"), [
        ("name", {"name": None}), ("currency", {"currency": None}), ("tax", {"tax": None}),
        ("tax.rate", {"tax": {"rate": None}}), ("currency", {"currency": "XXQ"}), ("origins.0", {"origins": ["x"]}),
        ("sells", {"sells": []}), ("is_default", {"is_default": None}), ("frontend_url", {"frontend_url": None}),
        # Checked on the result: without passkey origins, the relying party must cover the new frontend.
        ("passkey", {"frontend_url": "https://elsewhere.example"}),
    ])
    async def test_a_bad_patch_is_400_and_changes_nothing(self, api, staff, expect_error, field: str,
                                                          change: dict[str, Any]) -> None:
        created = await create(api, staff, passkey={"rp_id": "b.example", "origins": []})
        details = expect_error(await api.client.patch(f"{URL}/b", json=change, headers=staff), 400, "VALIDATION_ERROR")
        assert any(key == field or key.startswith(field + ".") for key in details["fields"]), details
        assert (await rows(api))["b"].data == created and len(await outbox_events(api)) == 1

    async def test_an_origin_of_another_storefront_is_409(self, api, staff, expect_error) -> None:
        await create(api, staff, "b")
        c = await create(api, staff, "c")
        response = await api.client.patch(f"{URL}/c", json={"origins": ["https://b.example"]}, headers=staff)
        expect_error(response, 409, "STOREFRONT_ORIGIN_TAKEN")
        assert (await rows(api))["c"].data == c and len(await outbox_events(api)) == 2
        keep = await api.client.patch(f"{URL}/b", json={"origins": ["https://b.example"]}, headers=staff)
        assert keep.status_code == 200  # its own origin is not another's

    async def test_patching_the_default_stores_it(self, api, staff) -> None:
        response = await api.client.patch(f"{URL}/default", json={"name": "Atelier Shop", "currency": "EUR"},
                                          headers=staff)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "Atelier Shop" and body["currency"] == "EUR" and body["is_default"] is True
        assert body["revision"] > 0
        assert (await rows(api))["default"].data == body
        [event] = await outbox_events(api)
        assert event.data["storefront"] == body
        assert (await api.client.get(f"{URL}/default", headers=staff)).json() == body


class TestOneDefault:
    async def _defaults(self, api, staff) -> list[str]:
        listed = (await api.client.get(URL, headers=staff)).json()["results"]
        return [s["slug"] for s in listed if s["is_default"]]

    async def test_a_new_default_makes_the_synthesized_one_a_stored_non_default(self, api, staff) -> None:
        c = await create(api, staff, "c", is_default=True)
        assert c["is_default"] is True
        assert await self._defaults(api, staff) == ["c"]
        stored = (await rows(api))["default"].data
        assert stored["is_default"] is False and stored["revision"] > 0
        events = [e.data["storefront"] for e in await outbox_events(api)]
        assert [(e["slug"], e["is_default"]) for e in events] == [("c", True), ("default", False)]
        listed = (await api.client.get(URL, headers=staff)).json()["results"]
        assert [s["slug"] for s in listed] == ["c", "default"]

    async def test_patching_is_default_moves_it(self, api, staff) -> None:
        await create(api, staff, "b")
        await create(api, staff, "c", is_default=True)
        response = await api.client.patch(f"{URL}/b", json={"is_default": True}, headers=staff)
        assert response.status_code == 200 and response.json()["is_default"] is True
        assert await self._defaults(api, staff) == ["b"]
        assert (await rows(api))["c"].data["is_default"] is False
        assert [e.data["storefront"]["slug"] for e in await outbox_events(api)][-2:] == ["b", "c"]
        back = await api.client.patch(f"{URL}/default", json={"is_default": True}, headers=staff)
        assert back.status_code == 200
        assert await self._defaults(api, staff) == ["default"]

    async def test_the_default_cannot_stop_being_one_by_itself(self, api, staff, expect_error) -> None:
        expect_error(await api.client.patch(f"{URL}/default", json={"is_default": False}, headers=staff), 409,
                     "DEFAULT_STOREFRONT_REQUIRED")
        assert await rows(api) == {} and await outbox_events(api) == []

    async def test_the_default_slug_and_the_current_default_are_never_deleted(self, api, staff, expect_error,
                                                                               fake_orders) -> None:
        expect_error(await api.client.delete(f"{URL}/default", headers=staff), 409, "STOREFRONT_NOT_DELETABLE")
        await create(api, staff, "c", is_default=True)
        before = len(await outbox_events(api))
        expect_error(await api.client.delete(f"{URL}/c", headers=staff), 409, "STOREFRONT_NOT_DELETABLE")
        expect_error(await api.client.delete(f"{URL}/default", headers=staff), 409, "STOREFRONT_NOT_DELETABLE")
        assert set(await rows(api)) == {"c", "default"} and len(await outbox_events(api)) == before
        assert fake_orders.calls == []


class TestOrdersRules:
    async def test_a_storefront_without_orders_is_deleted_and_announced(self, api, staff, fake_orders) -> None:
        created = await create(api, staff)
        response = await api.client.delete(f"{URL}/b", headers=staff)
        assert response.status_code == 204, response.text
        assert fake_orders.calls == ["b"]
        assert await rows(api) == {}
        [event] = await outbox_events(api, DELETED)
        assert event.data["slug"] == "b" and event.data["revision"] > created["revision"]
        await api.h.drain()
        assert api.h.runtime.storefronts.known("b") is None

    async def test_a_storefront_with_orders_is_not_deleted(self, api, staff, expect_error, fake_orders) -> None:
        created = await create(api, staff)
        fake_orders.has("b", orders=3, unpaid=0)
        details = expect_error(await api.client.delete(f"{URL}/b", headers=staff), 409, "STOREFRONT_IN_USE")
        assert details == {"orders": 3, "unpaid": 0}
        assert (await rows(api))["b"].data == created and await outbox_events(api, DELETED) == []

    async def test_the_currency_does_not_change_while_orders_are_unpaid(self, api, staff, expect_error,
                                                                       fake_orders) -> None:
        created = await create(api, staff)
        fake_orders.has("b", orders=5, unpaid=1)
        details = expect_error(await api.client.patch(f"{URL}/b", json={"currency": "GBP"}, headers=staff), 409,
                               "STOREFRONT_IN_USE")
        assert details == {"orders": 5, "unpaid": 1}
        assert (await rows(api))["b"].data == created and len(await outbox_events(api)) == 1
        fake_orders.has("b", orders=5, unpaid=0)
        response = await api.client.patch(f"{URL}/b", json={"currency": "GBP"}, headers=staff)
        assert response.status_code == 200 and response.json()["currency"] == "GBP"

    async def test_other_changes_do_not_ask_orders(self, api, staff, fake_orders) -> None:
        await create(api, staff)
        fake_orders.unreachable = True
        response = await api.client.patch(f"{URL}/b", json={"name": "N", "currency": "eur"}, headers=staff)
        assert response.status_code == 200, response.text
        assert fake_orders.calls == []

    @pytest.mark.parametrize("failure", ["unreachable", "status"])
    async def test_orders_unavailable_is_503_and_changes_nothing(self, api, staff, expect_error, fake_orders,
                                                                failure: str) -> None:
        created = await create(api, staff)
        if failure == "unreachable":
            fake_orders.unreachable = True
        else:
            fake_orders.status = 500
        expect_error(await api.client.delete(f"{URL}/b", headers=staff), 503, "SERVICE_UNAVAILABLE")
        expect_error(await api.client.patch(f"{URL}/b", json={"currency": "GBP"}, headers=staff), 503,
                     "SERVICE_UNAVAILABLE")
        assert (await rows(api))["b"].data == created and len(await outbox_events(api)) == 1
