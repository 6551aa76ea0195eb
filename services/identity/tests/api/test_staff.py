"""Staff accounts: the bootstrap at start and `create_user` (the CLI's entry point)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from pydantic import ValidationError
from sqlmodel import select

from atelier_identity.errors import InvalidEmail, UnknownStaffRole, UserNotFound, WeakPassword
from atelier_identity.models import User
from atelier_identity.security import PasswordHasher
from atelier_identity.service import change_staff_roles, create_user
from atelier_identity.settings import IdentitySettings

STAFF = {"bootstrap_staff_email": "Admin@Example.com", "bootstrap_staff_password": "staff password 1"}
CHEAP = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


async def _users(api) -> list[User]:
    async with api.h.runtime.db.read_only() as session:
        return list((await session.exec(select(User))).all())


class TestStaffBootstrap:
    async def test_creates_a_verified_staff_account_that_can_log_in(self, start_identity) -> None:
        async with start_identity(**STAFF) as api:
            response = await api.login("admin@example.com", "staff password 1")
            assert response.status_code == 200, response.text
            assert response.json()["user"]["roles"] == ["customer", "staff", "admin"]
            claims = jwt.decode(response.json()["access"], options={"verify_signature": False})
            assert claims["roles"] == ["customer", "staff", "admin"]

    async def test_a_restart_keeps_the_one_account(self, start_identity) -> None:
        async with start_identity(**STAFF) as api:
            first = await _users(api)
        async with start_identity(**STAFF) as api:
            assert [u.id for u in await _users(api)] == [u.id for u in first]

    async def test_an_existing_customer_is_promoted_and_keeps_their_password(self, start_identity) -> None:
        async with start_identity() as api:
            await api.register("admin@example.com", "own password 1")
        async with start_identity(**STAFF) as api:
            assert (await api.login("admin@example.com", "staff password 1")).status_code == 401
            response = await api.login("admin@example.com", "own password 1")
            assert response.status_code == 200  # verified by the bootstrap
            assert response.json()["user"]["roles"] == ["customer", "staff", "admin"]

    def test_an_email_without_a_password_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="go together"):
            IdentitySettings(bootstrap_staff_email="admin@example.com")

    def test_production_requires_a_configured_signing_key(self) -> None:
        with pytest.raises(ValidationError, match="signing_key_pem"):
            IdentitySettings(environment="production", service_token="a-real-secret")


class TestCreateUser:
    async def test_creates_a_verified_customer(self, api) -> None:
        user = await create_user(api.h.runtime.db, email="Carol@Example.com", password="carol password",
                                 staff=False, passwords=CHEAP)
        assert (user.email, user.is_staff, user.is_verified) == ("carol@example.com", False, True)
        assert (await api.login("carol@example.com", "carol password")).status_code == 200

    async def test_is_idempotent_and_promotes_with_staff(self, api) -> None:
        db = api.h.runtime.db
        first = await create_user(db, email="carol@example.com", password="carol password", staff=False,
                                  passwords=CHEAP)
        again = await create_user(db, email="carol@example.com", password="other password", staff=True,
                                  passwords=CHEAP)
        assert again.id == first.id and again.is_staff and again.staff_roles == ["admin"]
        assert [u.email for u in await _users(api)] == ["carol@example.com"]

    async def test_an_unverified_account_may_be_created(self, api) -> None:
        user = await create_user(api.h.runtime.db, email="dan@example.com", password="dan password", staff=False,
                                 verified=False, passwords=CHEAP)
        assert not user.is_verified

    async def test_the_password_policy_applies(self, api) -> None:
        with pytest.raises(WeakPassword):
            await create_user(api.h.runtime.db, email="e@example.com", password="1234", staff=True, passwords=CHEAP)

    async def test_the_email_must_be_an_address(self, api) -> None:
        with pytest.raises(InvalidEmail):
            await create_user(api.h.runtime.db, email="not an email", password="good password", staff=True,
                              passwords=CHEAP)


TTL = timedelta(minutes=15)


class TestStaffRoles:
    """`atelier users grant-role / revoke-role`."""

    async def test_a_granted_role_is_in_the_next_token_and_revoking_the_last_leaves_a_customer(self, api) -> None:
        db = api.h.runtime.db
        await create_user(db, email="sue@example.com", password="sue password", staff=False, passwords=CHEAP)
        assert await change_staff_roles(db, email="Sue@example.com", grant=["support"], access_ttl=TTL) == (
            [], ["support"])
        assert await change_staff_roles(db, email="sue@example.com", grant=["finance"], access_ttl=TTL) == (
            ["support"], ["finance", "support"])
        response = await api.login("sue@example.com", "sue password")
        claims = jwt.decode(response.json()["access"], options={"verify_signature": False})
        assert claims["roles"] == ["customer", "staff", "finance", "support"]
        await change_staff_roles(db, email="sue@example.com", revoke=["finance", "support"], access_ttl=TTL)
        (user,) = await _users(api)
        assert (user.is_staff, user.staff_roles, user.roles) == (False, [], ["customer"])

    async def test_a_role_change_ends_every_session(self, api) -> None:
        db = api.h.runtime.db
        await create_user(db, email="sue@example.com", password="sue password", staff=False, passwords=CHEAP)
        session = (await api.login("sue@example.com", "sue password")).json()
        await change_staff_roles(db, email="sue@example.com", grant=["support"], access_ttl=TTL)
        refreshed = await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
        assert refreshed.status_code == 401

    async def test_an_unknown_role_or_account_changes_nothing(self, api) -> None:
        db = api.h.runtime.db
        await create_user(db, email="sue@example.com", password="sue password", staff=False, passwords=CHEAP)
        with pytest.raises(UnknownStaffRole):
            await change_staff_roles(db, email="sue@example.com", grant=["support", "owner"], access_ttl=TTL)
        with pytest.raises(UserNotFound):
            await change_staff_roles(db, email="nobody@example.com", grant=["support"], access_ttl=TTL)
        (user,) = await _users(api)
        assert user.staff_roles == []
