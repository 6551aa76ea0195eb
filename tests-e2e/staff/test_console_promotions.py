"""Promotions in the staff console, in headless Chromium through the gateway, in both modes: a
merchandiser creates a discount code, sees it listed with its uses, edits it and deactivates it.
Every effect is read back through the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.journeys import login, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

from .test_console_catalog import SCREEN, sign_in, status_says

pytestmark = pytest.mark.e2e


async def by_code(api: httpx.AsyncClient, auth: dict[str, str], code: str) -> dict[str, Any]:
    [promotion] = (await api.get("/api/v1/staff/promotions", headers=auth, params={"code": code})).json()["results"]
    return promotion


async def test_a_merchandiser_creates_edits_and_deactivates_a_code(platform: Platform,
                                                                   api: httpx.AsyncClient) -> None:
    merchandiser = await staffer_account(api, await staff(api), "merchandiser")
    auth = {"Authorization": f"Bearer {(await login(api, merchandiser['email']))['access']}"}
    code = f"WINTER{uuid.uuid4().hex[:6]}".upper()

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, merchandiser["email"])
        await page.get_by_role("link", name="Promotions", exact=True).click()
        await page.get_by_role("heading", name="Promotions", exact=True).wait_for()
        new = page.locator("#promotion-new")
        await new.get_by_label("Name", exact=True).fill(f"Winter {code}")
        await new.get_by_label("Code (empty: applied automatically)").fill(code)
        await new.get_by_label("Kind", exact=True).select_option("percentage")
        await new.get_by_label("Value (percent, or amount)").fill("15")
        await new.get_by_label("Uses in all (empty: no limit)").fill("5")
        await page.get_by_role("button", name="Create promotion").click()
        await page.get_by_role("heading", name=f"Promotion Winter {code}").wait_for()
        await status_says(page, f"Promotion Winter {code} created.")
        assert await page.locator("#promotion-uses").text_content() == "0 / 5"
        made = await by_code(api, auth, code)
        assert (made["kind"], made["value"], made["usage_limit"], made["is_active"]) == ("percentage", "15.00", 5, True)

        edit = page.locator("#promotion-edit")
        await edit.get_by_label("Value (percent, or amount)").fill("20")
        await page.get_by_role("button", name="Save promotion").click()
        await status_says(page, "Promotion saved.")
        assert (await by_code(api, auth, code))["value"] == "20.00"

        await page.get_by_role("button", name="Deactivate").click()
        await page.get_by_role("button", name="Deactivate it").click()
        await status_says(page, f"Promotion Winter {code} deactivated.")
        assert await page.locator("#promotion-state").text_content() == "inactive"
        assert (await by_code(api, auth, code))["is_active"] is False
        watch.assert_clean()
