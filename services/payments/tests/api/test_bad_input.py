"""Bad input on payments' routes is a 4xx in the common error format, never a 500."""

from __future__ import annotations

import json
import uuid

import pytest

from atelier_common.settings import DEV_SECRET
from atelier_payments.domain import sign_simple_webhook

from ..conftest import assert_error

SECRET = "s0-provider-secret"


@pytest.mark.parametrize("signature", ["sha256=é".encode("latin-1"), b"sha256=" + "ü".encode() * 32])
async def test_a_non_ascii_webhook_signature_is_refused(start_payments, signature: bytes) -> None:
    async with start_payments(webhook_secrets={"local": "dev", "bog": SECRET}) as api:
        raw = json.dumps({"order_id": str(uuid.uuid4()), "status": "paid"}).encode()
        response = await api.client.post("/api/v1/payments/webhooks/bog", content=raw,
                                         headers=[(b"X-Signature", signature), (b"Content-Type", b"application/json")])
        assert_error(response, 400, "INVALID_SIGNATURE")


@pytest.mark.parametrize("constant", [DEV_SECRET, "", "secret"])
async def test_a_local_webhook_signed_with_a_constant_is_refused_on_a_fresh_dev_install(start_payments,
                                                                                       constant: str) -> None:
    async with start_payments(environment="dev", webhook_secrets={}) as api:  # unset, as on a new install
        order = api.orders.add(uuid.uuid4())
        raw = json.dumps({"order_id": order["id"], "status": "paid", "transaction_id": "tx-forged"}).encode()
        response = await api.client.post("/api/v1/payments/webhooks/local", content=raw,
                                         headers={"X-Signature": sign_simple_webhook(raw, constant),
                                                  "Content-Type": "application/json"})
        assert_error(response, 400, "INVALID_SIGNATURE")
        assert await api.payments(order["id"]) == []


async def test_the_local_checkout_pays_with_the_installs_own_webhook_secret(start_payments) -> None:
    async with start_payments(environment="dev", webhook_secrets={}) as api:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id, total="85.50", currency="USD")
        body = (await api.checkout(order["id"], headers)).json()
        assert (await api.client.post(f"/api/dev/checkout/{body['session_id']}/pay")).status_code == 303
        [payment] = await api.payments(order["id"])
        assert payment.status == "succeeded" and payment.provider == "local"
