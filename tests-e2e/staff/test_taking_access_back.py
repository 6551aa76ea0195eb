"""Taking a staffer's access back, through the gateway in both modes.

A clerk an admin moved from finance to support refunds nothing with the token from before, at once,
without waiting for `identity.token_revoked` to reach payments (payments asks identity). Support
cannot sign out, suspend or reactivate an admin, nor reactivate an account the admin suspended; the
admin can.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from infra.back_office import staffer, staffer_account
from infra.journeys import PASSWORD, customer, login, paid_order, staff

from atelier_testing import assert_error
from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="a revocation heard in the process (embedded) or broadcast to every gateway process (distributed)"),
]


async def test_a_clerk_moved_out_of_finance_refunds_nothing_with_the_token_from_before(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    clerk = await staffer_account(api, admin, "finance")
    finance = {"Authorization": f"Bearer {(await login(api, clerk['email']))['access']}"}
    order = await paid_order(api, await customer(api))
    refund = {"order_id": order["id"], "amount": "1.00", "reason": "goodwill"}
    made = await api.post("/api/v1/payments/refunds", headers=finance, json=refund)
    assert made.status_code == 201, made.text

    moved = await api.post("/api/v1/staff/accounts", headers=admin, json={"email": clerk["email"], "roles": ["support"]})
    assert moved.status_code == 200, moved.text
    # Right after the change, whether or not the revocation event has reached payments yet.
    tries = [*await asyncio.gather(*(api.post("/api/v1/payments/refunds", headers=finance, json=refund)
                                     for _ in range(3))),
             await api.post("/api/v1/payments/refunds", headers=finance, json=refund)]
    for response in tries:
        assert_error(response, 401, "INVALID_TOKEN")
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert Decimal(money["total_refunded"]) == Decimal("1.00"), money

    # Signed in again, the clerk is support: 403 before anyone is asked.
    support = {"Authorization": f"Bearer {(await login(api, clerk['email']))['access']}"}
    assert_error(await api.post("/api/v1/payments/refunds", headers=support, json=refund), 403, "PERMISSION_DENIED")

    # An operator's change (`atelier users revoke-role`) too: the CLI's event waits in identity's
    # outbox until the running platform's relay sends it, and the token is refused meanwhile.
    other = await staffer_account(api, admin, "finance")
    finance = {"Authorization": f"Bearer {(await login(api, other['email']))['access']}"}
    await platform.atelier("users", "revoke-role", other["email"], "finance")
    assert_error(await api.post("/api/v1/payments/refunds", headers=finance, json=refund), 401, "INVALID_TOKEN")
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert Decimal(money["total_refunded"]) == Decimal("1.00"), money


async def test_support_cannot_sign_out_suspend_or_reactivate_an_admin_the_admin_can(api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support = await staffer(api, admin, "support")
    other_admin = await staffer_account(api, admin, "admin")
    session = await login(api, other_admin["email"])
    url = f"/api/v1/staff/customers/{session['user']['id']}"

    for action in ("sign-out", "password-reset", "suspend", "reactivate"):
        assert_error(await api.post(f"{url}/{action}", headers=support, json={}), 403, "PERMISSION_DENIED")
    still = await api.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
    assert still.status_code == 200, still.text  # support's sign-out ended nothing

    # The admin suspends; support cannot undo it; the admin can.
    assert (await api.post(f"{url}/suspend", headers=admin, json={})).status_code == 200
    assert_error(await api.post(f"{url}/reactivate", headers=support, json={}), 403, "PERMISSION_DENIED")
    assert_error(await api.post("/api/v1/auth/login", json={"email": other_admin["email"], "password": PASSWORD}),
                 403, "ACCOUNT_DISABLED")
    back = await api.post(f"{url}/reactivate", headers=admin, json={})
    assert back.status_code == 200 and back.json()["is_active"] is True
    session = await login(api, other_admin["email"])
    signed_out = await api.post(f"{url}/sign-out", headers=admin, json={})
    assert signed_out.status_code == 200 and signed_out.json()["active_sessions"] == 0
    assert (await api.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})).status_code == 401
