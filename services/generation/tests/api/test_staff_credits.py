"""Staff grant or deduct credits: finance only, through the ledger the customer reads,
never below zero (409), once per Idempotency-Key, each one in the audit log."""

from __future__ import annotations

import uuid

from atelier_testing import assert_error
from atelier_testing.staff import assert_staff_roles

EXPECTED = {("POST", "/api/v1/staff/credits/{user_id}"): {"finance"},
            ("POST", "/api/v1/staff/customers/{user_id}/credits"): {"finance"},
            ("GET", "/api/v1/staff/credits/{user_id}"): {"support", "finance"},
            ("GET", "/api/v1/staff/customers/{user_id}/credits"): {"support", "finance"},
            ("GET", "/api/v1/staff/books"): {"support"}, ("GET", "/api/v1/staff/jobs"): {"support"},
            ("POST", "/api/v1/staff/jobs/{job_id}/retry"): {"support"},
            ("GET", "/api/v1/staff/reports/failed-jobs"): {"support"}}


def _url(user) -> str:
    return f"/api/v1/staff/customers/{user.id}/credits"  # the documented path (docs/back-office.md; /staff/credits/{id}: the alias)


async def test_generation_staff_operations_by_role(api) -> None:
    await assert_staff_roles(api.h.app, api.client, api.keys, EXPECTED)


async def test_a_grant_shows_in_the_customers_balance_and_ledger_and_the_audit(api) -> None:
    customer, staffer = api.user(), uuid.uuid4()
    finance = {"Authorization": f"Bearer {api.keys.access_token(staffer, ['customer', 'staff', 'finance'])}"}
    response = await api.client.post(_url(customer), json={"amount": 25, "reason": "sorry for the delay"},
                                     headers=finance)
    assert response.status_code == 201, response.text
    assert response.json()["balance"] == 25 and response.json()["amount"] == 25
    assert await api.balance(customer) == 25
    [line] = await api.transactions(customer)
    assert (line["amount"], line["transaction_type"], line["balance_after"]) == (25, "adjustment", 25)
    assert line["description"] == "Credits added by support: sorry for the delay"
    await api.h.drain()
    [row] = [e.data for e in api.h.published("staff.action_recorded")]
    assert (row["action"], row["target_type"], row["target_id"]) == ("credits.adjust", "customer", str(customer.id))
    assert (row["actor_id"], row["before"], row["after"]) == (str(staffer), {"balance": 0},
                                                              {"balance": 25, "amount": 25})


async def test_a_deduction_below_zero_is_409_and_changes_nothing(api) -> None:
    customer = api.user()
    finance = api.keys.staff_headers("finance")
    await api.client.post(_url(customer), json={"amount": 5, "reason": "goodwill"}, headers=finance)
    taken = await api.client.post(_url(customer), json={"amount": -3, "reason": "granted twice"}, headers=finance)
    assert taken.status_code == 201 and taken.json()["balance"] == 2
    assert_error(await api.client.post(_url(customer), json={"amount": -3, "reason": "again"}, headers=finance),
                 409, "INSUFFICIENT_CREDITS")
    assert await api.balance(customer) == 2
    assert [t["amount"] for t in await api.transactions(customer)] == [-3, 5]


async def test_the_same_idempotency_key_grants_once(api) -> None:
    customer = api.user()
    headers = {**api.keys.staff_headers("finance"), "Idempotency-Key": "grant-1"}
    first = await api.client.post(_url(customer), json={"amount": 10, "reason": "promo"}, headers=headers)
    again = await api.client.post(_url(customer), json={"amount": 10, "reason": "promo"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await api.balance(customer) == 10


async def test_refused_and_bad_requests_change_nothing(api) -> None:
    customer = api.user()
    for role in ("support", "merchandiser"):
        assert_error(await api.client.post(_url(customer), json={"amount": 10, "reason": "x"},
                                           headers=api.keys.staff_headers(role)), 403, "PERMISSION_DENIED")
    for body in ({"amount": 0, "reason": "x"}, {"amount": 10}, {"amount": 10, "reason": ""}):
        assert_error(await api.client.post(_url(customer), json=body, headers=api.keys.staff_headers("finance")),
                     400, "VALIDATION_ERROR")
    assert await api.balance(customer) == 0
    await api.h.drain()
    assert api.h.published("staff.action_recorded") == []


async def test_a_clerk_moved_out_of_finance_grants_nothing_and_identity_down_grants_nothing(api) -> None:
    """Credits move: identity says who the caller is at that moment, not the token alone,
    which lives on until `identity.token_revoked` reaches generation."""
    customer, clerk = api.user(), uuid.uuid4()
    finance = {"Authorization": f"Bearer {api.keys.access_token(clerk, ['customer', 'staff', 'finance'])}"}
    api.staff_directory.set(clerk, "support")
    assert_error(await api.client.post(_url(customer), json={"amount": 50, "reason": "for me"}, headers=finance),
                 401, "INVALID_TOKEN")
    api.staff_directory.set(clerk, "finance")
    api.staff_directory.unavailable = True
    assert_error(await api.client.post(_url(customer), json={"amount": 50, "reason": "for me"}, headers=finance),
                 503, "SERVICE_UNAVAILABLE")
    assert await api.balance(customer) == 0
    assert await api.transactions(customer) == []
    assert set(api.staff_directory.asked) == {clerk}
