"""Email change as S1 describes it: re-auth, unique, one pending, link to the NEW address, old one told."""

from __future__ import annotations

import pytest

NEW = "augusta@example.com"


@pytest.fixture
async def ada(api) -> dict[str, str]:
    session = await api.signed_in()
    return {"Authorization": f"Bearer {session['access']}"}


async def _request(api, headers: dict[str, str], new_email: str = NEW, password: str | None = None):
    return await api.client.post("/api/v1/auth/email-change", headers=headers, json={
        "current_password": password or api.password, "new_email": new_email})


async def _confirm(api, token: str):
    return await api.client.post("/api/v1/auth/email-change/confirm", json={"token": token})


class TestRequest:
    async def test_mails_a_link_to_the_new_address_only(self, api, ada) -> None:
        before = await api.mail_count("ada@example.com")
        response = await _request(api, ada)
        assert response.status_code == 200, response.text
        [mail] = await api.wait_for_mail(NEW)
        assert mail["subject"] == "Confirm your new email address"
        assert "/confirm-email-change?token=" in mail["text"]
        assert await api.mail_count("ada@example.com") == before

    async def test_the_current_address_stays_until_confirmed(self, api, ada) -> None:
        await _request(api, ada)
        assert (await api.login("ada@example.com")).status_code == 200
        assert (await api.login(NEW)).status_code == 401
        assert (await api.client.get("/api/v1/users/me", headers=ada)).json()["email"] == "ada@example.com"

    async def test_requires_the_current_password(self, api, ada, expect_error) -> None:
        expect_error(await _request(api, ada, password="wrong password"), 400, "INVALID_PASSWORD")
        assert await api.mail_count(NEW) == 0

    async def test_the_new_address_must_differ(self, api, ada, expect_error) -> None:
        details = expect_error(await _request(api, ada, "ADA@example.com"), 400, "VALIDATION_ERROR")
        assert "new_email" in details["fields"]

    async def test_a_taken_address_is_ignored_silently(self, api, ada) -> None:
        await api.verified_user("bob@example.com")
        free, taken = await _request(api, ada, "free@example.com"), await _request(api, ada, "bob@example.com")
        assert (taken.status_code, taken.json()) == (free.status_code, free.json())
        assert [m["subject"] for m in await api.mailbox_after_delivery("bob@example.com")] == [
            "Confirm your email address"]  # only bob's own verification mail

    async def test_a_taken_address_is_409_when_the_setting_says_so(self, start_identity, expect_error) -> None:
        async with start_identity(email_change_reveals_taken_email=True) as api:
            session = await api.signed_in()
            await api.verified_user("bob@example.com")
            response = await _request(api, {"Authorization": f"Bearer {session['access']}"}, "bob@example.com")
            expect_error(response, 409, "EMAIL_EXISTS")

    async def test_requires_an_access_token(self, api, expect_error) -> None:
        expect_error(await _request(api, {}), 401, "AUTHENTICATION_REQUIRED")


class TestConfirm:
    async def test_changes_the_address_the_login_and_tells_the_old_one(self, api, ada) -> None:
        await _request(api, ada)
        response = await _confirm(api, await api.mailed_token(NEW))
        assert response.status_code == 200, response.text
        user = response.json()["user"]
        assert (user["email"], user["is_verified"]) == (NEW, True)
        assert (await api.login(NEW)).status_code == 200
        assert (await api.login("ada@example.com")).status_code == 401
        notice = (await api.wait_for_mail("ada@example.com", 2))[0]
        assert notice["subject"] == "Your email address was changed" and NEW in notice["text"]

    async def test_the_link_works_once(self, api, ada, expect_error) -> None:
        await _request(api, ada)
        token = await api.mailed_token(NEW)
        assert (await _confirm(api, token)).status_code == 200
        expect_error(await _confirm(api, token), 400, "INVALID_TOKEN")

    async def test_a_new_request_voids_the_pending_one(self, api, ada, expect_error) -> None:
        await _request(api, ada, "first@example.com")
        first = await api.mailed_token("first@example.com")
        await _request(api, ada, "second@example.com")
        expect_error(await _confirm(api, first), 400, "INVALID_TOKEN")
        assert (await _confirm(api, await api.mailed_token("second@example.com"))).json()["user"]["email"] == (
            "second@example.com")

    async def test_an_expired_link_is_400(self, start_identity, expect_error) -> None:
        async with start_identity(email_change_ttl_hours=0) as api:
            session = await api.signed_in()
            await _request(api, {"Authorization": f"Bearer {session['access']}"})
            expect_error(await _confirm(api, await api.mailed_token(NEW)), 400, "INVALID_TOKEN")

    async def test_an_address_taken_since_the_request_is_409(self, api, ada, expect_error) -> None:
        await _request(api, ada)
        token = await api.mailed_token(NEW)
        assert (await api.register(NEW)).status_code == 201
        expect_error(await _confirm(api, token), 409, "EMAIL_EXISTS")
        assert (await api.login("ada@example.com")).status_code == 200

    async def test_reset_links_sent_to_the_old_address_die(self, api, ada, expect_error) -> None:
        await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
        reset = await api.mailed_token("ada@example.com", 2)
        await _request(api, ada)
        assert (await _confirm(api, await api.mailed_token(NEW))).status_code == 200
        response = await api.client.post("/api/v1/auth/password-reset/confirm", json={
            "token": reset, "new_password": "hijacked password", "new_password_confirm": "hijacked password"})
        expect_error(response, 400, "INVALID_TOKEN")

    async def test_an_unknown_token_is_400(self, api, expect_error) -> None:
        expect_error(await _confirm(api, "nothing"), 400, "INVALID_TOKEN")
