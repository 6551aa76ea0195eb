"""A software WebAuthn authenticator: a P-256 key per credential, real CBOR attestation ("none")
and real signed assertions, so the server's checks run through py_webauthn unchanged."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftwareAuthenticator:
    def __init__(self, origin: str = "http://localhost:3000") -> None:
        self.origin = origin
        self.credentials: dict[bytes, Credential] = {}

    def create(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """`navigator.credentials.create()` for the server's creation options (standard JSON form)."""
        rp_id = options["rp"]["id"]
        credential = Credential(id=os.urandom(32), key=ec.generate_private_key(ec.SECP256R1()), rp_id=rp_id,
                                user_handle=unb64(options["user"]["id"]))
        self.credentials[credential.id] = credential
        numbers = credential.key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([UP | UV | AT]) + (0).to_bytes(4, "big")
                     + bytes(16) + len(credential.id).to_bytes(2, "big") + credential.id + cose_key)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {"id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
                "response": {"clientDataJSON": b64(client_data), "attestationObject": b64(attestation),
                             "transports": ["internal"]},
                "clientExtensionResults": {}}

    def get(self, options: dict[str, Any], *, credential_id: str | None = None, sign_count: int | None = None,
            origin: str | None = None) -> dict[str, Any]:
        """`navigator.credentials.get()`: signs the challenge, counting one more use (or `sign_count`)."""
        if credential_id is None:
            allowed = [unb64(c["id"]) for c in options.get("allowCredentials", [])]
            mine = [c for c in self.credentials.values() if not allowed or c.id in allowed]
            credential = mine[0]
        else:
            credential = self.credentials[unb64(credential_id)]
        credential.sign_count = credential.sign_count + 1 if sign_count is None else sign_count
        auth_data = (hashlib.sha256(options.get("rpId", credential.rp_id).encode()).digest() + bytes([UP | UV])
                     + credential.sign_count.to_bytes(4, "big"))
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
                "response": {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                             "signature": b64(signature), "userHandle": b64(credential.user_handle)},
                "clientExtensionResults": {}}

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()
