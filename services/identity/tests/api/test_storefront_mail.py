"""Mail, accounts and OAuth per storefront: a request of storefront B gets B's sender and B's pages,
its accounts record B; without the header everything is the default storefront's, as before."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from atelier_common.contracts.identity import Storefront
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

DEFAULT_FROM = "Atelier <no-reply@atelier.example>"
B_FROM = "B <hello@b.example>"
# B's pages are not where the platform's are, so a link built from the default paths would show.
B_PATHS = {
    "verify_email": "/welcome/verify?t={token}&c={code}",
    "reset_password": "/password-reset?token={token}",
    "magic_link": "/sign-in/link?token={token}&email={email}&code={code}",
    "email_change": "/account/email?token={token}",
    "order": "/account/orders/{order_id}",
    "set_password": "/account/password?token={token}&email={email}",
}
ON_B = on_storefront("b")


@pytest.fixture
def storefront_b(api) -> Storefront:
    return add_storefront(api.h.app, make_storefront("b", link_paths=B_PATHS))


def _links(mail: dict[str, Any]) -> list[str]:
    return re.findall(r"https?://\S+", mail["text"])


class TestPasswordResetMail:
    async def test_a_reset_asked_on_b_comes_from_b_and_opens_bs_page(self, api, storefront_b) -> None:
        await api.verified_user("ada@example.com")
        response = await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"},
                                          headers=ON_B)
        assert response.status_code == 200, response.text
        mail = (await api.wait_for_mail("ada@example.com", 2))[0]
        assert mail["subject"] == "Reset your password"
        assert mail["from"] == B_FROM
        [url] = _links(mail)
        token = parse_qs(urlsplit(url).query)["token"][0]
        assert url == f"https://b.example/password-reset?token={token}"
        assert f'href="{url}"' in mail["html"]
        # The token is the one the API takes, whichever storefront mailed it.
        confirmed = await api.client.post("/api/v1/auth/password-reset/confirm", json={
            "token": token, "new_password": "a new password 1", "new_password_confirm": "a new password 1"})
        assert confirmed.status_code == 200, confirmed.text

    async def test_without_a_storefront_the_default_sender_and_pages_stay(self, api, storefront_b) -> None:
        await api.verified_user("ada@example.com")
        await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
        mail = (await api.wait_for_mail("ada@example.com", 2))[0]
        assert mail["from"] == DEFAULT_FROM
        [url] = _links(mail)
        assert url.startswith("http://localhost:3000/reset-password?token=")

    async def test_an_unknown_storefront_is_400_and_mails_nothing(self, api, expect_error) -> None:
        await api.verified_user("ada@example.com")
        response = await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"},
                                          headers=on_storefront("nowhere"))
        expect_error(response, 400, "UNKNOWN_STOREFRONT")
        assert await api.mail_count("ada@example.com") == 1  # the verification only

    async def test_a_storefront_without_a_sender_uses_the_mail_from_setting(self, api) -> None:
        add_storefront(api.h.app, make_storefront("c", mail_from=None))
        await api.verified_user("ada@example.com")
        await api.client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"},
                              headers=on_storefront("c"))
        mail = (await api.wait_for_mail("ada@example.com", 2))[0]
        assert mail["from"] == DEFAULT_FROM
        assert _links(mail)[0].startswith("https://c.example/reset-password?token=")  # the default path


class TestRegistrationOnAStorefront:
    async def test_the_verification_mail_is_bs_and_the_account_records_b(self, api, storefront_b) -> None:
        registered = await api.register("ada@example.com", headers=ON_B)
        assert registered.status_code == 201, registered.text
        assert registered.json()["user"]["signup_storefront"] == "b"
        [mail] = await api.wait_for_mail("ada@example.com")
        assert mail["from"] == B_FROM
        [url] = _links(mail)
        query = parse_qs(urlsplit(url).query)
        token = query["t"][0]
        assert url == f"https://b.example/welcome/verify?t={token}&c={token}"
        verified = await api.client.post("/api/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 200, verified.text
        login = await api.login("ada@example.com")
        assert login.json()["user"]["signup_storefront"] == "b"

    async def test_a_resent_verification_comes_from_the_storefront_asking(self, api, storefront_b) -> None:
        await api.register("ada@example.com")
        await api.wait_for_mail("ada@example.com")
        await api.client.post("/api/v1/auth/resend-verification", json={"email": "ada@example.com"}, headers=ON_B)
        first, second = await api.wait_for_mail("ada@example.com", 2)
        assert (first["from"], second["from"]) == (B_FROM, DEFAULT_FROM)
        assert _links(second)[0].startswith("http://localhost:3000/verify-email?token=")

    async def test_without_a_storefront_the_account_is_the_defaults(self, api) -> None:
        registered = await api.register("ada@example.com")
        assert registered.json()["user"]["signup_storefront"] == "default"


class TestMagicLinkOnAStorefront:
    async def test_the_code_and_link_come_from_b_and_a_new_account_records_b(self, api, storefront_b) -> None:
        response = await api.client.post("/api/v1/auth/magic-link", json={"email": "Nino+x@Example.com"},
                                         headers=ON_B)
        assert response.status_code == 200, response.text
        code = await api.mailed_code("nino+x@example.com")
        [mail] = await api.mailbox("nino+x@example.com")
        assert mail["from"] == B_FROM
        [url] = _links(mail)
        token = parse_qs(urlsplit(url).query)["token"][0]
        assert url == f"https://b.example/sign-in/link?token={token}&email=nino%2Bx%40example.com&code={code}"
        signed_in = await api.client.post("/api/v1/auth/magic-link/verify",
                                          json={"email": "nino+x@example.com", "code": code}, headers=ON_B)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["created"] is True
        assert signed_in.json()["user"]["signup_storefront"] == "b"


class TestEmailChangeOnAStorefront:
    async def test_the_confirmation_and_the_notice_come_from_the_storefront(self, api, storefront_b,
                                                                             auth_header) -> None:
        session = await api.signed_in("ada@example.com")
        response = await api.client.post("/api/v1/auth/email-change", headers={**auth_header(session["access"]), **ON_B},
                                         json={"new_email": "ada@new.example", "current_password": api.password})
        assert response.status_code == 200, response.text
        [mail] = await api.wait_for_mail("ada@new.example")
        assert mail["from"] == B_FROM
        [url] = _links(mail)
        token = parse_qs(urlsplit(url).query)["token"][0]
        assert url == f"https://b.example/account/email?token={token}"
        confirmed = await api.client.post("/api/v1/auth/email-change/confirm", json={"token": token}, headers=ON_B)
        assert confirmed.status_code == 200, confirmed.text
        notice = (await api.wait_for_mail("ada@example.com", 2))[0]
        assert notice["subject"] == "Your email address was changed" and notice["from"] == B_FROM


class TestOAuthOnAStorefront:
    @pytest.fixture
    async def api(self, start_identity, oauth_settings) -> Any:
        async with start_identity(**oauth_settings) as identity:
            yield identity

    async def _start(self, api, return_to: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await api.client.post("/api/v1/auth/oauth/google/start", json={"return_to": return_to},
                                     headers=headers)

    async def test_return_to_is_checked_against_the_storefronts_frontend(self, api, storefront_b,
                                                                        expect_error) -> None:
        assert (await self._start(api, "https://b.example/after", ON_B)).status_code == 200
        expect_error(await self._start(api, "http://localhost:3000/after", ON_B), 400, "VALIDATION_ERROR")
        expect_error(await self._start(api, "https://b.example/after"), 400, "VALIDATION_ERROR")
        assert (await self._start(api, "http://localhost:3000/after")).status_code == 200

    async def test_one_of_the_storefronts_origins_is_accepted(self, api) -> None:
        add_storefront(api.h.app, make_storefront("c", origins=["https://c.example", "https://shop.c.example"]))
        started = await self._start(api, "https://shop.c.example/back", on_storefront("c"))
        assert started.status_code == 200, started.text

    async def test_the_callback_goes_back_to_b_and_a_new_account_records_b(self, api, storefront_b, oidc) -> None:
        oidc.add_user("g-1", "grace@example.com")
        started = await self._start(api, "/after", ON_B)
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(started.json()["auth_url"] + "&user=g-1")
        location = urlsplit(consent.headers["location"])
        # The provider's redirect carries no storefront: the state remembers where it started.
        callback = await api.client.get(f"{location.path}?{location.query}")
        assert callback.status_code == 302, callback.text
        back = urlsplit(callback.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == "https://b.example/after"
        ticket = parse_qs(back.query)["ticket"][0]
        exchanged = await api.client.post("/api/v1/auth/oauth/exchange", json={"ticket": ticket})
        assert exchanged.status_code == 200, exchanged.text
        assert exchanged.json()["user"]["signup_storefront"] == "b"


class TestVerifiedEmailOptional:
    """A storefront whose accounts need no verified email (S0 logs the new customer in)."""

    async def test_registering_on_it_signs_in_and_the_login_needs_no_verification(self, api, expect_error) -> None:
        add_storefront(api.h.app, make_storefront("b", verified_email_optional=True))
        registered = await api.register("ada@example.com", headers=ON_B)
        assert registered.status_code == 201, registered.text
        body = registered.json()
        assert body["access"] and body["refresh"] and body["user"]["is_verified"] is False
        # The verification mail still goes out: the address can be proven later.
        assert len(await api.wait_for_mail("ada@example.com")) == 1
        login = await api.login("ada@example.com", headers=ON_B)
        assert login.status_code == 200, login.text
        # Elsewhere the platform's rule stands: an unverified account does not sign in.
        expect_error(await api.login("ada@example.com"), 403, "EMAIL_NOT_VERIFIED")

    async def test_by_default_a_storefront_keeps_the_platforms_rule(self, api, storefront_b) -> None:
        registered = await api.register("ada@example.com", headers=ON_B)
        assert registered.status_code == 201 and "access" not in registered.json()
        assert storefront_b.verified_email_optional is False
