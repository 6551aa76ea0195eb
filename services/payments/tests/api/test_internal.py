"""/internal/orders/{id}/payments: for other services, with the service credential only."""

from __future__ import annotations

import uuid

from atelier_common.settings import DEV_SECRET

from ..conftest import assert_error


class TestInternalPayments:
    async def test_payments_of_an_order(self, api) -> None:
        anon_id, headers = api.anon()
        order = api.orders.add(anon_id)
        await api.checkout(order["id"], headers)
        response = await api.client.get(f"/internal/orders/{order['id']}/payments",
                                        headers={"X-Service-Token": DEV_SECRET})
        assert response.status_code == 200, response.text
        [payment] = response.json()["results"]
        assert payment["status"] == "requires_payment" and payment["amount"] == "85.50"
        assert payment["provider"] == "local" and payment["kind"] == "checkout"

    async def test_the_service_credential_is_required(self, api) -> None:
        response = await api.client.get(f"/internal/orders/{uuid.uuid4()}/payments")
        assert_error(response, 401, "AUTHENTICATION_REQUIRED")
        _, headers = api.anon()
        assert_error(await api.client.get(f"/internal/orders/{uuid.uuid4()}/payments", headers=headers), 401,
                     "AUTHENTICATION_REQUIRED")
