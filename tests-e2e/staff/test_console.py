"""The staff web console at /console in headless Chromium, through the gateway, in both modes.

Each staffer works in the page as a person would (labels, buttons, links); the effects are read
back through the API, as the customer sees them. Nothing leaves the machine, and the pages log
no error (`Watch.assert_clean`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, confirm, open_order, sign_in, sign_out, status_says
from infra.journeys import PASSWORD, customer, latest_mail, login, paid_order, poll, staff

from atelier_testing import assert_error
from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = pytest.mark.e2e

async def mail_count(api: httpx.AsyncClient, to: str, subject: str) -> int:
    mails = (await api.get("/api/dev/mailbox", params={"to": to})).json()["results"]
    return sum(1 for m in mails if m["subject"] == subject)


async def test_support_resends_finance_refunds_merchandiser_cannot_admin_grants(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support = await staffer_account(api, admin, "support")
    finance = await staffer_account(api, admin, "finance")
    merchandiser = await staffer_account(api, admin, "merchandiser")
    auth = await customer(api)
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    order = await paid_order(api, auth)
    number, subject = order["order_number"], f"Order {order['order_number']}: paid"
    await latest_mail(api, me["email"], subject)  # the confirmation the customer got when it was paid

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()

        # Support finds the order by the customer's email and resends its confirmation.
        await sign_in(page, platform.url, support["email"])
        await open_order(page, me["email"], number)
        assert await page.get_by_role("button", name="Refund").count() == 0  # refunds are finance's
        await page.get_by_role("button", name=f"Resend “{subject}”").click()
        await status_says(page, f"Resent “{subject}”")

        async def twice() -> bool:
            return await mail_count(api, me["email"], subject) == 2

        await poll(twice, timeout=30, message="the confirmation twice in the customer's mailbox")
        await sign_out(page)

        # Finance refunds part of it; the customer sees the refund.
        await sign_in(page, platform.url, finance["email"])
        await open_order(page, me["email"], number)
        await page.get_by_label(re.compile("^Amount in")).fill("5.00")
        await page.get_by_label("Reason", exact=True).fill("late delivery")
        await page.get_by_role("button", name="Refund").click()
        await confirm(page, f"Refund 5.00 {order['currency']}?", f"Refund 5.00 {order['currency']}")
        await status_says(page, "Refunded 5.00")
        assert (await page.locator("#total-refunded").text_content()).startswith("5.00")
        ledger = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
        assert [Decimal(str(e["amount"])) for e in ledger if e["kind"] == "refund"] == [Decimal("-5.00")]

        async def refund_noted() -> dict | None:
            seen = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
            return seen if any("Refund of" in (h.get("note") or "") for h in seen["status_history"]) else None

        await poll(refund_noted, timeout=30, message="the refund on the customer's order")

        # A stale form: another refund lands while the form is open; the next submit is refused
        # and the page shows the current state, nothing applied over it.
        other = await api.post("/api/v1/payments/refunds", headers=admin,
                               json={"order_id": order["id"], "amount": "1.00", "reason": "goodwill"})
        assert other.status_code == 201, other.text
        await page.get_by_label(re.compile("^Amount in")).fill("2.00")
        await page.get_by_label("Reason", exact=True).fill("second thoughts")
        await page.get_by_role("button", name="Refund").click()
        await confirm(page, f"Refund 2.00 {order['currency']}?", f"Refund 2.00 {order['currency']}")
        await page.get_by_role("alert").filter(has_text="STALE_VERSION").wait_for()
        await page.locator("#total-refunded").filter(has_text="6.00").wait_for()
        assert await page.evaluate("document.activeElement.id") == "alert"  # focus on the error
        ledger = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
        assert sorted(Decimal(str(e["amount"])) for e in ledger if e["kind"] == "refund") == \
            [Decimal("-5.00"), Decimal("-1.00")]
        await sign_out(page)

        # The merchandiser has no order page and no refund button; the API refuses it too.
        await sign_in(page, platform.url, merchandiser["email"])
        assert await page.get_by_role("link", name="Orders", exact=True).count() == 0
        await page.goto(f"{platform.url}/console#/orders/{order['id']}")
        await page.get_by_text("This page needs the support or finance role.").wait_for()
        assert await page.get_by_role("button", name="Refund").count() == 0
        merchandiser_auth = {"Authorization": f"Bearer {(await login(api, merchandiser['email']))['access']}"}
        assert_error(await api.post("/api/v1/payments/refunds", headers=merchandiser_auth,
                                    json={"order_id": order["id"], "amount": "1.00", "reason": "no"}),
                     403, "PERMISSION_DENIED")
        await sign_out(page)

        # The admin grants credits; the customer's balance and ledger show them.
        await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
        await page.get_by_role("link", name="Customers", exact=True).click()
        await page.get_by_label("Email or name").fill(me["email"])
        await page.get_by_role("button", name="Search").click()
        await page.get_by_role("link", name=me["email"]).click()
        await page.get_by_role("heading", name=me["email"]).wait_for()
        await page.get_by_label("Number of credits").fill("15")
        await page.get_by_label("Reason (the customer sees it)").fill("sorry for the wait")
        await page.get_by_role("button", name="Apply").click()
        await status_says(page, "Granted 15 credits; balance 15.")
        await page.locator("#credit-balance").filter(has_text="15").wait_for()  # the page's ledger, reloaded
        await page.get_by_role("cell", name=re.compile("sorry for the wait")).wait_for()
        assert (await api.get("/api/v1/credits/balance", headers=auth)).json()["balance"] == 15
        lines = (await api.get("/api/v1/credits/transactions", headers=auth)).json()
        assert [(t["amount"], t["transaction_type"]) for t in lines] == [(15, "adjustment")]
        assert "sorry for the wait" in lines[0]["description"]

        # The audit log shows both refunds of the order, newest first.
        async def audited() -> bool:
            await page.goto(f"{platform.url}/console#/audit?action=refund.create&target={order['id']}")
            await status_says(page, "audit entries found")
            return await page.get_by_role("cell", name="refund.create").count() == 2

        await poll(audited, timeout=30, message="the two refunds in the audit log")
        # Chromium logs every answer of 400 and above; the one 409 is the stale form provoked above.
        assert [e for e in watch.console_errors if "409" in e] == [
            "Failed to load resource: the server responded with a status of 409 (Conflict)"]
        watch.console_errors = [e for e in watch.console_errors if "409" not in e]
        watch.assert_clean()


async def test_pages_main_tasks_and_the_keyboard(platform: Platform, api: httpx.AsyncClient) -> None:
    """The dashboard counts today's orders; the admin moves an order on and gives a role from the
    staff page; the merchandiser changes stock from the catalog; a form in error is announced and
    focused; the keyboard reaches the content."""
    admin = await staff(api)
    auth = await customer(api)
    order = await paid_order(api, auth)
    merchandiser = await staffer_account(api, admin, "support")
    # Not the product paid_order buys (the first in stock): nothing else moves this one's stock.
    listed = (await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})).json()
    product = [p for p in listed["results"] if not p["variants"]][1]

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
        todays: list[dict[str, Any]] = []
        while len(todays) == 0 or len(todays) % 100 == 0:  # the whole suite may place many orders today
            page_of = (await api.get("/api/v1/staff/orders", headers=admin, params={
                "created_after": today, "limit": 100, "offset": len(todays)})).json()
            todays += page_of["results"]
            if page_of["next"] is None:
                break
        await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
        assert int(await page.locator("#orders-today").text_content()) == len(todays)
        revenue: dict[tuple[str, str], Decimal] = {}
        for o in todays:
            if o["status"] in ("paid", "processing", "shipped", "delivered", "completed"):
                key = (o["storefront"], o["currency"])
                revenue[key] = revenue.get(key, Decimal("0")) + Decimal(o["total_amount"])
        assert (order["storefront"], order["currency"]) in revenue
        for (storefront, currency), total in revenue.items():
            assert Decimal(await page.locator(f"#revenue-{storefront}-{currency}").text_content()) == total
        await page.locator("#dead-letters").wait_for()

        # The lists load, each announcing what it found.
        for link_name, found in (("Subscriptions", "subscriptions found"), ("Generation jobs", "jobs found"),
                                 ("Storefronts", None), ("Dead letters", None), ("Audit log", "audit entries found")):
            await page.get_by_role("link", name=link_name, exact=True).click()
            await page.get_by_role("heading", name=link_name, exact=True).wait_for()
            if found:
                await status_says(page, found)

        # An order moves on from its page; the customer sees the new status.
        await page.goto(f"{platform.url}/console#/orders/{order['id']}")
        await page.get_by_label("New status").select_option("processing")
        await page.get_by_label("Note", exact=True).fill("packing")
        await page.get_by_role("button", name="Change status").click()
        await status_says(page, "The order is processing.")
        await page.locator("#order-status").filter(has_text="processing").wait_for()
        assert (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()["status"] == "processing"

        # Staff and roles: the support account becomes a merchandiser (roles replaced).
        await page.get_by_role("link", name="Staff and roles").click()
        await page.get_by_label("Account email").fill(merchandiser["email"])
        await page.get_by_label("merchandiser", exact=True).check()
        await page.get_by_role("button", name="Save roles").click()
        await status_says(page, f"{merchandiser['email']}: merchandiser.")
        await page.get_by_role("cell", name=merchandiser["email"]).wait_for()

        # A required field left empty: the alert says so and the field takes focus.
        await page.get_by_role("button", name="Save roles").click()
        await page.get_by_role("alert").filter(has_text="required").wait_for()
        assert await page.evaluate("document.activeElement.getAttribute('name')") == "email"
        await sign_out(page)

        # The merchandiser's catalog: the stock of a product changes from its row.
        await sign_in(page, platform.url, merchandiser["email"])
        await page.get_by_role("link", name="Catalog").click()
        await page.get_by_label("Name or SKU").fill(product["sku"])
        await page.get_by_role("button", name="Show").click()
        row = page.get_by_role("row").filter(has_text=product["sku"])
        await row.get_by_label("Units (±)").fill("2")
        await row.get_by_label("Reason").fill("found in the back")
        before = (await api.get(f"/api/v1/products/{product['id']}")).json()["stock_quantity"]
        await row.get_by_role("button", name="Apply").click()
        await status_says(page, "in stock")
        assert int(await page.locator(f"#stock-{product['id']}").text_content()) == before + 2
        # Keyboard only: from a fresh page, the first Tab is the skip link, which reaches the content.
        await page.reload()
        await page.get_by_role("heading", name="Catalog").wait_for()
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "skip"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"
        watch.assert_clean()


async def test_support_acts_on_a_customer_and_a_stale_action_shows_the_account(
        platform: Platform, api: httpx.AsyncClient) -> None:
    """The customer page: support sends a reset mail; the admin suspends the account meanwhile, so
    support's next action (read before) is refused and the page shows the suspended account, with
    no Reactivate for support; the admin reactivates it and the customer signs in again."""
    admin = await staff(api)
    support = await staffer_account(api, admin, "support")
    auth = await customer(api)
    me = (await api.get("/api/v1/users/me", headers=auth)).json()

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        # A customer's account opens no console (and its new session is ended again).
        await page.goto(f"{platform.url}/console")
        await page.get_by_label("Email", exact=True).fill(me["email"])
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("alert").filter(has_text="not a staff account").wait_for()
        assert await page.evaluate("document.activeElement.id") == "alert"

        await sign_in(page, platform.url, support["email"])
        # An access token that no longer works (expired, revoked) is refreshed once, unnoticed.
        await page.evaluate("""() => { const k = "atelier.console.session";
            const s = JSON.parse(sessionStorage.getItem(k)); s.access = "expired"; sessionStorage.setItem(k, JSON.stringify(s)); }""")
        await page.reload()  # the tab's session is read when the console loads
        await page.get_by_role("navigation", name="Console sections").wait_for()
        await page.get_by_role("link", name="Customers", exact=True).click()
        await page.get_by_label("Email or name").fill(me["email"])
        await page.get_by_role("button", name="Search").click()
        await page.get_by_role("link", name=me["email"]).click()
        await page.get_by_role("heading", name=me["email"]).wait_for()
        assert await page.get_by_role("button", name="Suspend").count() == 0  # suspending is the admin's

        await page.get_by_role("button", name="Send password reset").click()
        await status_says(page, "A password reset mail is on its way.")
        await latest_mail(api, me["email"], "reset your password")

        suspended = await api.post(f"/api/v1/staff/customers/{me['id']}/suspend", headers=admin, json={})
        assert suspended.status_code == 200, suspended.text
        await page.get_by_role("button", name="Sign out everywhere").click()
        await confirm(page, f"Sign {me['email']} out everywhere?", "Sign out everywhere")
        await page.get_by_role("alert").filter(has_text="STALE_VERSION").wait_for()
        await page.locator("#account-state").filter(has_text="suspended").wait_for()

        # Reactivating is the admin's too: support is not offered it.
        assert await page.get_by_role("button", name="Reactivate").count() == 0
        back = await api.post(f"/api/v1/staff/customers/{me['id']}/reactivate", headers=admin, json={})
        assert back.status_code == 200, back.text
        await page.reload()
        await page.locator("#account-state").filter(has_text="active").wait_for()
        await login(api, me["email"])  # signs in again
        # Chromium logs every answer of 400 and above: the stale 409, and a 401 for each call the
        # page made with the spoilt token (how many run at once depends on timing; each is retried
        # with the refreshed token, and the page above kept working).
        prefix = "Failed to load resource: the server responded with a status of "
        logged = [e for e in watch.console_errors if e in (f"{prefix}401 (Unauthorized)", f"{prefix}409 (Conflict)")]
        assert logged.count(f"{prefix}409 (Conflict)") == 1 and logged.count(f"{prefix}401 (Unauthorized)") >= 1
        watch.console_errors = [e for e in watch.console_errors if e not in logged]
        watch.assert_clean()
