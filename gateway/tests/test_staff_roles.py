"""The gateway's own staff operations by role: support reads dead letters; replaying and
dropping them (dropping loses events for good) are the admin's. At the staff API's path and the first one."""

from __future__ import annotations

from atelier_testing.staff import assert_staff_roles

EXPECTED = {key: roles for api in ("/api/v1/staff/dead-letters", "/api/v1/ops/dead-letters") for key, roles in {
    ("GET", api): {"support"}, ("GET", api + "/{consumer}"): {"support"},
    ("GET", api + "/{consumer}/{event_id}"): {"support"}, ("POST", api + "/{consumer}/replay"): set(),
    ("POST", api + "/{consumer}/drop"): set()}.items()}


async def test_gateway_staff_operations_by_role(gateway) -> None:
    await assert_staff_roles(gateway.app, gateway.client, gateway.keys, EXPECTED)
