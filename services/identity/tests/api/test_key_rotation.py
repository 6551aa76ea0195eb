"""Signing key rotation: nobody is signed out, new tokens use the new key, old keys retire."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from sqlmodel import select

from atelier_common.auth import JwksCache, TokenVerifier
from atelier_common.keys import SigningKey
from atelier_identity.errors import ActiveKeyNotRetirable, KeyNotFound, KeyStillPublished
from atelier_identity.models import SigningKeyRecord
from atelier_identity.service.keys import list_keys, retire, rotate

TTL = timedelta(minutes=15)


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def _kids(api) -> list[str]:
    return [jwk["kid"] for jwk in (await api.client.get("/.well-known/jwks.json")).json()["keys"]]


class TestRotate:
    async def test_tokens_signed_before_keep_working_and_new_ones_use_the_new_key(self, api, harness,
                                                                                  auth_header) -> None:
        before = await api.signed_in()
        old_kid = _kid(before["access"])
        db = harness.runtime.db

        rotated = await rotate(db, access_ttl=TTL)

        # Published at once, by the JWKS of every process (it reads the table), before anyone signs with it.
        assert await _kids(api) == [rotated.kid, old_kid]
        await harness.runtime.context.keys.refresh()  # what each process's refresh loop does within seconds
        after = (await api.login("ada@example.com")).json()
        assert _kid(after["access"]) == rotated.kid != old_kid
        for token in (before["access"], after["access"]):
            response = await api.client.get("/api/v1/users/me", headers=auth_header(token))
            assert response.status_code == 200, response.text
        # Another service, verifying from the published JWKS alone, accepts both as well.
        jwks = (await api.client.get("/.well-known/jwks.json")).text
        verifier = TokenVerifier(JwksCache(None, static_json=jwks), issuer="atelier", audience="atelier")
        for token in (before["access"], after["access"]):
            assert str((await verifier.principal_from_access(token)).user_id) == before["user"]["id"]

        states = {state.kid: state for state in await list_keys(db)}
        assert states[rotated.kid].state == "active"
        assert states[old_kid].state == "published"
        retire_after = states[old_kid].retire_after
        assert retire_after is not None and retire_after - rotated.activated_at == TTL + timedelta(minutes=1)

    async def test_the_old_key_leaves_the_jwks_after_the_longest_token_lifetime(self, api, harness) -> None:
        old_kid = _kid((await api.signed_in())["access"])
        # A lifetime already over: the old key's overlap has ended by the time anyone looks.
        rotated = await rotate(harness.runtime.db, access_ttl=timedelta(minutes=-2))
        assert await _kids(api) == [rotated.kid]
        states = {state.kid: state.state for state in await list_keys(harness.runtime.db)}
        assert states == {rotated.kid: "active", old_kid: "retired"}


class TestRetire:
    async def test_retires_keys_past_their_overlap_and_erases_their_private_half(self, api, harness) -> None:
        db = harness.runtime.db
        old_kid = harness.runtime.context.signing_key.kid
        await rotate(db, access_ttl=timedelta(minutes=-2))
        async with db.read_only() as session:
            record = await session.get(SigningKeyRecord, old_kid)
        assert record is not None and record.retired_at is not None and record.private_pem == ""
        assert await retire(db) == []  # nothing else is due

    async def test_refuses_the_active_key_an_unknown_one_and_a_key_still_needed(self, api, harness) -> None:
        db = harness.runtime.db
        old_kid = harness.runtime.context.signing_key.kid
        new = await rotate(db, access_ttl=TTL)
        with pytest.raises(ActiveKeyNotRetirable):
            await retire(db, new.kid)
        with pytest.raises(KeyNotFound):
            await retire(db, "nope")
        with pytest.raises(KeyStillPublished):
            await retire(db, old_kid)
        assert old_kid in await _kids(api)
        [forced] = await retire(db, old_kid, force=True)
        assert forced.state == "retired"
        assert await _kids(api) == [new.kid]

    async def test_a_key_retired_by_force_stops_the_tokens_verified_before_it(self, api, harness,
                                                                              auth_header, expect_error) -> None:
        """A leaked key: its tokens stop at once, even those this process verified (and
        remembered) before; every verifier hears `identity.key_retired`."""
        db = harness.runtime.db
        before = await api.signed_in()
        leaked = _kid(before["access"])
        assert (await api.client.get("/api/v1/users/me", headers=auth_header(before["access"]))).status_code == 200
        await rotate(db, access_ttl=TTL)
        await harness.runtime.context.keys.refresh()
        after = (await api.login("ada@example.com")).json()["access"]

        await retire(db, leaked, force=True)
        await harness.drain()
        assert [e.data["kid"] for e in harness.published("identity.key_retired")] == [leaked]
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(before["access"])), 401,
                     "INVALID_TOKEN")
        assert (await api.client.get("/api/v1/users/me", headers=auth_header(after))).status_code == 200
        # The key ring's next refresh does not bring it back.
        await harness.runtime.context.keys.refresh()
        expect_error(await api.client.get("/api/v1/users/me", headers=auth_header(before["access"])), 401,
                     "INVALID_TOKEN")


class TestConfiguredKey:
    async def test_a_newly_configured_key_is_rotated_in_with_the_same_overlap(self, start_identity) -> None:
        async with start_identity() as api:
            first = await _kids(api)
        replacement = SigningKey.generate()
        async with start_identity(signing_key_pem=replacement.pem().decode()) as api:
            assert await _kids(api) == [replacement.kid, *first]
            async with api.h.runtime.db.read_only() as session:
                kids = {r.kid for r in (await session.exec(select(SigningKeyRecord))).all()}
            assert kids == {replacement.kid, *first}
