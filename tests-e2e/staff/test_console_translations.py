"""Translations in the staff console, in headless Chromium through the gateway: a merchandiser
gives a product of a storefront in English and Georgian its Georgian texts beside the English ones
(name, description, a variant's name), then removes them; a customer's read follows each step."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.journeys import login, poll, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

from .test_console_catalog import SCREEN, sign_in, status_says

pytestmark = pytest.mark.e2e


async def test_a_merchandiser_translates_a_product_beside_its_default_text(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin, tag = await staff(api), uuid.uuid4().hex[:6]
    slug = f"ka-{tag}"
    made = await api.post("/api/v1/storefronts", headers=admin, json={
        "slug": slug, "name": f"Comics {tag}", "origins": [f"https://{slug}.example"],
        "frontend_url": f"https://{slug}.example", "currency": "USD", "sells": ["physical"],
        "locales": ["en", "ka"], "default_locale": "en"})
    assert made.status_code == 201, made.text
    on = {"X-Atelier-Storefront": slug}

    async def known() -> bool:
        seen = await api.get("/api/v1/storefront", headers=on)
        return seen.status_code == 200 and seen.json()["locales"] == ["en", "ka"]

    await poll(known, message=f"storefront {slug} known")
    merchandiser = await staffer_account(api, admin, "merchandiser")
    auth = {"Authorization": f"Bearer {(await login(api, merchandiser['email']))['access']}"}
    r = await api.post("/api/v1/products", headers=auth, json={
        "name": f"Fox {tag}", "sku": f"FOX-{tag}".upper(), "price": "12.00", "currency": "USD",
        "description": "A fox in the snow", "storefronts": [slug]})
    assert r.status_code == 201, r.text
    product = r.json()
    r = await api.post(f"/api/v1/products/{product['id']}/variants", headers=auth,
                       json={"name": "Big", "sku": f"FOX-{tag}-B".upper()})
    assert r.status_code == 201, r.text

    async def read() -> dict[str, Any]:
        body: dict[str, Any] = (await api.get(f"/api/v1/products/{product['id']}",
                                              headers={**on, "Accept-Language": "ka"})).json()
        return body

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, merchandiser["email"])
        await page.goto(f"{platform.url}/console#/catalog/{product['id']}")
        section = page.get_by_role("region", name="Translations")
        # The default text beside the form.
        await section.locator("#default-text-ka").filter(has_text="A fox in the snow").wait_for()
        await section.get_by_label("Name in ka").fill(f"მელია {tag}")
        await section.get_by_label("Description in ka").fill("მელია თოვლში")
        await section.get_by_label(f"Variant FOX-{tag.upper()}-B in ka").fill("დიდი")
        assert await section.get_by_label("Name in ka").get_attribute("lang") == "ka"
        await section.get_by_role("button", name="Save ka").click()
        await status_says(page, "Saved the ka texts.")
        body = await read()
        assert (body["name"], body["description"], body["variants"][0]["name"]) == (
            f"მელია {tag}", "მელია თოვლში", "დიდი")
        # Back on the page, the form shows what is saved; removing it shows the default text again.
        await poll(lambda: _value_is(section.get_by_label("Name in ka"), f"მელია {tag}"), message="the saved name shown")
        await section.get_by_role("button", name="Remove the ka texts").click()
        await status_says(page, "Removed the ka texts")
        body = await read()
        assert (body["name"], body["variants"][0]["name"]) == (f"Fox {tag}", "Big")
        watch.assert_clean()


async def _value_is(field: Any, value: str) -> bool:
    return bool(await field.input_value() == value)
