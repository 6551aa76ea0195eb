"""TokenVerifier: verified tokens are remembered until they expire, never past it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta

import httpx
import pytest

from atelier_common.auth import InvalidToken, JwksCache, TokenVerifier
from atelier_common.keys import jwks
from atelier_testing import TestKeys


@pytest.fixture
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
def verifier(keys: TestKeys) -> TokenVerifier:
    return TokenVerifier(JwksCache(None, static_json=keys.jwks_json, client=None), issuer=keys.issuer,
                         audience=keys.audience)


async def test_a_token_is_verified_once_then_remembered(verifier: TokenVerifier, keys: TestKeys,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    user = uuid.uuid4()
    token = keys.access_token(user)
    assert (await verifier.principal_from_access(token)).user_id == user

    async def no_more_verifying(*args: object) -> None:
        raise AssertionError("verified again")

    monkeypatch.setattr(verifier, "_decode", no_more_verifying)
    assert (await verifier.principal_from_access(token)).user_id == user
    with pytest.raises(AssertionError):  # the same token as another type is not the cached answer
        await verifier.anon_id(token)


async def test_a_remembered_token_is_verified_again_once_it_expires(verifier: TokenVerifier, keys: TestKeys,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    token = keys.access_token(ttl=timedelta(seconds=30))
    await verifier.principal_from_access(token)
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    verified_again: list[str] = []

    async def expired(token: str, typ: str) -> None:
        verified_again.append(typ)
        raise InvalidToken()  # what PyJWT says of it by then

    monkeypatch.setattr(verifier, "_decode", expired)
    with pytest.raises(InvalidToken):
        await verifier.principal_from_access(token)
    assert verified_again == ["access"]


async def test_bad_tokens_are_never_remembered(verifier: TokenVerifier, keys: TestKeys) -> None:
    tampered = keys.access_token()[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.principal_from_access(tampered)
    assert not verifier._verified


class TestJwksRefreshOnUnknownKid:
    """A rotated key (#38) reaches a verifier as an unknown kid: its first token must verify, even
    right after a fetch, and made-up kids must not turn into a fetch per request."""

    @staticmethod
    def _served(documents: list[str]) -> tuple[JwksCache, list[float]]:
        fetches: list[float] = []

        def handler(request: httpx.Request) -> httpx.Response:
            fetches.append(time.monotonic())
            return httpx.Response(200, text=documents[0])

        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        return JwksCache("http://identity/.well-known/jwks.json", client=client, min_interval=0.3), fetches

    async def test_a_token_of_a_key_published_just_after_a_fetch_verifies_on_its_first_request(self) -> None:
        old, new = TestKeys(), TestKeys()
        documents = [json.dumps(jwks(old.access))]
        cache, fetches = self._served(documents)
        verifier = TokenVerifier(cache, issuer=old.issuer, audience=old.audience)
        await verifier.principal_from_access(old.access_token())
        documents[0] = json.dumps(jwks(new.access, old.access))  # rotated, right after that fetch
        user = uuid.uuid4()
        assert (await verifier.principal_from_access(new.access_token(user))).user_id == user
        assert len(fetches) == 2 and fetches[1] - fetches[0] >= 0.29  # rate-limited by waiting, not refusing

    async def test_made_up_kids_share_one_fetch_per_interval(self) -> None:
        keys = TestKeys()
        cache, fetches = self._served([json.dumps(jwks(keys.access))])
        await cache.get(keys.access.kid)
        started = time.monotonic()
        results = await asyncio.gather(*(cache.get(f"made-up-{i}") for i in range(50)))
        assert results == [None] * 50
        assert len(fetches) <= 1 + 2 + int((time.monotonic() - started) / 0.3)
