"""Gift cards in the staff console, in headless Chromium through the gateway: support issues a card
and sees its whole code once (never again), the card's page shows its balance and movements, and
deactivating it makes its code answer like an unknown one. Every effect is read back through the API."""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, sign_in, status_says
from infra.journeys import new_anonymous_token, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e


async def test_support_issues_a_card_sees_its_code_once_and_deactivates_it(platform: Platform,
                                                                          api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support = await staffer_account(api, admin, "support")
    note = f"console {uuid.uuid4().hex[:8]}"

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await page.get_by_role("link", name="Gift cards", exact=True).click()
        await page.get_by_label("Amount").fill("25.00")
        await page.get_by_label("Note (staff only)").fill(note)
        await page.get_by_role("button", name="Issue card").click()
        shown = page.locator("#gift-card-code strong")
        await shown.wait_for()
        code = (await shown.text_content() or "").strip()
        assert len(code.replace("-", "")) == 16
        await page.get_by_role("heading", name=f"Gift card ••••{code[-4:]}").wait_for()
        await page.get_by_role("cell", name="issued", exact=True).wait_for()
        # Once: the page read again does not show it.
        await page.reload()
        await page.get_by_role("heading", name=f"Gift card ••••{code[-4:]}").wait_for()
        assert await page.locator("#gift-card-code").count() == 0
        await page.get_by_role("button", name="Deactivate").click()
        await page.get_by_role("button", name="Deactivate", exact=True).last.click()
        await status_says(page, "deactivated")
        await page.get_by_role("button", name="Reactivate").wait_for()
        assert watch.escaped == []

    [card] = (await api.get("/api/v1/staff/gift-cards", params={"last4": code[-4:]}, headers=admin)).json()["results"]
    assert (card["balance"], card["is_active"], card["note"]) == ("25.00", False, note)
    guest = {"X-Session-ID": await new_anonymous_token(api)}
    r = await api.post("/api/v1/payments/gift-cards/balance", json={"code": code}, headers=guest)
    assert r.status_code == 400 and r.json()["error"]["code"] == "GIFT_CARD_INVALID"
