"""Refresh rotation, logout, verify-token, the JWKS, and which access tokens are refused."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import select

from atelier_common.auth import JwksCache, TokenVerifier
from atelier_common.keys import ALGORITHM
from atelier_common.outbox import OutboxMessage
from atelier_identity.models import User
from atelier_testing import TestKeys


async def _refresh(api, token: str | None = None):
    return await api.client.post("/api/v1/auth/refresh", json={"refresh": token} if token else None)


class TestRefresh:
    async def test_a_refresh_token_in_the_body_gives_a_new_pair(self, api, auth_header) -> None:
        session = await api.signed_in()
        response = await _refresh(api, session["refresh"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"access", "refresh", "token_type", "expires_in"}
        assert body["refresh"] != session["refresh"] and body["access"] != session["access"]
        assert (await api.client.get("/api/v1/users/me", headers=auth_header(body["access"]))).status_code == 200
        assert f"atelier_refresh={body['refresh']};" in response.headers["set-cookie"]

    async def test_the_cookie_alone_is_enough_and_is_rotated(self, api) -> None:
        session = await api.signed_in()  # the client now holds the cookie set by login
        assert api.client.cookies.get("atelier_refresh") == session["refresh"]
        response = await _refresh(api)
        assert response.status_code == 200, response.text
        assert api.client.cookies.get("atelier_refresh") == response.json()["refresh"]
        assert (await _refresh(api)).status_code == 200  # the rotated cookie works in turn

    async def test_the_body_wins_over_the_cookie(self, api, expect_error) -> None:
        await api.signed_in()
        expect_error(await _refresh(api, "not-a-token"), 401, "INVALID_TOKEN")

    async def test_the_new_access_token_carries_current_roles(self, api, harness) -> None:
        session = await api.signed_in()
        async with harness.runtime.db.transaction() as s:
            user = await s.get(User, uuid.UUID(session["user"]["id"]))
            user.is_staff, user.staff_roles = True, ["support"]
        rotated = (await _refresh(api, session["refresh"])).json()
        claims = jwt.decode(rotated["access"], options={"verify_signature": False})
        assert claims["roles"] == ["customer", "staff", "support"]

    async def test_a_company_name_puts_nobody_in_a_group(self, api, auth_header) -> None:
        """A customer reaches no group price by what it sends: a company name is shown, not trusted."""
        session = await api.signed_in()
        assert "grp" not in jwt.decode(session["access"], options={"verify_signature": False})
        changed = await api.client.patch("/api/v1/users/me", json={"company_name": "Stone Works Ltd"},
                                         headers=auth_header(session["access"]))
        assert changed.status_code == 200 and changed.json()["is_business_customer"] is True
        rotated = (await _refresh(api, session["refresh"])).json()
        assert "grp" not in jwt.decode(rotated["access"], options={"verify_signature": False})

    async def test_a_spent_token_presented_again_revokes_its_whole_family(self, api, expect_error) -> None:
        first = await api.signed_in()
        other_device = (await api.login()).json()
        second = (await _refresh(api, first["refresh"])).json()
        details = expect_error(await _refresh(api, first["refresh"]), 401, "INVALID_TOKEN")
        assert details == {}
        expect_error(await _refresh(api, second["refresh"]), 401, "INVALID_TOKEN")  # the thief's copy is dead too
        assert (await _refresh(api, other_device["refresh"])).status_code == 200  # another login is untouched

    @pytest.mark.parametrize("token", ["", "garbage", "x" * 43])
    async def test_unknown_or_missing_tokens_are_401(self, api, expect_error, token: str) -> None:
        expect_error(await _refresh(api, token), 401, "INVALID_TOKEN")

    async def test_no_token_at_all_is_401(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/refresh"), 401, "INVALID_TOKEN")

    async def test_a_wrongly_typed_token_is_a_validation_error(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": 5}), 400, "VALIDATION_ERROR")

    async def test_an_expired_token_is_401(self, start_identity, expect_error) -> None:
        async with start_identity(refresh_token_ttl_days=0) as api:
            session = await api.signed_in()
            expect_error(await _refresh(api, session["refresh"]), 401, "INVALID_TOKEN")

    async def test_a_disabled_account_cannot_refresh(self, api, harness, expect_error) -> None:
        session = await api.signed_in()
        async with harness.runtime.db.transaction() as s:
            (await s.get(User, uuid.UUID(session["user"]["id"]))).is_active = False
        # Said plainly: the holder of the account's token learns it is suspended, not "invalid".
        expect_error(await _refresh(api, session["refresh"]), 403, "ACCOUNT_DISABLED")


class TestLogout:
    async def test_revokes_the_family_publishes_token_revoked_and_clears_the_cookie(
            self, api, harness, auth_header, expect_error) -> None:
        session = await api.signed_in()
        other_device = (await api.login()).json()
        response = await api.client.post("/api/v1/auth/logout", json={"refresh": session["refresh"]},
                                         headers=auth_header(session["access"]))
        assert response.status_code == 204, response.text
        assert response.content == b""
        cookie = response.headers["set-cookie"]
        assert cookie.startswith('atelier_refresh="";') and "Max-Age=0" in cookie and "Path=/api/v1/auth" in cookie
        expect_error(await _refresh(api, session["refresh"]), 401, "INVALID_TOKEN")
        assert (await _refresh(api, other_device["refresh"])).status_code == 200

        await harness.drain()
        [event] = harness.published("identity.token_revoked")
        claims = jwt.decode(session["access"], options={"verify_signature": False})
        assert event.data["user_id"] == session["user"]["id"]
        assert event.data["jti"] == claims["jti"]
        assert datetime.fromisoformat(event.data["expires_at"]) == datetime.fromtimestamp(claims["exp"], UTC)

    async def test_the_event_is_written_to_the_outbox_in_the_logout_transaction(self, api, harness,
                                                                                auth_header) -> None:
        session = await api.signed_in()
        await harness.drain()
        await api.client.post("/api/v1/auth/logout", headers=auth_header(session["access"]))
        async with harness.runtime.db.read_only() as s:
            rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.type == "identity.token_revoked"))).all()
        assert [r.data["user_id"] for r in rows] == [session["user"]["id"]]

    async def test_the_cookie_names_the_session_that_ends(self, api, auth_header, expect_error) -> None:
        session = await api.signed_in()  # cookie set
        response = await api.client.post("/api/v1/auth/logout", headers=auth_header(session["access"]))
        assert response.status_code == 204
        expect_error(await _refresh(api, session["refresh"]), 401, "INVALID_TOKEN")

    async def test_without_any_refresh_token_every_session_ends(self, api, auth_header, expect_error) -> None:
        first = await api.signed_in()
        second = (await api.login()).json()
        api.client.cookies.clear()
        response = await api.client.post("/api/v1/auth/logout", headers=auth_header(first["access"]))
        assert response.status_code == 204
        for session in (first, second):
            expect_error(await _refresh(api, session["refresh"]), 401, "INVALID_TOKEN")

    async def test_another_users_refresh_token_is_left_alone(self, api, auth_header) -> None:
        ada = await api.signed_in("ada@example.com")
        bob = await api.signed_in("bob@example.com")
        response = await api.client.post("/api/v1/auth/logout", json={"refresh": bob["refresh"]},
                                         headers=auth_header(ada["access"]))
        assert response.status_code == 204
        assert (await _refresh(api, bob["refresh"])).status_code == 200

    async def test_requires_an_access_token(self, api, expect_error) -> None:
        expect_error(await api.client.post("/api/v1/auth/logout"), 401, "AUTHENTICATION_REQUIRED")


class TestVerifyToken:
    async def test_a_valid_token_is_described(self, api, auth_header) -> None:
        session = await api.signed_in()
        response = await api.client.get("/api/v1/auth/verify-token", headers=auth_header(session["access"]))
        assert response.status_code == 200
        claims = jwt.decode(session["access"], options={"verify_signature": False})
        body = response.json()
        assert (body["valid"], body["user_id"]) == (True, session["user"]["id"])
        assert datetime.fromisoformat(body["expires_at"]) == datetime.fromtimestamp(claims["exp"], UTC)

    async def test_no_token_is_401(self, api, expect_error) -> None:
        expect_error(await api.client.get("/api/v1/auth/verify-token"), 401, "AUTHENTICATION_REQUIRED")


def _forge(token: str, **changes: object) -> str:
    """The same token with changed claims and the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


class TestRefusedAccessTokens:
    async def test_a_tampered_token_is_401(self, api, auth_header, expect_error) -> None:
        session = await api.signed_in()
        forged = _forge(session["access"], roles=["customer", "staff"])
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(forged)), 401, "INVALID_TOKEN")

    async def test_an_unsigned_alg_none_token_is_401(self, api, harness, auth_header, expect_error) -> None:
        session = await api.signed_in()
        claims = jwt.decode(session["access"], options={"verify_signature": False})
        unsigned = jwt.encode(claims, None, algorithm="none",
                              headers={"kid": harness.runtime.context.signing_key.kid})
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(unsigned)), 401, "INVALID_TOKEN")

    async def test_an_expired_token_is_401(self, api, harness, auth_header, expect_error) -> None:
        user = await api.verified_user()
        key = harness.runtime.context.signing_key
        past = datetime.now(UTC) - timedelta(hours=1)
        expired = jwt.encode({"iss": "atelier", "aud": "atelier", "iat": past, "exp": past + timedelta(minutes=15),
                              "jti": uuid.uuid4().hex, "sub": user["id"], "typ": "access", "roles": ["customer"],
                              "email": user["email"]}, key.private_key, algorithm=ALGORITHM,
                             headers={"kid": key.kid})
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(expired)), 401, "INVALID_TOKEN")

    async def test_an_anonymous_token_is_not_an_access_token(self, api, test_keys: TestKeys, auth_header,
                                                            expect_error) -> None:
        anon = test_keys.anon_token()
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(anon)), 401, "INVALID_TOKEN")

    async def test_a_token_signed_by_an_unknown_key_is_401(self, api, auth_header, expect_error) -> None:
        stranger = TestKeys().access_token()
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(stranger)), 401, "INVALID_TOKEN")

    async def test_a_valid_token_for_an_account_that_does_not_exist_is_401(self, api, test_keys: TestKeys,
                                                                          auth_header, expect_error) -> None:
        ghost = test_keys.access_token(uuid.uuid4())
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(ghost)), 401, "INVALID_TOKEN")

    async def test_a_malformed_authorization_header_is_401(self, api, expect_error) -> None:
        response = await api.client.get("/api/v1/users/me", headers={"Authorization": "Basic YTpi"})
        expect_error(response, 401, "INVALID_TOKEN")


class TestJwks:
    async def test_publishes_the_signing_key_so_other_services_can_verify(self, api) -> None:
        session = await api.signed_in()
        response = await api.client.get("/.well-known/jwks.json")
        assert response.status_code == 200
        [jwk] = response.json()["keys"]
        assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
        assert "d" not in jwk  # never the private part
        verifier = TokenVerifier(JwksCache(None, static_json=response.text), issuer="atelier", audience="atelier")
        principal = await verifier.principal_from_access(session["access"])
        assert str(principal.user_id) == session["user"]["id"]

    async def test_the_key_survives_a_restart(self, start_identity) -> None:
        async with start_identity() as api:
            first = (await api.client.get("/.well-known/jwks.json")).json()
        async with start_identity() as api:
            assert (await api.client.get("/.well-known/jwks.json")).json() == first
