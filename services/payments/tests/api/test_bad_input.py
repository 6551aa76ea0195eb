"""Bad input on payments' routes is a 4xx in the common error format, never a 500 (issue 12)."""

from __future__ import annotations

import json
import uuid

import pytest

from ..conftest import assert_error

SECRET = "s0-provider-secret"


@pytest.mark.parametrize("signature", ["sha256=é".encode("latin-1"), b"sha256=" + "ü".encode() * 32])
async def test_a_non_ascii_webhook_signature_is_refused(start_payments, signature: bytes) -> None:
    async with start_payments(webhook_secrets={"local": "dev", "bog": SECRET}) as api:
        raw = json.dumps({"order_id": str(uuid.uuid4()), "status": "paid"}).encode()
        response = await api.client.post("/api/v1/payments/webhooks/bog", content=raw,
                                         headers=[(b"X-Signature", signature), (b"Content-Type", b"application/json")])
        assert_error(response, 400, "INVALID_SIGNATURE")
