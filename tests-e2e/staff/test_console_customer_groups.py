"""Customer groups in the staff console, in headless Chromium through the gateway: the admin
makes a storefront's group; support adds a customer by e-mail, then many at once (one unknown
e-mail refuses them all, and says which), and removes one. Every effect is read back through the API."""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, sign_out, status_says
from infra.journeys import GROUPS, register_verified, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = pytest.mark.e2e


async def test_staff_keep_a_group_and_its_members(platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    tag = uuid.uuid4().hex[:8]
    code = f"trade-{tag}"
    support = await staffer_account(api, admin, "support")
    first, *others = [(await register_verified(api))["email"] for _ in range(3)]
    missing = f"nobody-{tag}@example.com"

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
        await page.get_by_role("link", name="Customer groups", exact=True).click()
        await page.get_by_label("Code (lower case, e.g. wholesale; fixed once created)").fill(code)
        await page.get_by_label("Name", exact=True).fill(f"Trade {tag}")
        await page.get_by_role("button", name="Create group").click()
        await page.get_by_role("heading", name=f"Customer group Trade {tag}").wait_for()
        await sign_out(page)

        await sign_in(page, platform.url, support["email"])
        await page.get_by_role("link", name="Customer groups", exact=True).click()
        await page.get_by_role("link", name=f"Trade {tag}").click()
        await page.get_by_label("Customer's e-mail").fill(first)
        await page.get_by_role("button", name="Add", exact=True).click()
        await status_says(page, "1 added")
        await page.get_by_role("cell", name=first, exact=True).wait_for()
        bulk = page.get_by_label("E-mails or customer ids, one a line (up to 1,000)")
        await bulk.fill("\n".join([*others, missing]))
        await page.get_by_role("button", name="Add them").click()
        await page.get_by_role("alert").filter(has_text=missing).wait_for()
        await bulk.fill("\n".join(others))
        await page.get_by_role("button", name="Add them").click()
        await status_says(page, "2 added")
        await page.get_by_role("button", name=f"Remove {first}").click()
        await page.get_by_role("button", name="Remove", exact=True).click()
        await status_says(page, f"{first} removed")
        assert await page.get_by_role("button", name="Create group").count() == 0  # the admin's
        assert watch.escaped == []

    [group] = [g for g in (await api.get(GROUPS, headers=admin)).json()["results"] if g["code"] == code]
    members = (await api.get(f"{GROUPS}/{group['id']}/members", headers=admin)).json()["results"]
    assert sorted(m["email"] for m in members) == sorted(others)
