"""The back office through the gateway, in both modes: staff roles decide who does what.

An admin makes three customers a support, a finance and a merchandiser staffer; support finds a
customer's order by email, finance refunds part of it and the customer sees the refund, the
merchandiser cannot refund, the admin grants credits the customer sees; every write is audited.
Support resends an order's confirmation and sees its payments and refunds on the order; the admin
suspends and reactivates, support sends a reset mail and signs a customer out; a stale form is refused.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from infra.back_office import staffer
from infra.journeys import (
    PASSWORD,
    customer,
    latest_mail,
    login,
    paid_order,
    poll,
    register_verified,
    staff,
    token_from,
)

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e


async def test_support_finds_finance_refunds_merchandiser_cannot_admin_grants(api: httpx.AsyncClient) -> None:
    admin = await staff(api)  # the bootstrap staff account: an admin
    support, finance, merchandiser = [await staffer(api, admin, role) for role in ("support", "finance", "merchandiser")]
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
    granted = await api.post(f"/api/v1/staff/customers/{me['id']}/credits",
                             headers={**admin, "Idempotency-Key": order["id"]},
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


async def test_support_sees_the_orders_money_and_resends_its_confirmation(api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support, finance = [await staffer(api, admin, role) for role in ("support", "finance")]
    auth = await customer(api)
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    order = await paid_order(api, auth)
    assert (await api.post("/api/v1/payments/refunds", headers=finance,
                           json={"order_id": order["id"], "amount": "2.00", "reason": "scratch"})).status_code == 201

    # The order's picture: its payment and refund (orders' read model of payments' events), its events.
    async def picture() -> dict | None:
        body = (await api.get(f"/api/v1/staff/orders/{order['id']}", headers=support)).json()
        return body if body["payments"] and body["refunds"] else None

    seen = await poll(picture, timeout=30, message="the payment and the refund on the order's picture")
    assert [p["kind"] for p in seen["payments"]] == ["payment"]
    assert (seen["refunds"][0]["amount"], seen["refunds"][0]["reason"]) == ("2.00", "scratch")
    assert "paid" in [e["status"] for e in seen["events"]]

    # Support finds the confirmation by the customer's email and sends it again.
    confirmation = await latest_mail(api, me["email"], order["order_number"])
    listed = await api.get("/api/v1/staff/mail", headers=support, params={"to": me["email"]})
    assert listed.status_code == 200, listed.text
    [sent] = [m for m in listed.json()["results"] if m["subject"] == confirmation["subject"]]
    assert "text" not in sent  # staff see what was sent, not the links in it
    resent = await api.post(f"/api/v1/staff/mail/{sent['id']}/resend", headers=support, json={"reason": "lost it"})
    assert resent.status_code == 201, resent.text

    async def twice() -> list | None:
        mails = (await api.get("/api/dev/mailbox", params={"to": me["email"]})).json()["results"]
        same = [m for m in mails if m["subject"] == confirmation["subject"]]
        return same if len(same) == 2 else None

    copies = await poll(twice, timeout=30, message="the confirmation a second time")
    assert copies[0]["text"] == copies[1]["text"]

    # The customer's page in the back office: the account, then each service's part of it.
    detail = (await api.get(f"/api/v1/staff/customers/{me['id']}", headers=support)).json()
    assert detail["email"] == me["email"] and detail["active_sessions"] >= 1
    orders = (await api.get("/api/v1/staff/orders", headers=support, params={"customer": me["id"]})).json()
    assert [o["id"] for o in orders["results"]] == [order["id"]]
    credits = (await api.get(f"/api/v1/staff/customers/{me['id']}/credits", headers=support)).json()
    assert credits["balance"] == 0
    for path in ("/api/v1/staff/jobs", "/api/v1/staff/books", "/api/v1/staff/subscriptions"):
        page = await api.get(path, headers=support, params={"customer": me["id"]})
        assert page.status_code == 200 and page.json()["count"] == 0, (path, page.text)


async def test_support_suspends_resets_and_signs_a_customer_out(api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support = await staffer(api, admin, "support")
    account = await register_verified(api)
    email, user_id = account["email"], account["user"]["user"]["id"]
    session = await login(api, email)
    url = f"/api/v1/staff/customers/{user_id}"
    read = (await api.get(url, headers=support)).json()

    # Suspending is the admin's; a suspended customer can neither sign in nor refresh.
    assert_error(await api.post(f"{url}/suspend", headers=support), 403, "PERMISSION_DENIED")
    suspended = await api.post(f"{url}/suspend", headers=admin, json={"reason": "chargeback"})
    assert suspended.status_code == 200 and suspended.json()["is_active"] is False
    refused = await api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert_error(refused, 403, "ACCOUNT_DISABLED")
    assert_error(await api.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]}), 403,
                 "ACCOUNT_DISABLED")
    # Reactivating undoes the admin's suspension: the admin's too.
    assert_error(await api.post(f"{url}/reactivate", headers=support), 403, "PERMISSION_DENIED")
    # A form read before the suspension is stale: refused, with the account as it is now.
    stale = await api.post(f"{url}/reactivate", headers=admin, json={"expected_version": read["version"]})
    assert_error(stale, 409, "STALE_VERSION")
    assert stale.json()["error"]["details"]["current"]["is_active"] is False
    back = await api.post(f"{url}/reactivate", headers={**admin, "If-Match": suspended.json()["version"]})
    assert back.status_code == 200 and back.json()["is_active"] is True
    session = await login(api, email)

    # A reset mail from support; the customer sets a new password with it.
    assert (await api.post(f"{url}/password-reset", headers=support)).status_code == 200
    reset = await latest_mail(api, email, "reset your password")
    confirmed = await api.post("/api/v1/auth/password-reset/confirm", json={
        "token": token_from(reset), "new_password": "a brand new secret", "new_password_confirm": "a brand new secret"})
    assert confirmed.status_code == 200, confirmed.text
    session = await login(api, email, "a brand new secret")

    # Signed out everywhere: the refresh token is dead.
    signed_out = await api.post(f"{url}/sign-out", headers=support)
    assert signed_out.status_code == 200 and signed_out.json()["active_sessions"] == 0
    assert (await api.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})).status_code == 401

    async def audited() -> list[str] | None:
        rows = (await api.get("/api/v1/staff/audit", headers=admin, params={"target": user_id})).json()["results"]
        actions = sorted(r["action"] for r in rows)
        expected = ["customer.password_reset", "customer.reactivate", "customer.sign_out", "customer.suspend"]
        return actions if actions == expected else None

    await poll(audited, timeout=30, message="the four account actions in the audit log")
