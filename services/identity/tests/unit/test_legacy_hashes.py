"""Django's password formats verify through the one PasswordHasher, and a match is re-hashed.

Each hash is made here the way Django makes it (django/contrib/auth/hashers.py), with the same
primitives: hashlib's PBKDF2, argon2-cffi, bcrypt over the hex SHA-256.
"""

from __future__ import annotations

import base64
import hashlib

import argon2
import bcrypt
import pytest

from atelier_identity.models import User
from atelier_identity.security import PasswordHasher

PASSWORD = "correct horse battery staple"


def django_pbkdf2(password: str, *, algorithm: str = "sha256", salt: str = "Q9hU3h6N0s8nZpYdX2aLkM",
                  iterations: int = 870_000) -> str:
    digest = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), iterations)
    return f"pbkdf2_{algorithm}${iterations}${salt}${base64.b64encode(digest).decode()}"


def django_argon2(password: str) -> str:
    # Django's Argon2PasswordHasher: argon2-cffi's encoding behind "argon2" (its own params: t=2 m=100 MiB).
    return "argon2" + argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


def django_bcrypt_sha256(password: str) -> str:
    prehashed = hashlib.sha256(password.encode()).hexdigest().encode()
    return "bcrypt_sha256$" + bcrypt.hashpw(prehashed, bcrypt.gensalt(4)).decode()


FORMATS = {
    # Fewer iterations than Django's 870,000 keep the test fast; the count travels in the hash.
    "pbkdf2_sha256": lambda password: django_pbkdf2(password, iterations=1_000),
    "pbkdf2_sha1": lambda password: django_pbkdf2(password, algorithm="sha1", iterations=1_000),
    "argon2": django_argon2,
    "bcrypt_sha256": django_bcrypt_sha256,
}


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


def test_a_django_default_hash_with_its_real_iteration_count_verifies(hasher: PasswordHasher) -> None:
    # Django 5.1's default, checked once against the real cost.
    assert hasher._hash.verify(PASSWORD, django_pbkdf2(PASSWORD))


def test_a_known_django_pbkdf2_vector_verifies(hasher: PasswordHasher) -> None:
    # make_password("letmein", salt="seasalt", hasher="pbkdf2_sha256") with 260,000 iterations (Django 3.2).
    vector = "pbkdf2_sha256$260000$seasalt$" + base64.b64encode(
        hashlib.pbkdf2_hmac("sha256", b"letmein", b"seasalt", 260_000)).decode()
    assert hasher._hash.verify("letmein", vector)
    assert not hasher._hash.verify("letmein!", vector)


@pytest.mark.parametrize("fmt", FORMATS)
class TestDjangoFormats:
    async def test_the_right_password_verifies_and_comes_back_rehashed_as_argon2id(
            self, hasher: PasswordHasher, fmt: str) -> None:
        matches, rehashed = await hasher.verify(PASSWORD, FORMATS[fmt](PASSWORD))
        assert matches
        assert rehashed is not None and rehashed.startswith("$argon2id$")
        assert await hasher.verify(PASSWORD, rehashed) == (True, None)

    async def test_a_wrong_password_does_not_verify(self, hasher: PasswordHasher, fmt: str) -> None:
        assert await hasher.verify(PASSWORD + "x", FORMATS[fmt](PASSWORD)) == (False, None)

    async def test_check_stores_the_rehash_on_the_user(self, hasher: PasswordHasher, fmt: str) -> None:
        user = User(email="old@example.com", first_name="", last_name="", password_hash=FORMATS[fmt](PASSWORD))
        assert await hasher.check(PASSWORD, user)
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")

    async def test_a_failed_check_leaves_the_hash_alone(self, hasher: PasswordHasher, fmt: str) -> None:
        stored = FORMATS[fmt](PASSWORD)
        user = User(email="old@example.com", first_name="", last_name="", password_hash=stored)
        assert not await hasher.check("wrong", user)
        assert user.password_hash == stored

    def test_the_format_is_usable(self, hasher: PasswordHasher, fmt: str) -> None:
        assert hasher.usable(FORMATS[fmt](PASSWORD))


class TestUnusableAndUnknown:
    @pytest.mark.parametrize("stored", [
        "!",  # Django's set_unusable_password(): "!" and 40 random characters
        "!Vx3kQ0aZrT9mW2bLc8dNf4gHj6kPq1sRt5uYw7z",
        "md5$salt$1bd3c1e6b4f7e5a8e2c4a0b0f1e0d6c1",  # a Django format Atelier does not read
        "sha1$$" + hashlib.sha1(PASSWORD.encode()).hexdigest(),
        "",
    ])
    async def test_never_verifies_and_is_not_usable(self, hasher: PasswordHasher, stored: str) -> None:
        assert await hasher.verify(PASSWORD, stored) == (False, None)
        assert await hasher.verify(stored, stored) == (False, None)
        assert not hasher.usable(stored)

    @pytest.mark.parametrize("stored", [
        "pbkdf2_sha256$notanumber$salt$AAAA",
        "pbkdf2_sha256$0$salt$AAAA",
        "pbkdf2_sha256$1000$salt$not base64!",
        "pbkdf2_sha256$1000$salt",
        "argon2$argon2id$garbage",
        "bcrypt_sha256$$2b$garbage",
    ])
    async def test_a_damaged_hash_is_a_refusal_not_an_error(self, hasher: PasswordHasher, stored: str) -> None:
        assert await hasher.verify(PASSWORD, stored) == (False, None)

    async def test_a_current_hash_needs_no_rehash(self, hasher: PasswordHasher) -> None:
        assert await hasher.verify(PASSWORD, await hasher.hash(PASSWORD)) == (True, None)
