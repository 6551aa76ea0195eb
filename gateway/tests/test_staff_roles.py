"""The gateway's own staff operations by role (#36): support reads and replays dead letters (a retry);
dropping them, which loses events for good, is the admin's."""

from __future__ import annotations

from atelier_testing.staff import assert_staff_roles

API = "/api/v1/ops/dead-letters"
EXPECTED = {("GET", API): {"support"}, ("GET", API + "/{consumer}"): {"support"},
            ("GET", API + "/{consumer}/{event_id}"): {"support"}, ("POST", API + "/{consumer}/replay"): {"support"},
            ("POST", API + "/{consumer}/drop"): set()}


async def test_gateway_staff_operations_by_role(gateway) -> None:
    await assert_staff_roles(gateway.app, gateway.client, gateway.keys, EXPECTED)
