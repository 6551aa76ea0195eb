"""A storefront's languages (docs/storefronts.md#languages): `locales` and `default_locale`, set by
staff on create and PATCH, stored in the record its event carries to every copy, and shown by the
public storefront (the default first). A tag that is no language, or a list too long, is a 400 that
changes nothing; the default is always among the languages."""

from __future__ import annotations

from atelier_testing.storefronts import on_storefront

from .test_storefronts import URL, create, outbox_events, rows


class TestLocales:
    async def test_a_new_storefront_shows_english_alone(self, api, staff) -> None:
        body = await create(api, staff)
        assert (body["locales"], body["default_locale"]) == ([], "en")
        await api.h.drain()
        public = (await api.client.get("/api/v1/storefront", headers=on_storefront("b"))).json()
        assert (public["locales"], public["default_locale"]) == (["en"], "en")

    async def test_languages_are_stored_announced_and_shown_default_first(self, api, staff) -> None:
        body = await create(api, staff, locales=["ka", "EN_gb"], default_locale="ka")
        assert (body["locales"], body["default_locale"]) == (["ka", "en-GB"], "ka")
        assert (await rows(api))["b"].data["locales"] == ["ka", "en-GB"]
        [event] = await outbox_events(api)
        assert event.data["storefront"]["locales"] == ["ka", "en-GB"]
        await api.h.drain()
        public = (await api.client.get("/api/v1/storefront", headers=on_storefront("b"))).json()
        assert (public["locales"], public["default_locale"]) == (["ka", "en-GB"], "ka")

    async def test_a_patch_adds_a_language_and_the_default_joins_the_list(self, api, staff) -> None:
        await create(api, staff)
        patched = await api.client.patch(f"{URL}/b", json={"locales": ["ka"]}, headers=staff)
        assert patched.status_code == 200, patched.text
        assert (patched.json()["locales"], patched.json()["default_locale"]) == (["en", "ka"], "en")
        renamed = await api.client.patch(f"{URL}/b", json={"name": "Bee"}, headers=staff)
        assert renamed.json()["locales"] == ["en", "ka"]

    async def test_a_tag_that_is_no_language_is_400_and_changes_nothing(self, api, staff) -> None:
        await create(api, staff, locales=["en", "ka"])
        for change in ({"locales": ["english"]}, {"default_locale": "ka GE"}, {"locales": None},
                       {"locales": [f"a{chr(97 + i)}" for i in range(21)]}):
            response = await api.client.patch(f"{URL}/b", json=change, headers=staff)
            assert response.status_code == 400, (change, response.text)
            assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert (await rows(api))["b"].data["locales"] == ["en", "ka"]


class TestShippingMethodNames:
    ZONE = {"code": "ge", "name": "Georgia", "countries": ["GE"],
            "methods": [{"code": "standard", "name": "Standard", "amount": "5.00", "names": {"KA": "სტანდარტული"}}]}

    async def test_a_method_is_named_in_the_storefronts_other_languages(self, api, staff) -> None:
        await create(api, staff, locales=["en", "ka"])
        patched = await api.client.patch(f"{URL}/b", json={"shipping_zones": [self.ZONE]}, headers=staff)
        assert patched.status_code == 200, patched.text
        [method] = patched.json()["shipping_zones"][0]["methods"]
        assert method["names"] == {"ka": "სტანდარტული"}
        zones = (await api.client.get("/api/v1/staff/shipping-zones", params={"storefront": "b"},
                                      headers=staff)).json()
        assert zones["results"][0]["methods"][0]["names"] == {"ka": "სტანდარტული"}

    async def test_a_name_in_a_language_the_storefront_does_not_show_is_400(self, api, staff) -> None:
        await create(api, staff)
        response = await api.client.patch(f"{URL}/b", json={"shipping_zones": [self.ZONE]}, headers=staff)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert (await rows(api))["b"].data.get("shipping_zones", []) == []
