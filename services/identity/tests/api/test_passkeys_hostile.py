"""Deeply nested or malformed CBOR in a passkey response: a 400 PASSKEY_INVALID, nothing stored.

py_webauthn reads CBOR with cbor2 (bounded depth) and turns any decoding failure into
`InvalidCBORData`: unlike the hand-written reader the reviv profile had, no RecursionError."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from atelier_testing import assert_error

BASE = "/api/v1/auth/passkeys"
DEEP = b"\x81" * 50_000 + b"\x00"  # [[[…0…]]], 50,000 levels


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _auth_data(tail: bytes, flags: int) -> bytes:
    """Authenticator data for localhost: rpIdHash, flags, sign count, aaguid, a 4-byte credential id, `tail`."""
    return (hashlib.sha256(b"localhost").digest() + bytes([flags]) + (0).to_bytes(4, "big") + bytes(16)
            + (4).to_bytes(2, "big") + b"\x01\x02\x03\x04" + tail)


def _with_attestation(credential: dict[str, Any], raw: bytes) -> dict[str, Any]:
    return {**credential, "response": {**credential["response"], "attestationObject": _b64(raw)}}


def _attestation(auth_data: bytes) -> bytes:
    # {"fmt": "none", "attStmt": {}, "authData": h'…'} with a 4-byte length for any size of authData
    return b"\xa3\x63fmt\x64none\x67attStmt\xa0\x68authData\x5a" + len(auth_data).to_bytes(4, "big") + auth_data


@pytest.mark.parametrize("attestation", [
    pytest.param(b"\xa1\x68authData" + DEEP, id="deep attestation object"),
    pytest.param(_attestation(_auth_data(DEEP, 0x45)), id="deep credential public key"),
    pytest.param(_attestation(_auth_data(b"\xa5\x01\x02" + DEEP, 0xC5)), id="deep extensions"),
    pytest.param(b"\xa1\x68authData\x5a\xff\xff\xff\xff", id="truncated"),
])
async def test_deep_or_malformed_cbor_in_a_registration_is_refused(api, authenticator, attestation: bytes) -> None:
    session = await api.signed_in()
    headers = {"Authorization": f"Bearer {session['access']}"}
    options = (await api.client.post(f"{BASE}/register/begin", headers=headers)).json()
    credential = _with_attestation(authenticator.create(options), attestation)
    r = await api.client.post(f"{BASE}/register/complete", headers=headers,
                              json={"registration_id": options["registration_id"], "credential": credential})
    assert_error(r, 400, "PASSKEY_INVALID")
    assert (await api.client.get(BASE, headers=headers)).json()["count"] == 0


async def test_deep_cbor_in_a_login_assertion_is_refused(api, authenticator) -> None:
    session = await api.signed_in()
    headers = {"Authorization": f"Bearer {session['access']}"}
    options = (await api.client.post(f"{BASE}/register/begin", headers=headers)).json()
    r = await api.client.post(f"{BASE}/register/complete", headers=headers, json={
        "registration_id": options["registration_id"], "credential": authenticator.create(options)})
    assert r.status_code == 201, r.text
    begun = (await api.client.post(f"{BASE}/login/begin", json={})).json()
    assertion = authenticator.get(begun)
    # Extension data flagged (ED) and made of 50,000 nested arrays, after the 37 bytes of the header.
    auth_data = _unb64(assertion["response"]["authenticatorData"])
    deep = auth_data[:32] + bytes([auth_data[32] | 0x80]) + auth_data[33:37] + DEEP
    assertion["response"]["authenticatorData"] = _b64(deep)
    r = await api.client.post(f"{BASE}/login/complete", json={"authentication_id": begun["authentication_id"],
                                                              "credential": assertion})
    assert_error(r, 400, "PASSKEY_INVALID")
