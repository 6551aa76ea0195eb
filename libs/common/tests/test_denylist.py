"""A revoked access token is refused by a service reached directly, not only by the gateway,
and so is a token of a signing key retired early."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import APIRouter

from atelier_common.auth import UserPrincipal
from atelier_common.contracts.identity import KeyRetired, TokenRevoked
from atelier_common.denylist import Denylist
from atelier_common.service import ServiceSpec, build_app
from atelier_common.settings import ServiceSettings
from atelier_testing import RecordingBus, ServiceHarness, TestKeys, assert_error


@pytest.fixture
async def service(test_keys: TestKeys, tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    router = APIRouter()

    @router.get("/api/v1/mine")
    async def mine(user: UserPrincipal) -> dict[str, str]:
        return {"user": str(user.user_id)}

    settings = ServiceSettings(environment="test", data_dir=tmp_path, jwks_json=test_keys.jwks_json,
                               jwt_issuer=test_keys.issuer, jwt_audience=test_keys.audience,
                               database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db", log_json=False)
    bus = RecordingBus()
    async with ServiceHarness(build_app(ServiceSpec(name="demo", routers=[router]), settings, bus=bus,
                                          roles=frozenset({"api"})), bus) as h:
        yield h


def _claims(token: str) -> dict:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


async def test_a_logged_out_token_is_refused_once_the_event_arrives(service: ServiceHarness,
                                                                    test_keys: TestKeys) -> None:
    user = uuid.uuid4()
    token, other = test_keys.access_token(user), test_keys.access_token(user)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await service.client.get("/api/v1/mine", headers=headers)).status_code == 200  # now remembered
    claims = _claims(token)
    await service.deliver(TokenRevoked(user_id=user, jti=claims["jti"],
                                       expires_at=datetime.fromtimestamp(claims["exp"], UTC)), producer="identity")
    assert_error(await service.client.get("/api/v1/mine", headers=headers), 401, "INVALID_TOKEN")
    # Only that token: the user's other session goes on.
    assert (await service.client.get("/api/v1/mine", headers={"Authorization": f"Bearer {other}"})).status_code == 200


async def test_ended_sessions_refuse_every_token_issued_before(service: ServiceHarness, test_keys: TestKeys) -> None:
    user = uuid.uuid4()
    old = test_keys.access_token(user)
    ended = datetime.now(UTC) + timedelta(seconds=1)
    await service.deliver(TokenRevoked(user_id=user, all_before=ended, expires_at=ended + timedelta(minutes=15)),
                          producer="identity")
    assert_error(await service.client.get("/api/v1/mine", headers={"Authorization": f"Bearer {old}"}), 401,
                 "INVALID_TOKEN")
    someone_else = test_keys.access_token(uuid.uuid4())
    assert (await service.client.get("/api/v1/mine",
                                     headers={"Authorization": f"Bearer {someone_else}"})).status_code == 200


async def test_a_key_retired_early_stops_the_tokens_verified_before(service: ServiceHarness,
                                                                     test_keys: TestKeys) -> None:
    headers = {"Authorization": f"Bearer {test_keys.access_token(uuid.uuid4())}"}
    assert (await service.client.get("/api/v1/mine", headers=headers)).status_code == 200  # now remembered
    await service.deliver(KeyRetired(kid=test_keys.access.kid), producer="identity")
    assert_error(await service.client.get("/api/v1/mine", headers=headers), 401, "INVALID_TOKEN")
    assert_error(await service.client.get("/api/v1/mine", headers={
        "Authorization": f"Bearer {test_keys.access_token(uuid.uuid4())}"}), 401, "INVALID_TOKEN")


async def test_ended_sessions_but_one_keep_that_one(service: ServiceHarness, test_keys: TestKeys) -> None:
    """A password change ends every other session of the user and keeps the caller's (`keep_session`,
    the tokens' `sid`); a token naming no session is ended as before."""
    user, mine, theirs = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    kept = test_keys.access_token(user, session=mine)
    other = test_keys.access_token(user, session=theirs)
    unnamed = test_keys.access_token(user)
    ended = datetime.now(UTC) + timedelta(seconds=1)
    await service.deliver(TokenRevoked(user_id=user, all_before=ended, keep_session=mine,
                                       expires_at=ended + timedelta(minutes=15)), producer="identity")

    async def status(token: str) -> int:
        return (await service.client.get("/api/v1/mine", headers={"Authorization": f"Bearer {token}"})).status_code

    assert [await status(kept), await status(other), await status(unnamed)] == [200, 401, 401]
    # A later ending that keeps nothing (a password reset) ends the kept session too.
    later = ended + timedelta(seconds=1)
    await service.deliver(TokenRevoked(user_id=user, all_before=later, expires_at=later + timedelta(minutes=15)),
                          producer="identity")
    assert await status(kept) == 401


def test_an_ending_heard_late_never_weakens_one_heard_before() -> None:
    user, mine, theirs = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = datetime.now(UTC)
    denylist = Denylist()
    # Two password changes, from session `mine` then from `theirs`, heard in the wrong order.
    denylist.revoke(TokenRevoked(user_id=user, all_before=at + timedelta(seconds=2), keep_session=theirs,
                                 expires_at=at + timedelta(minutes=15)))
    denylist.revoke(TokenRevoked(user_id=user, all_before=at + timedelta(seconds=1), keep_session=mine,
                                 expires_at=at + timedelta(minutes=15)))
    claims = {"sub": str(user), "jti": "x", "iat": at.timestamp()}
    assert denylist.denies({**claims, "sid": str(mine)})  # the later change (from `theirs`) ended it
    assert not denylist.denies({**claims, "sid": str(theirs), "iat": (at + timedelta(seconds=1.5)).timestamp()})
    assert denylist.denies({**claims, "sid": str(theirs), "iat": (at + timedelta(seconds=0.5)).timestamp()})
