"""Django's password formats, verify-only: accounts moved in from a Django product keep their
passwords, and the first successful sign-in re-hashes them with Atelier's Argon2id (pwdlib's
`verify_and_update` does that for any hasher that is not the current one).

Formats (django/contrib/auth/hashers.py):
- `pbkdf2_sha256$<iterations>$<salt>$<base64 digest>` (Django's default), `pbkdf2_sha1$…` likewise;
- `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: argon2-cffi's own encoding behind a prefix;
- `bcrypt_sha256$$2b$<cost>$…`: bcrypt of the hex SHA-256 of the password.
`!…` is Django's unusable password: no hasher identifies it, so it never verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError
from pwdlib.hashers import HasherProtocol
from pwdlib.hashers.base import ensure_bytes, ensure_str


class _LegacyHasher(HasherProtocol):
    """Verify-only: Atelier never writes these formats."""

    prefix: str

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        return ensure_str(hash).startswith(cls.prefix)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        raise NotImplementedError(f"{self.prefix} is verified, never written")

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True


class DjangoPbkdf2Hasher(_LegacyHasher):
    prefix = "pbkdf2_sha256$"
    digest = "sha256"

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        try:
            _, iterations, salt, encoded = ensure_str(hash).split("$", 3)
            rounds = int(iterations)
            expected = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            return False
        if rounds < 1 or "$" in encoded:
            return False
        actual = hashlib.pbkdf2_hmac(self.digest, ensure_bytes(password), salt.encode(), rounds)
        return hmac.compare_digest(actual, expected)


class DjangoPbkdf2Sha1Hasher(DjangoPbkdf2Hasher):
    prefix = "pbkdf2_sha1$"
    digest = "sha1"


class DjangoArgon2Hasher(_LegacyHasher):
    prefix = "argon2$argon2"

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        # Django stores argon2-cffi's `$argon2id$…` behind "argon2"; the parameters travel in the hash.
        try:
            return argon2.PasswordHasher().verify(ensure_str(hash)[len("argon2"):], ensure_bytes(password))
        except (VerificationError, InvalidHashError):
            return False


class DjangoBcryptSha256Hasher(_LegacyHasher):
    prefix = "bcrypt_sha256$"

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        # bcrypt reads 72 bytes at most: Django hashes the password first so a long one counts whole.
        prehashed = hashlib.sha256(ensure_bytes(password)).hexdigest().encode()
        try:
            return bcrypt.checkpw(prehashed, ensure_bytes(hash)[len(self.prefix):])
        except ValueError:
            return False


DJANGO_HASHERS: tuple[HasherProtocol, ...] = (
    DjangoPbkdf2Hasher(), DjangoPbkdf2Sha1Hasher(), DjangoArgon2Hasher(), DjangoBcryptSha256Hasher())
