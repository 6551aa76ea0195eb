"""TokenVerifier: verified tokens are remembered until they expire, never past it."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from atelier_common.auth import InvalidToken, JwksCache, TokenVerifier
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
