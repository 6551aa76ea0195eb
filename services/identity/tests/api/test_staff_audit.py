"""The staff audit log: every service's `staff.action_recorded` kept once, read by admins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from atelier_common.contracts.staff import StaffActionRecorded
from atelier_testing import assert_error

URL = "/api/v1/staff/audit"
STOREFRONT = {"slug": "b", "name": "B", "origins": ["https://b.example"], "frontend_url": "https://b.example",
              "currency": "EUR", "tax": {"rate": "0.20", "inclusive": False}}


def _action(actor: uuid.UUID, action: str = "refund.create", at: datetime | None = None,
            target: str = "o-1") -> StaffActionRecorded:
    return StaffActionRecorded(actor_id=actor, actor_email="fin@example.com", actor_roles=["finance"],
                               service="payments", action=action, target_type="order", target_id=target,
                               before={"refundable": "10.00"}, after={"amount": "4.00"}, reason="damaged",
                               at=at or datetime.now(UTC))


class TestAuditLog:
    async def test_an_identity_staff_write_is_recorded_with_who_what_and_before_after(self, api, test_keys) -> None:
        admin = uuid.uuid4()
        headers = {"Authorization": f"Bearer {test_keys.access_token(admin, ['customer', 'staff', 'admin'], email='a@x.io')}"}
        assert (await api.client.post("/api/v1/storefronts", json=STOREFRONT, headers=headers)).status_code == 201
        patched = await api.client.patch("/api/v1/storefronts/b", json={"name": "Bee"}, headers=headers)
        assert patched.status_code == 200, patched.text
        await api.h.drain()
        page = (await api.client.get(URL, headers=test_keys.staff_headers())).json()
        assert page["count"] == 2
        update, create = page["results"]  # newest first
        assert (update["action"], update["target_type"], update["target"]) == ("storefront.update", "storefront", "b")
        assert update["before"] == {"name": "B"} and update["after"] == {"name": "Bee"}
        assert (update["actor"], update["actor_email"], update["roles"]) == (str(admin), "a@x.io", ["admin"])
        assert update["service"] == "identity"
        assert create["action"] == "storefront.create" and create["after"]["currency"] == "EUR"

    async def test_a_refused_write_records_nothing(self, api, test_keys) -> None:
        response = await api.client.post("/api/v1/storefronts", json=STOREFRONT,
                                         headers=test_keys.staff_headers("support"))
        assert_error(response, 403, "PERMISSION_DENIED")
        await api.h.drain()
        assert (await api.client.get(URL, headers=test_keys.staff_headers())).json()["count"] == 0

    async def test_another_services_action_is_kept_once_and_filtered(self, api, test_keys) -> None:
        finance, other = uuid.uuid4(), uuid.uuid4()
        yesterday = datetime.now(UTC) - timedelta(days=1)
        event_id = uuid.uuid4()
        await api.h.deliver(_action(finance), producer="payments", envelope_id=event_id)
        await api.h.deliver(_action(finance), producer="payments", envelope_id=event_id)  # redelivered
        await api.h.deliver(_action(finance, "order.status_change", at=yesterday, target="o-2"), producer="orders")
        await api.h.deliver(_action(other), producer="payments")
        admin = test_keys.staff_headers()

        async def listed(**params: str) -> list[dict]:
            response = await api.client.get(URL, params=params, headers=admin)
            assert response.status_code == 200, response.text
            return response.json()["results"]

        assert len(await listed()) == 3
        mine = await listed(actor=str(finance))
        assert [r["action"] for r in mine] == ["refund.create", "order.status_change"]
        assert mine[0]["id"] == str(event_id) and mine[0]["reason"] == "damaged"
        assert [r["target"] for r in await listed(action="order.status_change")] == ["o-2"]
        assert len(await listed(target_type="order", target="o-1")) == 2
        assert len(await listed(at_after=(datetime.now(UTC) - timedelta(hours=1)).isoformat())) == 2
        assert len(await listed(at_before=(datetime.now(UTC) - timedelta(hours=1)).isoformat())) == 1
        page = (await api.client.get(URL, params={"limit": 1}, headers=admin)).json()
        assert page["count"] == 3 and len(page["results"]) == 1 and page["next"]

    async def test_only_admins_read_it(self, api, test_keys) -> None:
        for role in ("support", "merchandiser", "finance"):
            assert_error(await api.client.get(URL, headers=test_keys.staff_headers(role)), 403, "PERMISSION_DENIED")
        assert_error(await api.client.get(URL), 401, "AUTHENTICATION_REQUIRED")
