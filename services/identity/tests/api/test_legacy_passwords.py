"""Accounts moved in from a Django product sign in with their old password; the hash becomes Argon2id."""

from __future__ import annotations

import base64
import hashlib

from sqlmodel import select

from atelier_identity.models import User
from atelier_identity.service import create_user


def django_pbkdf2_sha256(password: str, salt: str = "moving1n", iterations: int = 1_000) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


async def _moved_in(api, email: str, stored: str) -> None:
    await create_user(api.h.runtime.db, email=email, password=api.password, staff=False)
    async with api.h.runtime.db.transaction() as session:
        user = (await session.exec(select(User).where(User.email == email))).one()
        user.password_hash = stored


async def _stored(api, email: str) -> str | None:
    async with api.h.runtime.db.read_only() as session:
        return (await session.exec(select(User).where(User.email == email))).one().password_hash


class TestDjangoPasswordAtLogin:
    async def test_the_old_password_signs_in_and_the_hash_becomes_argon2id(self, api) -> None:
        await _moved_in(api, "old@example.com", django_pbkdf2_sha256("an old Django password"))
        response = await api.login("old@example.com", "an old Django password")
        assert response.status_code == 200, response.text
        assert (await _stored(api, "old@example.com") or "").startswith("$argon2id$")
        assert (await api.login("old@example.com", "an old Django password")).status_code == 200

    async def test_a_wrong_password_is_refused_and_the_hash_kept(self, api, expect_error) -> None:
        stored = django_pbkdf2_sha256("an old Django password")
        await _moved_in(api, "old@example.com", stored)
        expect_error(await api.login("old@example.com", "not it"), 401, "INVALID_CREDENTIALS")
        assert await _stored(api, "old@example.com") == stored

    async def test_an_unusable_django_password_never_signs_in(self, api, expect_error) -> None:
        await _moved_in(api, "old@example.com", "!Vx3kQ0aZrT9mW2bLc8dNf4gHj6kPq1sRt5uYw7z")
        expect_error(await api.login("old@example.com", "!Vx3kQ0aZrT9mW2bLc8dNf4gHj6kPq1sRt5uYw7z"), 401,
                     "INVALID_CREDENTIALS")

    async def test_a_hash_over_the_work_caps_is_never_run(self, api, expect_error, monkeypatch) -> None:
        # Moved in before the caps existed: its sign-in fails like a wrong password, without the work.
        await _moved_in(api, "old@example.com", "pbkdf2_sha256$999999999$moving1n$" + "A" * 44)
        real = hashlib.pbkdf2_hmac

        def pbkdf2_hmac(name: str, password: bytes, salt: bytes, iterations: int, *rest: int | None) -> bytes:
            assert iterations <= 3_000_000, f"{iterations:,} iterations were run"  # minutes of a core
            return real(name, password, salt, iterations, *rest)

        monkeypatch.setattr(hashlib, "pbkdf2_hmac", pbkdf2_hmac)
        expect_error(await api.login("old@example.com", "anything"), 401, "INVALID_CREDENTIALS")
