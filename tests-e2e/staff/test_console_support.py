"""Support's day from the console alone, in headless Chromium through the gateway, both modes:
a customer found by email, their page (an order, credits, a signed-in session, their mail), a mail
resent, a new verification link, every session ended; a plan cancelled at period end and kept.

Each staffer works in the page as a person would (labels, buttons, the confirmation dialog before
what cannot be undone); the effects are read back through the API, as the customer meets them.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, confirm, sign_in, status_says
from infra.journeys import PASSWORD, latest_mail, login, paid_order, poll, register_verified, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

VERIFY_SUBJECT = "Confirm your email address"


async def mail_count(api: httpx.AsyncClient, to: str, subject: str) -> int:
    mails = (await api.get("/api/dev/mailbox", params={"to": to})).json()["results"]
    return sum(1 for m in mails if m["subject"] == subject)


async def open_customer(page, email: str) -> None:
    """From the Customers page, by the customer's email."""
    await page.get_by_role("link", name="Customers", exact=True).click()
    await page.get_by_label("Email or name").fill(email)
    await page.get_by_role("button", name="Search").click()
    await status_says(page, "1 customers found")
    await page.get_by_role("link", name=email).click()
    await page.get_by_role("heading", name=email).wait_for()


async def test_support_reads_a_customers_page_resends_a_mail_and_signs_them_out(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support = await staffer_account(api, admin, "support")
    email = (await register_verified(api))["email"]
    tokens = await login(api, email)
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    order = await paid_order(api, auth)
    granted = await api.post(f"/api/v1/staff/customers/{me['id']}/credits", headers={
        **admin, "Idempotency-Key": str(uuid.uuid4())}, json={"amount": 7, "reason": "welcome gift"})
    assert granted.status_code in (200, 201), granted.text
    paid_subject = f"Order {order['order_number']}: paid"
    await latest_mail(api, email, VERIFY_SUBJECT)
    await latest_mail(api, email, paid_subject)
    # Someone who never confirmed their address (they lost the mail).
    unverified = f"user-{uuid.uuid4().hex[:10]}@example.com"
    registered = await api.post("/api/v1/auth/register", json={
        "email": unverified, "password": PASSWORD, "password_confirm": PASSWORD, "first_name": "Grace",
        "last_name": "Hopper"})
    assert registered.status_code == 201, registered.text
    await latest_mail(api, unverified, VERIFY_SUBJECT)

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await open_customer(page, email)

        # The page: the order by its number, the credits, the signed-in session, the mail.
        orders = page.get_by_role("table", name="The customer's orders")
        await orders.get_by_role("link", name=order["order_number"]).wait_for()
        await page.locator("#credit-balance").filter(has_text="7").wait_for()
        await page.get_by_role("cell", name="welcome gift").wait_for()
        assert await page.locator("#active-sessions").text_content() == "1"
        sessions = page.get_by_role("table", name="Signed-in sessions (devices)")
        await sessions.get_by_role("row").nth(1).wait_for()  # the sections load one after another
        assert await sessions.get_by_role("row").count() == 2  # the header and the one session
        mail = page.get_by_role("table", name="Mail sent to the customer")
        await mail.get_by_role("row").filter(has_text=paid_subject).wait_for()

        # The verification mail, resent: a second one arrives.
        await mail.get_by_role("button", name=f"Resend “{VERIFY_SUBJECT}”").click()
        await status_says(page, f"Resent “{VERIFY_SUBJECT}” to {email}.")

        async def twice() -> bool:
            return await mail_count(api, email, VERIFY_SUBJECT) == 2

        await poll(twice, timeout=30, message="the verification mail twice in the customer's mailbox")

        # Signed out everywhere, after a confirmation (going back first ends nothing).
        await page.get_by_role("button", name="Sign out everywhere").click()
        await confirm(page, f"Sign {email} out everywhere?", "Go back")
        assert await page.locator("#active-sessions").text_content() == "1"
        assert (await api.get("/api/v1/users/me", headers=auth)).status_code == 200
        await page.get_by_role("button", name="Sign out everywhere").click()
        await confirm(page, f"Sign {email} out everywhere?", "Sign out everywhere")
        await status_says(page, "Every session of the customer ended.")
        await page.locator("#active-sessions").filter(has_text="0").wait_for()
        await page.get_by_text("Not signed in anywhere.").wait_for()
        refreshed = await api.post("/api/v1/auth/refresh", json={"refresh": tokens["refresh"]})
        assert refreshed.status_code == 401, refreshed.text

        async def access_denied() -> bool:
            return (await api.get("/api/v1/users/me", headers=auth)).status_code == 401

        await poll(access_denied, timeout=30, message="the customer's access token denied at the gateway")
        await login(api, email)  # signing in again works

        # The order's page, from the customer's.
        await orders.get_by_role("link", name=order["order_number"]).click()
        await page.get_by_role("heading", name=f"Order {order['order_number']}").wait_for()

        # A new verification link for the customer who never confirmed; it verifies the address.
        await open_customer(page, unverified)
        await page.get_by_role("button", name="Send verification mail").click()
        await status_says(page, "A verification mail is on its way.")

        async def second_link() -> bool:
            return await mail_count(api, unverified, VERIFY_SUBJECT) == 2

        await poll(second_link, timeout=30, message="a second verification mail")
        watch.assert_clean()


async def test_support_cancels_a_plan_at_period_end_and_reactivates_it(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support = await staffer_account(api, admin, "support")
    email = (await register_verified(api))["email"]
    auth = {"Authorization": f"Bearer {(await login(api, email))['access']}"}
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    checkout = await api.post("/api/v1/subscriptions/checkout", headers=auth, json={
        "plan_id": "pro_monthly", "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    assert checkout.status_code == 200, checkout.text
    paid = await api.post(f"{checkout.json()['checkout_url']}/pay", headers={"Accept": "application/json"})
    assert paid.status_code == 200, paid.text

    async def current() -> dict:
        return (await api.get("/api/v1/subscriptions/current", headers=auth)).json()

    assert (await current())["status"] == "active"

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await page.get_by_role("link", name="Subscriptions", exact=True).click()
        await status_says(page, "subscriptions found")
        # The customer by email (the id in the link's title).
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=email))
        await row.wait_for()
        assert await row.get_by_role("link", name=email).get_attribute("title") == me["id"]

        await row.get_by_role("button", name="Cancel at period end").click()
        await status_says(page, "The pro_monthly plan ends on")
        await row.filter(has_text="active (ends at period end)").wait_for()
        plan = await current()
        assert (plan["tier"], plan["cancel_at_period_end"]) == ("pro", True)

        await row.get_by_role("button", name="Reactivate").click()
        await status_says(page, "The pro_monthly plan renews again.")
        await row.get_by_role("button", name="Cancel at period end").wait_for()
        plan = await current()
        assert (plan["tier"], plan["status"], plan["cancel_at_period_end"]) == ("pro", "active", False)
        watch.assert_clean()
