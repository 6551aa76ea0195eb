"""Merchandising in the staff console (#53), in headless Chromium through the gateway, in both modes.

A merchandiser builds the category tree (deleting only an empty category), creates a product with two variants, a picture and a price
in each of two storefronts' currencies (the catalog has one price and currency per product: the
second currency is a copy of the product for that storefront), edits it, moves it, deactivates it,
and round-trips the catalog through CSV (export, edit, dry run, apply). Every effect is read back
through the API.
"""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.journeys import PASSWORD, login, poll, staff
from PIL import Image

from atelier_testing.browser import chromium, offline_context
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

SCREEN = {"viewport": {"width": 1366, "height": 768}}


async def sign_in(page: Any, base: str, email: str) -> None:
    await page.goto(f"{base}/console")
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Console sections").wait_for()


async def status_says(page: Any, text: str) -> None:
    await page.get_by_role("status").filter(has_text=text).wait_for()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(out, "PNG")
    return out.getvalue()


async def storefront(api: httpx.AsyncClient, admin: dict[str, str], slug: str, currency: str) -> None:
    origin = f"https://{slug}.example"
    made = await api.post("/api/v1/storefronts", headers=admin, json={
        "slug": slug, "name": f"Store {slug}", "origins": [origin], "frontend_url": f"{origin}/app",
        "currency": currency, "sells": ["physical"]})
    assert made.status_code == 201, made.text

    async def known() -> bool:
        seen = await api.get("/api/v1/storefront", headers={"X-Atelier-Storefront": slug})
        return seen.status_code == 200 and seen.json()["slug"] == slug

    await poll(known, message=f"storefront {slug} known")


async def by_sku(api: httpx.AsyncClient, auth: dict[str, str], sku: str) -> dict[str, Any]:
    found = (await api.get("/api/v1/products", headers=auth,
                           params={"search": sku, "include_inactive": "true", "limit": 50})).json()["results"]
    [product] = [p for p in found if p["sku"] == sku]
    return product


async def test_a_merchandiser_builds_edits_and_round_trips_products(
        platform: Platform, api: httpx.AsyncClient, tmp_path: Path) -> None:
    admin = await staff(api)
    tag = uuid.uuid4().hex[:6]
    eu, uk = f"eu-{tag}", f"uk-{tag}"
    await storefront(api, admin, eu, "EUR")
    await storefront(api, admin, uk, "GBP")
    merchandiser = await staffer_account(api, admin, "merchandiser")
    auth = {"Authorization": f"Bearer {(await login(api, merchandiser['email']))['access']}"}
    sku = f"FOX-{tag}".upper()
    other = await api.post("/api/v1/products", headers=auth, json={
        "name": f"Owl {tag}", "sku": f"OWL-{tag}".upper(), "price": "12.00", "currency": "EUR", "storefronts": [eu]})
    assert other.status_code == 201, other.text

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, merchandiser["email"])

        # The category tree: two categories, one renamed and moved under the other.
        await page.get_by_role("link", name="Categories", exact=True).click()
        await page.get_by_role("heading", name="Categories", exact=True).wait_for()
        for name in (f"Prints {tag}", f"Poster {tag}"):
            await page.get_by_label("Name", exact=True).fill(name)
            await page.get_by_role("button", name="Add category").click()
            await status_says(page, f"Added {name}.")
        edit = page.locator("#category-edit")
        await edit.get_by_label("Category", exact=True).select_option(label=f"Poster {tag}")
        await edit.get_by_label("New name (empty: unchanged)").fill(f"Posters {tag}")
        await edit.get_by_label("Move under").select_option(label=f"Prints {tag}")
        await page.get_by_role("button", name="Save category").click()
        await status_says(page, f"Saved Posters {tag}.")
        # Deleting is for an empty category only: one with a child is refused, an empty one goes.
        await page.get_by_label("Name", exact=True).fill(f"Spare {tag}")
        await page.get_by_role("button", name="Add category").click()
        await status_says(page, f"Added Spare {tag}.")
        for name, deleted in ((f"Prints {tag}", False), (f"Spare {tag}", True)):
            await page.get_by_label("Which category").select_option(label=name)
            await page.get_by_label("Action", exact=True).select_option("delete")
            await page.get_by_role("button", name="Apply").click()
            if deleted:
                await status_says(page, f"Spare {tag}: deleted.")
            else:
                await page.get_by_role("alert").filter(has_text="CATEGORY_NOT_EMPTY").wait_for()
        tree = (await api.get("/api/v1/categories", headers=auth, params={"include_inactive": "true"})).json()["results"]
        assert not [c for c in tree if c["name"] == f"Spare {tag}"]
        [prints] = [c for c in tree if c["name"] == f"Prints {tag}"]
        [posters] = [c for c in prints["children"] if c["name"] == f"Posters {tag}"]

        # A new product, sold in the euro storefront.
        await page.get_by_role("link", name="Catalog", exact=True).click()
        await page.get_by_role("link", name="New product").click()
        await page.get_by_label("Name", exact=True).fill(f"Fox {tag}")
        await page.get_by_label("SKU", exact=True).fill(sku)
        await page.get_by_label("Description", exact=True).fill("A fox in the snow")
        await page.get_by_label("Price", exact=True).fill("40.00")
        await page.get_by_label("Compare-at price").fill("50.00")
        await page.get_by_label("Currency", exact=True).fill("EUR")
        await page.get_by_label("Category", exact=True).select_option(label=f"Prints {tag}")
        await page.get_by_label("Initial stock").fill("10")
        await page.get_by_label("Tax class").select_option("reduced")
        await page.get_by_label("Storefronts (slugs; empty: all)").fill(eu)
        await page.get_by_role("button", name="Create product").click()
        await page.get_by_role("heading", name=f"Fox {tag}").wait_for()
        product = await by_sku(api, auth, sku)

        # Two variants with their own SKU, price and stock; a picture uploaded to the media store.
        for size, price, units in (("A3", "40.00", "4"), ("A2", "55.00", "2")):
            await page.get_by_label("Variant name").fill(size)
            await page.get_by_label("Variant SKU").fill(f"{sku}-{size}")
            await page.get_by_label("Variant price").fill(price)
            await page.get_by_label("Variant stock").fill(units)
            await page.get_by_role("button", name="Add variant").click()
            await status_says(page, f"Added variant {size}.")
        await page.get_by_label("Image file").set_input_files(
            {"name": "fox.png", "mimeType": "image/png", "buffer": png()})
        await page.get_by_label("Alt text").fill("Fox, A3")
        await page.get_by_role("button", name="Upload image").click()
        await status_says(page, "Image uploaded.")
        await page.get_by_role("img", name="Fox, A3").wait_for()

        # A variant edited in place: its name, SKU and own price, saved through the variant API.
        await page.get_by_text("Edit variant A2", exact=True).click()
        edit = page.locator("form").filter(has=page.get_by_label("Name of variant A2"))
        await edit.get_by_label("Name of variant A2").fill("A2 matte")
        await edit.get_by_label("SKU of variant A2").fill(f"{sku}-A2M")
        await edit.get_by_label("Price of variant A2", exact=False).fill("57.50")
        await edit.get_by_role("button", name="Save variant").click()
        await status_says(page, "Saved variant A2 matte.")
        await page.get_by_role("cell", name=f"{sku}-A2M", exact=True).wait_for()
        # A SKU another variant has is refused with the API's code, nothing saved.
        await page.get_by_text("Edit variant A3", exact=True).click()
        edit = page.locator("form").filter(has=page.get_by_label("Name of variant A3"))
        await edit.get_by_label("SKU of variant A3").fill(f"{sku}-A2M")
        await edit.get_by_role("button", name="Save variant").click()
        await page.get_by_role("alert").filter(has_text="SKU_EXISTS").wait_for()
        variants = (await api.get(f"/api/v1/products/{product['id']}", headers=auth,
                                  params={"include_inactive": "true"})).json()["variants"]
        assert [(v["name"], v["sku"], v["price"]) for v in variants] == [
            ("A3", f"{sku}-A3", "40.00"), ("A2 matte", f"{sku}-A2M", "57.50")]

        # The stock boxes are labelled where one sees them (not only for a screen reader, off the screen).
        stock = page.get_by_role("region", name="Stock")
        for label in ("Of", "Units (±)", "Reason"):
            box = stock.get_by_label(label, exact=True)
            shown = await stock.locator(f"label[for='{await box.get_attribute('id')}']").bounding_box()
            assert shown is not None and shown["x"] >= 0 and shown["width"] > 0, label
        # Placeholders read as examples, never as values.
        for placeholder in await page.locator("#view [placeholder]").evaluate_all("fields => fields.map(f => f.placeholder)"):
            assert placeholder.startswith("e.g. "), placeholder

        # The pound storefront's price: a copy of the product priced in its currency.
        await page.get_by_label("For storefront").fill(uk)
        await page.get_by_label("Its currency").fill("GBP")
        await page.get_by_label("Price in that currency").fill("35.00")
        await page.get_by_label("SKU suffix").fill("UK")
        await page.get_by_role("button", name="Create copy").click()
        await status_says(page, f"Created {sku}-UK for {uk} in GBP.")

        # Back on the euro product: a new price, another category, then deactivated.
        await page.goto(f"{platform.url}/console#/catalog/{product['id']}")
        await page.locator("#product-state").filter(has_text="40.00 EUR").wait_for()
        await page.get_by_label("Price", exact=True).fill("42.00")
        await page.get_by_role("button", name="Save product").click()
        await page.locator("#product-state").filter(has_text="42.00 EUR").wait_for()
        await page.get_by_label("Category", exact=True).select_option(label=f"Prints {tag} › Posters {tag}")
        await page.get_by_role("button", name="Save product").click()
        await page.locator("#product-state").filter(has_text=f"Posters {tag}").wait_for()
        await page.get_by_role("button", name="Deactivate product").click()
        await page.locator("#product-state").filter(has_text="Inactive").wait_for()

        fox = (await api.get(f"/api/v1/products/{product['id']}", headers=auth,
                             params={"include_inactive": "true"})).json()
        assert (fox["price"], fox["compare_price"], fox["currency"], fox["tax_class"]) == (
            "42.00", "50.00", "EUR", "reduced")
        assert fox["category_id"] == posters["id"] and fox["is_active"] is False and fox["storefronts"] == [eu]
        assert [(v["sku"], v["price"], v["stock_quantity"]) for v in fox["variants"]] == [
            (f"{sku}-A3", "40.00", 4), (f"{sku}-A2M", "57.50", 2)]
        [image] = fox["images"]
        assert image["url"].startswith("/media/") and image["is_primary"]
        picture = await api.get(image["url"])
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        copy = await by_sku(api, auth, f"{sku}-UK")
        assert (copy["price"], copy["currency"], copy["storefronts"], copy["tax_class"]) == (
            "35.00", "GBP", [uk], "reduced")
        assert [v["sku"] for v in copy["variants"]] == [f"{sku}-A3-UK", f"{sku}-A2M-UK"]
        on_uk = (await api.get("/api/v1/products", params={"search": sku},
                               headers={"X-Atelier-Storefront": uk})).json()["results"]
        assert [(p["sku"], p["price"], p["currency"]) for p in on_uk] == [(f"{sku}-UK", "35.00", "GBP")]

        # The list's filters find it: inactive, in its category.
        await page.get_by_role("link", name="← Products").click()
        await page.get_by_label("Name or SKU").fill(sku)
        await page.get_by_label("Status").select_option("inactive")
        await page.get_by_role("button", name="Show").click()
        await status_says(page, "1 products found")
        await page.get_by_role("row").filter(has_text=sku).get_by_role("cell", name="inactive").wait_for()

        # The CSV round trip: export, three prices and a name changed, a dry run, then apply.
        await page.get_by_role("link", name="Export or import CSV").click()
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Export CSV").click()
        download = await download_info.value
        exported = tmp_path / "exported.csv"
        await download.save_as(exported)
        rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
        # A row per variant (Shopify's layout): the product's columns on its first, its picture's URL on it too.
        fox_rows = [row for row in rows if row["sku"] == sku]
        assert [(r["name"], r["variant_sku"], r["variant_name"], r["variant_price"], r["variant_stock_quantity"])
                for r in fox_rows] == [(f"Fox {tag}", f"{sku}-A3", "A3", "40.00", "4"),
                                       ("", f"{sku}-A2M", "A2 matte", "57.50", "2")]
        assert [(r["image_url"], r["image_alt_text"]) for r in fox_rows] == [(image["url"], "Fox, A3"), ("", "")]
        edits = {sku: "45.00", f"{sku}-UK": "36.50", f"OWL-{tag}".upper(): "13.00"}
        for row in rows:
            if row["sku"] in edits and row["name"]:  # the product's own row
                row["price"] = edits[row["sku"]]
            if row["sku"] == f"OWL-{tag}".upper():
                row["name"] = f"Barn owl {tag}"
        assert sum(row["sku"] in edits and row["price"] == edits[row["sku"]] for row in rows) == 3
        edited = tmp_path / "edited.csv"
        with edited.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

        await page.get_by_label("CSV file").set_input_files(str(edited))
        await page.get_by_role("button", name="Dry run").click()
        await page.locator("#import-counts").filter(has_text="Dry run: 0 created, 3 updated").wait_for()
        assert "0 in error" in await page.locator("#import-counts").text_content()
        await page.get_by_role("row").filter(has_text=f"OWL-{tag}".upper()).get_by_role("cell", name="updated").wait_for()
        assert (await by_sku(api, auth, sku))["price"] == "42.00"  # a dry run writes nothing

        await page.get_by_role("button", name="Apply import").click()
        await page.locator("#import-counts").filter(has_text="Applied: 0 created, 3 updated").wait_for()
        assert (await by_sku(api, auth, sku))["price"] == "45.00"
        assert (await by_sku(api, auth, f"{sku}-UK"))["price"] == "36.50"
        owl = await by_sku(api, auth, f"OWL-{tag}".upper())
        assert (owl["price"], owl["name"]) == ("13.00", f"Barn owl {tag}")
        # Chromium logs the refused deletion's and the refused SKU's 409s; nothing else failed.
        conflict = "Failed to load resource: the server responded with a status of 409 (Conflict)"
        assert watch.console_errors == [conflict, conflict]
        watch.console_errors = []
        watch.assert_clean()
