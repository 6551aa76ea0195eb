"""Payments' staff operations by role (#36): refunds are finance's."""

from __future__ import annotations

from atelier_testing.staff import assert_staff_roles

EXPECTED = {("POST", "/api/v1/payments/refunds"): {"finance"}}


async def test_payments_staff_operations_by_role(api) -> None:
    await assert_staff_roles(api.h.app, api.client, api.keys, EXPECTED)
