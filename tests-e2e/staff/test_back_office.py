"""The back office through the gateway, in both modes (#36): staff roles decide who does what.

An admin makes three customers a support, a finance and a merchandiser staffer; support finds a
customer's order by email, finance refunds part of it and the customer sees the refund, the
merchandiser cannot refund, the admin grants credits the customer sees; every write is audited.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from infra.journeys import customer, login, paid_order, poll, register_verified, staff

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e


async def _staffer(api: httpx.AsyncClient, admin: dict[str, str], role: str) -> dict[str, str]:
    account = await register_verified(api)
    made = await api.post("/api/v1/staff/accounts", headers=admin, json={"email": account["email"], "roles": [role]})
    assert made.status_code == 200, made.text
    tokens = await login(api, account["email"])  # after the change: the token carries the role
    return {"Authorization": f"Bearer {tokens['access']}"}


async def test_support_finds_finance_refunds_merchandiser_cannot_admin_grants(api: httpx.AsyncClient) -> None:
    admin = await staff(api)  # the bootstrap staff account: an admin
    support, finance, merchandiser = [await _staffer(api, admin, role) for role in ("support", "finance", "merchandiser")]
    auth = await customer(api)
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    order = await paid_order(api, auth)

    # Support finds the order by the customer's email, whatever its case.
    found = await api.get("/api/v1/staff/orders", headers=support, params={"email": me["email"].upper()})
    assert found.status_code == 200, found.text
    assert [o["id"] for o in found.json()["results"]] == [order["id"]]
    assert_error(await api.get("/api/v1/staff/orders", headers=merchandiser), 403, "PERMISSION_DENIED")

    # The merchandiser cannot refund; finance refunds part, and the customer sees it.
    refund = {"order_id": order["id"], "amount": "5.00", "reason": "late delivery"}
    assert_error(await api.post("/api/v1/payments/refunds", headers=merchandiser, json=refund),
                 403, "PERMISSION_DENIED")
    assert_error(await api.post("/api/v1/payments/refunds", headers=support, json=refund), 403, "PERMISSION_DENIED")
    made = await api.post("/api/v1/payments/refunds", headers=finance, json=refund)
    assert made.status_code == 201, made.text
    assert Decimal(made.json()["total_refunded"]) == Decimal("5.00")
    ledger = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
    assert [Decimal(str(e["amount"])) for e in ledger if e["kind"] == "refund"] == [Decimal("-5.00")]

    async def refund_noted() -> dict | None:
        seen = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        return seen if any("Refund of" in (h.get("note") or "") for h in seen["status_history"]) else None

    await poll(refund_noted, timeout=30, message="the refund noted on the customer's order")

    # The admin grants credits: the customer's balance and ledger show them.
    granted = await api.post(f"/api/v1/staff/credits/{me['id']}", headers={**admin, "Idempotency-Key": order["id"]},
                             json={"amount": 15, "reason": "sorry for the wait"})
    assert granted.status_code == 201, granted.text
    assert (await api.get("/api/v1/credits/balance", headers=auth)).json()["balance"] == 15
    lines = (await api.get("/api/v1/credits/transactions", headers=auth)).json()
    assert [(t["amount"], t["transaction_type"]) for t in lines] == [(15, "adjustment")]
    assert "sorry for the wait" in lines[0]["description"]
    assert_error(await api.post(f"/api/v1/staff/credits/{me['id']}", headers=finance,
                                json={"amount": -100, "reason": "too many"}), 409, "INSUFFICIENT_CREDITS")

    # Every staff write is in the audit log, which only an admin reads.
    async def audited() -> list[str] | None:
        rows = (await api.get("/api/v1/staff/audit", headers=admin,
                              params={"target": order["id"], "action": "refund.create"})).json()["results"]
        credits = (await api.get("/api/v1/staff/audit", headers=admin, params={"target": me["id"]})).json()["results"]
        actions = [r["action"] for r in rows + credits]
        return actions if actions == ["refund.create", "credits.adjust"] else None

    await poll(audited, timeout=30, message="the refund and the grant in the audit log")
    assert_error(await api.get("/api/v1/staff/audit", headers=finance), 403, "PERMISSION_DENIED")
