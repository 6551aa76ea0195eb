"""Accounts without an email address (S0): a username and a password make one on a storefront with
`email_optional`; it signs in by its username, edits its profile, and adds an address later."""

from __future__ import annotations

import pytest

from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

ON_S0 = on_storefront("s0")
SECRET = "correct horse battery staple"


@pytest.fixture
def s0(api) -> None:
    add_storefront(api.h.app, make_storefront("s0", email_optional=True, verified_email_optional=True))


async def _register(api, headers: dict[str, str] | None = ON_S0, **fields: object):
    body = {"username": "ada_l", "password": SECRET, "password_confirm": SECRET, **fields}
    return await api.client.post("/api/v1/auth/register", json=body, headers=headers)


class TestRegister:
    async def test_a_username_and_a_password_make_a_signed_in_account(self, api, s0) -> None:
        response = await _register(api)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["access"] and body["refresh"]
        user = body["user"]
        assert (user["username"], user["email"], user["first_name"], user["last_name"]) == ("ada_l", None, "", "")

    async def test_the_username_is_unique_whatever_its_case(self, api, s0, expect_error) -> None:
        assert (await _register(api)).status_code == 201
        expect_error(await _register(api, username="ADA_L"), 409, "USERNAME_TAKEN")

    async def test_neither_email_nor_username_is_a_400_naming_both(self, api, s0, expect_error) -> None:
        body = expect_error(await _register(api, username=None), 400, "VALIDATION_ERROR")
        assert set(body["fields"]) == {"email", "username"}

    @pytest.mark.parametrize("username", ["ab", "has space", "a@b", "x" * 31])
    async def test_a_malformed_username_is_a_400(self, api, s0, expect_error, username: str) -> None:
        expect_error(await _register(api, username=username), 400, "VALIDATION_ERROR")

    async def test_elsewhere_an_email_and_both_names_are_required(self, api, expect_error) -> None:
        body = expect_error(await _register(api, headers=None), 400, "VALIDATION_ERROR")
        assert set(body["fields"]) == {"email", "first_name", "last_name"}

    async def test_an_email_given_is_kept_and_verified_as_usual(self, api, s0) -> None:
        response = await _register(api, email="ada@example.com")
        assert response.status_code == 201 and response.json()["user"]["email"] == "ada@example.com"
        assert len(await api.wait_for_mail("ada@example.com")) == 1


class TestSignInAndProfile:
    async def test_it_signs_in_by_username_on_any_storefront(self, api, s0) -> None:
        await _register(api)
        for headers in (ON_S0, None):  # nothing to verify: the platform's rule has no address to ask for
            response = await api.client.post("/api/v1/auth/login", json={"username": "Ada_L", "password": SECRET},
                                             headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["user"]["username"] == "ada_l"

    async def test_the_profile_is_read_and_edited_but_keeps_its_username(self, api, s0, expect_error) -> None:
        headers = {"Authorization": f"Bearer {(await _register(api)).json()['access']}"}
        changed = await api.client.patch("/api/v1/users/me", headers=headers,
                                         json={"first_name": "Ada", "username": "ada_lovelace"})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["first_name"], changed.json()["username"]) == ("Ada", "ada_lovelace")
        me = await api.client.get("/api/v1/users/me", headers=headers)
        assert me.json()["email"] is None and me.json()["username"] == "ada_lovelace"
        expect_error(await api.client.patch("/api/v1/users/me", headers=headers, json={"username": None}),
                     400, "VALIDATION_ERROR")

    async def test_an_address_is_added_through_the_email_change_flow(self, api, s0) -> None:
        headers = {"Authorization": f"Bearer {(await _register(api)).json()['access']}"}
        asked = await api.client.post("/api/v1/auth/email-change", headers=headers,
                                      json={"current_password": SECRET, "new_email": "ada@example.com"})
        assert asked.status_code == 200, asked.text
        token = await api.mailed_token("ada@example.com")
        confirmed = await api.client.post("/api/v1/auth/email-change/confirm", json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        me = (await api.client.get("/api/v1/users/me", headers=headers)).json()
        assert (me["email"], me["is_verified"]) == ("ada@example.com", True)
        assert (await api.login("ada@example.com", SECRET)).status_code == 200


class TestMailedFlows:
    async def test_support_cannot_mail_a_reset_or_vouch_for_an_address_it_lacks(self, api, s0, test_keys,
                                                                              expect_error) -> None:
        user_id = (await _register(api)).json()["user"]["id"]
        support = test_keys.staff_headers("support")
        for action in ("password-reset", "verify-email"):
            expect_error(await api.client.post(f"/api/v1/staff/customers/{user_id}/{action}", headers=support),
                         409, "NO_EMAIL_ADDRESS")
        card = await api.client.get(f"/api/v1/staff/customers/{user_id}", headers=support)
        assert card.status_code == 200 and card.json()["email"] is None
