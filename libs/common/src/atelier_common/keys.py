"""Signing keys (Ed25519) for tokens, and their public JWKS form; this install's own secrets.

A key comes from a PEM setting in production, or is generated once and kept under the data
directory in development so tokens survive a restart. Shared secrets (the service token, HMAC
signing and webhook secrets) work the same way outside production (`install_secret`): never a
constant of the code, which anyone could read and use to forge a link on a dev or staging install.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

ALGORITHM = "EdDSA"


class SigningKey:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.kid = hashlib.sha256(raw).hexdigest()[:16]

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: str | bytes) -> SigningKey:
        """A PEM key; as text it may also be written on one line with `\\n` for its line breaks (an
        env file cannot hold several lines)."""
        if isinstance(pem, str) and "\n" not in pem:
            pem = pem.replace("\\n", "\n")
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("signing keys must be Ed25519")
        return cls(key)

    @classmethod
    def load(cls, pem: str | None, path: Path) -> SigningKey:
        """The PEM when given, else the key stored at `path` (created on first use)."""
        if pem:
            return cls.from_pem(pem)
        if path.exists():
            return cls.from_pem(path.read_bytes())
        # Several processes sharing the data directory (compose's volume) may start at once.
        return cls.from_pem(_create_once(path, cls.generate().pem()))

    def pem(self) -> bytes:
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in keys]}


def same_signature(presented: str | bytes, expected: str | bytes) -> bool:
    """Constant-time comparison of a signature, token or secret, always as bytes.

    `hmac.compare_digest` raises TypeError on a `str` holding anything but ASCII, so a caller's
    `sig=é` would be a 500; as UTF-8 bytes it is simply a signature that does not match.
    """
    def raw(value: str | bytes) -> bytes:
        return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value

    return hmac.compare_digest(raw(presented), raw(expected))


def install_secret(directory: Path, name: str) -> str:
    """This install's secret `name`, kept in `directory/<name>.secret`: random on first use, then read.

    Processes sharing the data directory may ask at the same moment: the file is created whole
    and atomically (a link to a finished temporary file), and whoever loses the race reads it.
    """
    path = directory / f"{name}.secret"
    if path.exists() and (stored := path.read_text().strip()):
        return stored
    return _create_once(path, secrets.token_urlsafe(32).encode()).decode().strip()


def _create_once(path: Path, content: bytes) -> bytes:
    """`path`'s content, written as `content` (mode 0600) unless another process got there first: the
    file is created whole and atomically (a link to a finished temporary file), the loser reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    temporary.write_bytes(content)
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        content = path.read_bytes()
    finally:
        temporary.unlink()
    return content
