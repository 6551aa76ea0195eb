"""TokenVerifier: verified tokens are remembered until they expire, never past it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta

import httpx
import pytest

from atelier_common.auth import InvalidToken, JwksCache, TokenVerifier, storefront_scope
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


class TestJwksSources:
    """Several identity processes each publish the keys: the edge asks them in turn, so one of
    them down does not leave the edge without a key it has not seen yet."""

    async def test_the_next_source_answers_when_the_first_is_down_or_failing(self) -> None:
        keys = TestKeys()
        asked: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            asked.append(request.url.host)
            if request.url.host == "identity-1":
                raise httpx.ConnectError("refused", request=request)
            if request.url.host == "identity-2":
                return httpx.Response(503, text="starting")
            return httpx.Response(200, text=json.dumps(jwks(keys.access)))

        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        cache = JwksCache([f"http://identity-{n}/.well-known/jwks.json" for n in (1, 2, 3)], client=client)
        user = uuid.uuid4()
        verifier = TokenVerifier(cache, issuer=keys.issuer, audience=keys.audience)
        assert (await verifier.principal_from_access(keys.access_token(user))).user_id == user
        assert asked == ["identity-1", "identity-2", "identity-3"]

    async def test_no_source_answering_keeps_the_keys_it_had(self) -> None:
        keys = TestKeys()
        up = [True]

        def handler(request: httpx.Request) -> httpx.Response:
            if not up[0]:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(200, text=json.dumps(jwks(keys.access)))

        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        cache = JwksCache(["http://identity-1/jwks", "http://identity-2/jwks"], client=client, ttl=0.0,
                          min_interval=0.0)
        assert await cache.get(keys.access.kid) is not None
        up[0] = False
        assert await cache.get(keys.access.kid) is not None  # stale, refetch failed: the old keys stay


class TestJwksRefreshOnUnknownKid:
    """A rotated key reaches a verifier as an unknown kid: its first token must verify, even
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
        before = time.monotonic()  # the first fetch begins after this
        await verifier.principal_from_access(old.access_token())
        documents[0] = json.dumps(jwks(new.access, old.access))  # rotated, right after that fetch
        user = uuid.uuid4()
        assert (await verifier.principal_from_access(new.access_token(user))).user_id == user
        # Rate-limited by waiting, not refusing: the second fetch began `min_interval` after the first
        # did. Measured from before the first began, so a slow first request cannot shrink the gap.
        assert len(fetches) == 2 and fetches[1] - before >= 0.299

    async def test_made_up_kids_share_one_fetch_per_interval(self) -> None:
        keys = TestKeys()
        cache, fetches = self._served([json.dumps(jwks(keys.access))])
        await cache.get(keys.access.kid)
        started = time.monotonic()
        results = await asyncio.gather(*(cache.get(f"made-up-{i}") for i in range(50)))
        assert results == [None] * 50
        assert len(fetches) <= 1 + 2 + int((time.monotonic() - started) / 0.3)


class TestRetiredKeys:
    """A key retired early (`atelier keys retire KID --force`, a leaked key): the tokens it
    signed stop verifying, those verified (and remembered) before it included."""

    async def test_a_remembered_token_of_a_retired_key_is_refused_at_once(self, verifier: TokenVerifier,
                                                                           keys: TestKeys) -> None:
        token = keys.access_token()
        await verifier.principal_from_access(token)
        assert verifier.remembered(token, "access") is not None
        verifier.jwks.retire(keys.access.kid)  # what `identity.key_retired` does
        assert verifier.remembered(token, "access") is None
        with pytest.raises(InvalidToken):
            await verifier.principal_from_access(token)
        with pytest.raises(InvalidToken):  # nor a new token of that key
            await verifier.principal_from_access(keys.access_token())
        # The anonymous key, not retired, still verifies.
        await verifier.anon_id(keys.anon_token())

    async def test_a_retired_kid_is_not_trusted_again_by_a_fetch_or_a_pin(self, keys: TestKeys) -> None:
        served: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            served.append(request)
            return httpx.Response(200, text=keys.jwks_json)  # a JWKS that still lists it

        cache = JwksCache("http://identity/.well-known/jwks.json", ttl=0.0, min_interval=0.0,
                          client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
        assert await cache.get(keys.access.kid) is not None
        cache.retire(keys.access.kid)
        assert await cache.get(keys.access.kid) is None
        cache.pin_only({keys.access.kid: keys.access.private_key.public_key()})
        cache.pin(keys.access.kid, keys.access.private_key.public_key())
        assert await cache.get(keys.access.kid) is None and not cache.trusts(keys.access.kid)
        assert await cache.get(keys.anon.kid) is not None

    async def test_without_the_event_a_key_gone_from_the_jwks_stops_its_tokens_at_the_next_fetch(
            self, keys: TestKeys) -> None:
        """The broker down: the JWKS cache's lifetime (`jwks_cache_seconds`) is the backstop."""
        documents = [keys.jwks_json]
        client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200, text=documents[0])))
        # Stale at once: every use asks the source again, as one does `ttl` after its last fetch.
        verifier = TokenVerifier(JwksCache("http://identity/.well-known/jwks.json", client=client, ttl=0.0,
                                           min_interval=0.0), issuer=keys.issuer, audience=keys.audience)
        token = keys.access_token()
        await verifier.principal_from_access(token)
        assert verifier.remembered(token, "access") is None  # a stale JWKS vouches for nothing without a fetch
        documents[0] = json.dumps(jwks(keys.anon))  # the access key retired: no longer published
        with pytest.raises(InvalidToken):
            await verifier.principal_from_access(token)


class TestStorefrontScope:
    """An API key's token carries the storefronts it may touch (`sfs`); a person's carries none."""

    async def test_the_scope_of_a_key_and_of_a_person(self, verifier: TokenVerifier, keys: TestKeys) -> None:
        key_id = uuid.uuid4()
        scoped = await verifier.principal_from_access(keys.api_key_token(key_id, ["support"], ["eu", "uk"]))
        assert scoped.user_id == key_id and scoped.has_role("support") and not scoped.has_role("finance")
        assert scoped.storefronts == frozenset({"eu", "uk"}) and scoped.email == "api-key:erp"
        assert scoped.may_touch("eu") and not scoped.may_touch("us") and not scoped.may_touch(None)
        every = await verifier.principal_from_access(keys.api_key_token(key_id, ["support"], ["*"]))
        person = await verifier.principal_from_access(keys.access_token(roles=("customer", "staff", "support")))
        for principal in (every, person):
            assert principal.storefronts is None and principal.may_touch("us")

    def test_a_malformed_scope_touches_nothing(self) -> None:
        assert storefront_scope(None) is None and storefront_scope(["*"]) is None
        assert storefront_scope("eu") == frozenset() and storefront_scope([1]) == frozenset()
        assert storefront_scope([]) == frozenset()
