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

from atelier_identity.legacy_hashes import WorkCaps
from atelier_identity.models import User
from atelier_identity.security import PasswordHasher
from atelier_identity.settings import IdentitySettings

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


# Hashes that ask a sign-in for more work than anyone writes: each one would take a core
# (and argon2 a gigabyte) for a minute or more per attempt. Only the parameters are real.
_SALT, _DIGEST = "c2FsdHNhbHRzYWx0", "A" * 43
TOO_COSTLY = {
    "pbkdf2_sha256": "pbkdf2_sha256$999999999$salt$" + base64.b64encode(b"x" * 32).decode(),
    "pbkdf2_sha1": "pbkdf2_sha1$999999999$salt$" + base64.b64encode(b"x" * 20).decode(),
    "argon2 memory": f"argon2$argon2id$v=19$m=1048576,t=2,p=1${_SALT}${_DIGEST}",
    "argon2 time": f"argon2$argon2id$v=19$m=65536,t=100,p=1${_SALT}${_DIGEST}",
    "argon2 parallelism": f"argon2$argon2id$v=19$m=65536,t=2,p=255${_SALT}${_DIGEST}",
    "native argon2": f"$argon2id$v=19$m=1048576,t=100,p=1${_SALT}${_DIGEST}",
    "bcrypt_sha256": "bcrypt_sha256$$2b$31$" + "a" * 53,
}


class TestWorkCaps:
    @pytest.mark.parametrize("stored", TOO_COSTLY.values(), ids=TOO_COSTLY.keys())
    async def test_a_hash_over_a_cap_is_refused_without_running_it(
            self, hasher: PasswordHasher, stored: str, monkeypatch: pytest.MonkeyPatch) -> None:
        ran: list[str] = []
        for hasher_of_format in hasher._hash.hashers:
            monkeypatch.setattr(hasher_of_format, "verify", lambda password, hash, _ran=ran: _ran.append(hash))
        assert hasher.refusal(stored) is not None and "over the cap" in (hasher.refusal(stored) or "")
        assert not hasher.usable(stored)
        assert await hasher.verify(PASSWORD, stored) == (False, None)
        assert stored not in ran  # only the dummy ran, as for an unknown account

    @pytest.mark.parametrize("stored", [
        django_pbkdf2(PASSWORD, iterations=1_000_000),  # Django 5.2's default
        f"argon2$argon2id$v=19$m=102400,t=2,p=8${_SALT}${_DIGEST}",  # Django's Argon2PasswordHasher
        f"argon2$argon2id$v=19$m=65536,t=3,p=4${_SALT}${_DIGEST}",  # argon2-cffi's defaults
        "bcrypt_sha256$$2b$12$" + "a" * 53,  # Django's and bcrypt's cost
    ])
    def test_what_django_and_the_libraries_write_is_within_the_caps(self, hasher: PasswordHasher,
                                                                     stored: str) -> None:
        assert hasher.refusal(stored) is None

    def test_the_caps_are_settings(self) -> None:
        strict = PasswordHasher.of(IdentitySettings(
            environment="test", password_hash_time_cost=1, password_hash_memory_cost_kib=8,
            password_hash_parallelism=1, password_hash_max_pbkdf2_iterations=999))
        assert "ATELIER_IDENTITY_PASSWORD_HASH_MAX_PBKDF2_ITERATIONS" in (
            strict.refusal(FORMATS["pbkdf2_sha256"](PASSWORD)) or "")
        assert strict.refusal(FORMATS["argon2"](PASSWORD)) is None

    async def test_atelier_s_own_hashes_verify_whatever_the_argon2_caps(self) -> None:
        own = PasswordHasher(time_cost=2, memory_cost_kib=64, parallelism=2,
                             caps=WorkCaps(argon2_memory_kib=8, argon2_time_cost=1, argon2_parallelism=1))
        assert await own.verify(PASSWORD, await own.hash(PASSWORD)) == (True, None)

    @pytest.mark.parametrize("stored", ["pbkdf2_sha256$" + "9" * 5000 + "$salt$AAAA", "bcrypt_sha256$$2b$xx$" + "a" * 53,
                                        "argon2$argon2id$garbage"])
    def test_a_work_factor_that_cannot_be_read_is_refused(self, hasher: PasswordHasher, stored: str) -> None:
        assert "cannot be read" in (hasher.refusal(stored) or "")
