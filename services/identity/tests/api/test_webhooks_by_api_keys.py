"""An API key registers, lists and deletes its own webhook endpoints (docs/webhooks.md): it sees only
those it made, subscribes them to the events its roles may read, of the storefronts it may touch, and
nothing is sent to them once it is revoked. Admins see every endpoint, with the key that owns it."""

from __future__ import annotations

import uuid
from typing import Any

from atelier_common.contracts.payments import OrderPaid
from atelier_testing import assert_error, poll_until

URL = "/api/v1/webhook-endpoints"
KEYS = "/api/v1/staff/api-keys"
SERVICE = {"X-Service-Token": "changethis"}
HOOK = "http://127.0.0.1:9/hooks"


async def _key(api: Any, test_keys: Any, roles: list[str], storefronts: list[str] | None = None) -> tuple[str, dict]:
    """A key made by an admin, and the headers of the access token the gateway would exchange it for."""
    made = await api.client.post(KEYS, json={"name": f"ERP {uuid.uuid4().hex[:6]}", "roles": roles,
                                             "storefronts": storefronts or ["*"]}, headers=test_keys.staff_headers())
    assert made.status_code == 201, made.text
    exchanged = await api.client.post("/internal/api-keys/exchange", json={"secret": made.json()["secret"]},
                                      headers=SERVICE)
    return made.json()["id"], {"Authorization": f"Bearer {exchanged.json()['access_token']}"}


async def _create(api: Any, headers: dict, **fields: Any) -> Any:
    return await api.client.post(URL, json={"url": HOOK, "events": ["order.paid"], **fields}, headers=headers)


class TestAKeysOwnEndpoints:
    async def test_a_key_manages_its_own_and_sees_no_other(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            erp_id, erp = await _key(api, test_keys, ["support"])
            _, books = await _key(api, test_keys, ["finance"])
            admin = test_keys.staff_headers()
            person = await _create(api, admin, description="the admin's")
            made = await _create(api, erp, description="ERP sync")
            assert made.status_code == 201, made.text
            endpoint = made.json()
            assert endpoint["secret"].startswith("whsec_") and endpoint["owner_key_id"] == erp_id
            mine = (await api.client.get(URL, headers=erp)).json()
            assert (mine["count"], [e["id"] for e in mine["results"]]) == (1, [endpoint["id"]])
            assert (await api.client.get(f"{URL}/{endpoint['id']}", headers=erp)).status_code == 200
            # Another key, and the admin's own endpoint to a key: not found.
            assert (await api.client.get(URL, headers=books)).json()["count"] == 0
            for path in (f"{URL}/{endpoint['id']}", f"{URL}/{endpoint['id']}/deliveries",
                         f"{URL}/{person.json()['id']}"):
                assert_error(await api.client.get(path, headers=books if "deliveries" in path or
                                                  endpoint["id"] in path else erp), 404,
                             "WEBHOOK_ENDPOINT_NOT_FOUND")
            assert_error(await api.client.patch(f"{URL}/{endpoint['id']}", json={"description": "mine now"},
                                                 headers=books), 404, "WEBHOOK_ENDPOINT_NOT_FOUND")
            assert_error(await api.client.delete(f"{URL}/{endpoint['id']}", headers=books), 404,
                         "WEBHOOK_ENDPOINT_NOT_FOUND")
            # The admin sees both, and which key owns which.
            every = {e["id"]: e["owner_key_id"] for e in (await api.client.get(URL, headers=admin)).json()["results"]}
            assert every == {person.json()["id"]: None, endpoint["id"]: erp_id}
            changed = await api.client.patch(f"{URL}/{endpoint['id']}", json={"events": ["order.paid", "order.placed"]},
                                             headers=erp)
            assert changed.status_code == 200 and changed.json()["events"] == ["order.paid", "order.placed"]
            assert (await api.client.delete(f"{URL}/{endpoint['id']}", headers=erp)).status_code == 204
            assert (await api.client.get(URL, headers=erp)).json()["count"] == 0
            actions = [(e.data["action"], e.data["actor_id"]) for e in api.h.published("staff.action_recorded")
                       if e.data["action"].startswith("webhook_endpoint.")]
            assert [a for a, actor in actions if actor == erp_id] == [
                "webhook_endpoint.create", "webhook_endpoint.update", "webhook_endpoint.delete"]

    async def test_only_the_events_its_roles_may_read(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            _, support = await _key(api, test_keys, ["support"])
            _, merchandiser = await _key(api, test_keys, ["merchandiser"])
            _, admin_key = await _key(api, test_keys, ["admin"])
            assert_error(await _create(api, support, events=["order.paid", "gift_card.issued"]), 403,
                         "PERMISSION_DENIED")
            assert_error(await _create(api, merchandiser), 403, "PERMISSION_DENIED")
            assert (await _create(api, merchandiser, events=["product.low_stock"])).status_code == 201
            assert (await _create(api, admin_key, events=["gift_card.issued", "order.paid"])).status_code == 201
            made = (await _create(api, support)).json()
            assert_error(await api.client.patch(f"{URL}/{made['id']}", json={"events": ["gift_card.changed"]},
                                                headers=support), 403, "PERMISSION_DENIED")

    async def test_only_the_storefronts_it_may_touch(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            _, scoped = await _key(api, test_keys, ["support"], ["default"])
            # Every storefront (no filter) is more than it may touch.
            assert_error(await _create(api, scoped), 403, "PERMISSION_DENIED")
            assert_error(await _create(api, scoped, storefront="outlet"), 403, "PERMISSION_DENIED")
            made = await _create(api, scoped, storefront="default")
            assert made.status_code == 201, made.text
            assert_error(await api.client.patch(f"{URL}/{made.json()['id']}", json={"storefront": "outlet"},
                                                headers=scoped), 403, "PERMISSION_DENIED")

    async def test_a_person_still_needs_the_admin_role(self, start_identity, test_keys) -> None:
        async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
            assert_error(await _create(api, test_keys.staff_headers("support")), 403, "PERMISSION_DENIED")
            assert_error(await api.client.get(URL, headers=test_keys.staff_headers("finance")), 403,
                         "PERMISSION_DENIED")


async def test_a_revoked_keys_endpoints_get_nothing(start_identity, test_keys) -> None:
    async with start_identity(outbound_webhooks_allow_private_urls=True) as api:
        admin = test_keys.staff_headers()
        key_id, erp = await _key(api, test_keys, ["support"])
        keys = (await _create(api, erp)).json()
        persons = (await _create(api, admin)).json()
        assert (await api.client.post(f"{KEYS}/{key_id}/revoke", headers=admin)).status_code == 200
        await api.h.deliver(OrderPaid(order_id=uuid.uuid4(), order_number="ORD-1", owner_id=uuid.uuid4(),
                                      amount="10.00", currency="USD", payment_id=uuid.uuid4(), provider="local"))

        async def deliveries(endpoint_id: str) -> int:
            found = await api.client.get(f"{URL}/{endpoint_id}/deliveries", headers=admin)
            return int(found.json()["count"])

        async def fanned_out() -> bool | None:
            return (await deliveries(persons["id"])) == 1 or None

        await poll_until(fanned_out, timeout=15, message="the person's endpoint's delivery")
        assert await deliveries(keys["id"]) == 0
        # Its token, wherever the revocation was not heard yet, manages nothing.
        assert_error(await api.client.get(URL, headers=erp), 401, "INVALID_TOKEN")
