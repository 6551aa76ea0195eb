"""Django's password formats, verify-only: accounts moved in from a Django product keep their
passwords, and the first successful sign-in re-hashes them with Atelier's Argon2id (pwdlib's
`verify_and_update` does that for any hasher that is not the current one).

Formats (django/contrib/auth/hashers.py):
- `pbkdf2_sha256$<iterations>$<salt>$<base64 digest>` (Django's default), `pbkdf2_sha1$…` likewise;
- `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: argon2-cffi's own encoding behind a prefix;
- `bcrypt_sha256$$2b$<cost>$…`: bcrypt of the hex SHA-256 of the password.
`!…` is Django's unusable password: no hasher identifies it, so it never verifies.

The work a hash asks for travels in the hash (iterations, memory, time, cost), and an imported
hash was written by someone else: `WorkCaps` bounds it, so one account cannot make each sign-in
burn cores and gigabytes for minutes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError
from pwdlib.hashers import HasherProtocol
from pwdlib.hashers.base import ensure_bytes, ensure_str


@dataclass(frozen=True)
class WorkCaps:
    """The most work one stored hash may ask of a sign-in (identity's `password_hash_max_*`
    settings). The defaults sit well above what Django writes (PBKDF2 1,000,000 iterations in 5.2,
    1,200,000 in 6.0; argon2 t=2, m=100 MiB, p=8; bcrypt cost 12), argon2-cffi (t=3, m=64 MiB, p=4)
    and bcrypt (12), so real accounts move in; each cap costs a core about a second per sign-in,
    where `pbkdf2_sha256$999999999$…` or argon2 `m=1 GiB,t=100` would take a minute and a gigabyte."""

    pbkdf2_iterations: int = 3_000_000
    argon2_memory_kib: int = 262_144
    argon2_time_cost: int = 10
    argon2_parallelism: int = 16
    bcrypt_cost: int = 14

    def excess(self, hashed: str) -> str | None:
        """Why verifying `hashed` would take more work than the caps allow (or its work cannot be
        read, so nothing says it would not); None when it would not, or the format is not one of these."""
        if hashed.startswith((DjangoPbkdf2Hasher.prefix, DjangoPbkdf2Sha1Hasher.prefix)):
            # The same reading as the verification's: what is checked here is what would run.
            return self._over(hashed, pbkdf2_iterations=_int(hashed.split("$", 2)[1]))
        if hashed.startswith((DjangoArgon2Hasher.prefix, "$argon2")):
            try:
                found = argon2.extract_parameters(hashed.removeprefix("argon2"))
            except InvalidHashError:
                return "argon2: its parameters cannot be read"
            return self._over(hashed, argon2_memory_kib=found.memory_cost, argon2_time_cost=found.time_cost,
                              argon2_parallelism=found.parallelism)
        if hashed.startswith(DjangoBcryptSha256Hasher.prefix):
            # `bcrypt_sha256$$2b$12$…`: the cost is the third field of bcrypt's own encoding.
            fields = hashed[len(DjangoBcryptSha256Hasher.prefix):].split("$")
            return self._over(hashed, bcrypt_cost=_int(fields[2]) if len(fields) > 2 else None)
        return None

    def _over(self, hashed: str, **found: int | None) -> str | None:
        name = hashed.split("$", 1)[0] or "argon2"
        for factor, value in found.items():
            if value is None:
                return f"{name}: its work factor cannot be read"
            cap: int = getattr(self, factor)
            if value > cap:
                return (f"{name}: {factor.partition('_')[2].replace('_', ' ')} {value:,} is over the cap of {cap:,}"
                        f" (ATELIER_IDENTITY_PASSWORD_HASH_MAX_{factor.upper()})")
        return None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


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
