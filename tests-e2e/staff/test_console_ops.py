"""The console runs the business, in headless Chromium through the gateway: storefronts,
webhooks, dead letters, a customer's suspension, an order's fulfilment and a partial refund.

Each staffer works in the page as a person would (labels, buttons, the confirmation dialog before
anything that cannot be undone); the effects are read back through the API. Dead letters need the
broker's queues, so that test runs in the distributed mode; the others in both.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.back_office import staffer_account
from infra.console import SCREEN, confirm, open_order, sign_in, sign_out, status_says
from infra.dead_letters import poison
from infra.journeys import PASSWORD, customer, login, paid_order, poll, staff

from atelier_common.contracts.identity import UserDeleted
from atelier_testing import assert_error
from atelier_testing.browser import chromium, offline_context
from atelier_testing.fakes.webhook_receiver import WebhookReceiver
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = pytest.mark.e2e


async def test_admin_adds_a_storefront_a_webhook_and_suspends_a_customer(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    auth = await customer(api)
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    slug = f"ops{uuid.uuid4().hex[:8]}"
    origin = f"https://{slug}.example"
    endpoint_id = None

    with WebhookReceiver() as receiver:
        async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
            page = await context.new_page()
            await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
            try:
                # A storefront with its origin and currency; the site's CORS then lets that origin in.
                await page.get_by_role("link", name="Storefronts", exact=True).click()
                await page.get_by_role("link", name="Add a storefront").click()
                # The fields it needs are marked (to the eye and to a screen reader); each empty
                # policy's help says what it falls back to, in the server's own words (its schema).
                form = page.locator("#storefront-form")
                await form.wait_for()
                for label in ("Slug", "Name", "Currency", "Frontend URL"):
                    field = form.locator(".field").filter(has=page.get_by_label(label, exact=True))
                    assert await field.get_by_label(label, exact=True).get_attribute("aria-required") == "true", label
                    assert await field.locator(".required-mark").is_visible(), label
                assert await form.get_by_label("Mail sender").get_attribute("aria-required") is None
                assert await form.locator(".required-note").is_visible()
                schemas = (await api.get("/api/schema")).json()["components"]["schemas"]
                [policies] = [v for k, v in schemas.items() if k.endswith("StorefrontPoliciesIn")]
                for name, label in (("cart_line_limit", "Most of one product per cart line"),
                                    ("access_token_minutes", "Access token lifetime (minutes)")):
                    said = policies["properties"][name]["description"]
                    assert said.startswith("Empty: ")
                    help_ = form.locator(".field").filter(has=page.get_by_label(label)).locator(".hint")
                    assert (await help_.text_content()) == said
                    described = await form.get_by_label(label).get_attribute("aria-describedby")
                    assert await help_.get_attribute("id") in described.split()
                # Placeholders read as examples, never as values.
                for placeholder in await form.locator("[placeholder]").evaluate_all(
                        "fields => fields.map(f => f.placeholder)"):
                    assert placeholder.startswith("e.g. "), placeholder
                await page.get_by_label("Slug").fill(slug)
                await page.get_by_label("Name", exact=True).fill("Ops Prints")
                await page.get_by_label("Origins (space-separated)").fill(origin)
                await page.get_by_label("Currency").fill("EUR")
                await page.get_by_label("Tax rate (0.09 is 9%)").fill("0.2")
                await page.get_by_label("Mail sender").fill(f"Ops Prints <no-reply@{slug}.example>")
                await page.get_by_label("Frontend URL").fill(origin)
                await page.get_by_label("Link path: order").fill("/account/orders/{order_id}")
                # A new storefront offers guests an account (the default); this one makes one for each.
                guests = page.get_by_label("Guest accounts (a guest's paid order)")
                assert await guests.input_value() == "offer"
                await guests.select_option("create")
                await page.get_by_role("button", name="Add storefront").click()
                await status_says(page, f"Storefront {slug} added.")
                await page.get_by_role("heading", name="Storefront Ops Prints").wait_for()
                made = (await api.get(f"/api/v1/storefronts/{slug}", headers=admin)).json()
                assert (made["origins"], made["currency"], Decimal(made["tax"]["rate"])) == ([origin], "EUR", Decimal("0.2"))
                assert made["link_paths"]["order"] == "/account/orders/{order_id}"
                assert made["mail_from"] == f"Ops Prints <no-reply@{slug}.example>"
                assert made["guest_accounts"] == "create"
                assert await guests.input_value() == "create"  # the saved storefront's page shows it

                async def cors_allows() -> bool:
                    r = await api.options("/api/v1/products", headers={
                        "Origin": origin, "Access-Control-Request-Method": "GET"})
                    return r.headers.get("access-control-allow-origin") == origin

                await poll(cors_allows, timeout=30, message="the new storefront's origin allowed by CORS")
                served = await api.get("/api/v1/storefront", headers={"Origin": origin})
                assert (served.json()["slug"], served.headers["access-control-allow-origin"]) == (slug, origin)

                # Edited: its name changes, guests stay guests; the status line of the last page is gone.
                await page.get_by_label("Name", exact=True).fill("Ops Prints & Co")
                await guests.select_option("never")
                await page.get_by_role("button", name="Save storefront").click()
                await status_says(page, f"Storefront {slug} saved.")
                edited = (await api.get(f"/api/v1/storefronts/{slug}", headers=admin)).json()
                assert (edited["name"], edited["guest_accounts"]) == ("Ops Prints & Co", "never")
                await page.get_by_role("link", name="Generation jobs", exact=True).click()
                await status_says(page, "jobs found")
                await page.get_by_role("link", name="Storefronts", exact=True).click()
                await page.get_by_role("cell", name=slug, exact=True).wait_for()
                assert (await page.get_by_role("status").text_content()) == ""

                # A webhook endpoint: its secret shown once; a paid order's delivery, replayed.
                await page.get_by_role("link", name="Webhooks", exact=True).click()
                await page.get_by_label("Receiver URL").fill(receiver.url)
                await page.get_by_label("Description").fill("ops e2e")
                await page.get_by_label("order.paid", exact=True).check()
                await page.get_by_role("button", name="Add endpoint").click()
                await status_says(page, "added")
                assert (await page.locator("#webhook-secret").text_content()).startswith("whsec_")
                [endpoint] = [e for e in (await api.get("/api/v1/webhook-endpoints", headers=admin,
                                                         params={"limit": 100})).json()["results"]
                              if e["url"] == receiver.url]
                endpoint_id = endpoint["id"]
                assert endpoint["events"] == ["order.paid"]
                order = await paid_order(api, await customer(api))

                def about_order() -> list[Any]:
                    return [r for r in receiver.requests() if json.loads(r.body)["data"].get("order_id") == order["id"]]

                async def arrived() -> list[Any] | None:
                    return about_order() or None

                [first] = await poll(arrived, timeout=30, message="order.paid at the endpoint")
                webhook_id = first.headers["webhook-id"]
                await page.get_by_role("table").get_by_role("link", name=receiver.url).click()
                row = page.get_by_role("row").filter(has_text=webhook_id)

                async def delivered() -> bool:
                    await page.reload()
                    await page.get_by_role("heading", name="Deliveries").wait_for()
                    return await row.filter(has_text="succeeded").count() == 1

                await poll(delivered, timeout=30, message="the delivery in the endpoint's log")
                await row.get_by_role("button", name=re.compile("^Replay")).click()
                await status_says(page, f"Delivery {webhook_id} sent again.")

                async def twice() -> bool:
                    return len(about_order()) == 2

                await poll(twice, timeout=30, message="the replayed delivery at the endpoint")
                assert {r.headers["webhook-id"] for r in about_order()} == {webhook_id}

                # The endpoint is disabled from its page (and enabled again).
                await page.get_by_role("button", name="Disable").click()
                await status_says(page, "The endpoint is disabled.")
                assert (await api.get(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=admin)).json()["enabled"] is False
                await page.get_by_role("button", name="Enable").click()
                await status_says(page, "The endpoint is enabled.")

                # A customer suspended after a confirmation (going back first changes nothing), then reactivated.
                await page.goto(f"{platform.url}/console#/customers/{me['id']}")
                await page.get_by_role("heading", name=me["email"]).wait_for()
                await page.get_by_role("button", name="Suspend").click()
                await confirm(page, f"Suspend {me['email']}?", "Go back")
                assert await page.locator("#account-state").text_content() == "active"
                await page.get_by_role("button", name="Suspend").click()
                await confirm(page, f"Suspend {me['email']}?", "Suspend the account")
                await status_says(page, "The account is suspended.")
                await page.locator("#account-state").filter(has_text="suspended").wait_for()
                refused = await api.post("/api/v1/auth/login", json={"email": me["email"], "password": PASSWORD})
                assert refused.status_code in (401, 403), refused.text
                await page.get_by_role("button", name="Reactivate").click()
                await status_says(page, "The account is active again.")
                await page.locator("#account-state").filter(has_text="active").wait_for()
                await login(api, me["email"])
                watch.assert_clean()
            finally:
                if endpoint_id:
                    await api.delete(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=admin)
                await api.delete(f"/api/v1/storefronts/{slug}", headers=admin)


async def test_the_webhook_form_offers_every_event_and_an_edit_keeps_them(
        platform: Platform, api: httpx.AsyncClient) -> None:
    """The form's event types are identity's (`GET /staff/webhooks/events`): it once listed 10 of 18,
    and saving an endpoint's description dropped the other 8 from it."""
    from atelier_identity.webhooks import EVENT_TYPES

    admin = await staff(api)
    offered = [t["type"] for t in (await api.get("/api/v1/staff/webhooks/events", headers=admin)).json()]
    assert sorted(offered) == sorted(EVENT_TYPES) and len(offered) > 10
    with WebhookReceiver() as receiver:
        made = await api.post("/api/v1/webhook-endpoints", headers=admin,
                              json={"url": receiver.url, "events": offered, "description": "every event"})
        assert made.status_code == 201, made.text
        endpoint_id = made.json()["id"]
        try:
            async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
                page = await context.new_page()
                await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
                await page.get_by_role("link", name="Webhooks", exact=True).click()
                adding = page.locator("#webhook-new")
                await adding.get_by_role("button", name="Add endpoint").wait_for()
                for event_type in offered:
                    assert not await adding.get_by_label(event_type, exact=True).is_checked()
                await page.get_by_role("table").get_by_role("link", name=receiver.url).click()
                editing = page.locator("#webhook-edit")
                await editing.get_by_label("Description").fill("every event, renamed")
                await editing.get_by_role("button", name="Save endpoint").click()
                await status_says(page, "Endpoint saved.")
                watch.assert_clean()
            saved = (await api.get(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=admin)).json()
            assert (saved["description"], sorted(saved["events"])) == ("every event, renamed", sorted(offered))
        finally:
            await api.delete(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=admin)


async def test_an_order_is_fulfilled_to_its_address_and_finance_refunds_part(
        platform: Platform, api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    support = await staffer_account(api, admin, "support")
    finance = await staffer_account(api, admin, "finance")
    auth = await customer(api)
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    # One physical product shipped to ADDRESS, bought on the demo `shop` (S3), whose orders ship with
    # a tracking number (`policies.tracking_number_required`).
    order = await paid_order(api, {**auth, "X-Atelier-Storefront": "shop"})
    number = order["order_number"]

    async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
        page = await context.new_page()
        await sign_in(page, platform.url, support["email"])
        await open_order(page, me["email"], number)
        address = page.locator("#shipping-address")
        status = page.get_by_label("New status")

        async def offered() -> list[str]:
            return [o.strip() for o in await status.locator("option").all_text_contents()]

        # Only the moves orders allows now; the tracking number is asked for where shipping needs it.
        assert await offered() == ["cancelled", "processing"]
        assert "12 St James's Square" in await address.text_content()
        await status.select_option("processing")
        await page.get_by_role("button", name="Change status").click()
        await status_says(page, "The order is processing.")
        assert await offered() == ["cancelled", "shipped"]
        # orders itself refuses the move without one, whoever asks.
        r = await api.post(f"/api/v1/orders/{order['id']}/status", headers=admin, json={"status": "shipped"})
        assert r.status_code == 400 and r.json()["error"]["details"]["fields"] == {
            "tracking_number": ["Required to ship"]}, r.text
        await status.select_option("shipped")
        await page.get_by_role("button", name="Change status").click()
        await page.get_by_role("alert").filter(has_text="Tracking number is required").wait_for()
        assert await page.evaluate("document.activeElement.getAttribute('name')") == "tracking_number"
        await page.get_by_label("Tracking number").fill("1Z999AA10123456784")
        await page.get_by_role("button", name="Change status").click()
        await status_says(page, "The order is shipped.")
        await page.locator("#tracking").filter(has_text="1Z999AA10123456784").wait_for()
        assert "12 St James's Square" in await address.text_content()
        assert await offered() == ["delivered"]
        await status.select_option("delivered")
        await page.get_by_role("button", name="Change status").click()
        await status_says(page, "The order is delivered.")
        assert "12 St James's Square" in await address.text_content()
        seen = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        assert (seen["status"], seen["tracking_number"]) == ("delivered", "1Z999AA10123456784")
        assert await page.get_by_role("button", name="Refund").count() == 0  # refunds are finance's
        await sign_out(page)

        # Finance: an amount is required (empty is not "everything"); a confirmation; going back refunds nothing.
        await sign_in(page, platform.url, finance["email"])
        await open_order(page, me["email"], number)
        assert await page.get_by_label("New status").count() == 0  # the status is support's
        await page.get_by_label("Reason", exact=True).fill("one item scratched")
        await page.get_by_role("button", name="Refund").click()
        await page.get_by_role("alert").filter(has_text="required").wait_for()
        currency = order["currency"]
        await page.get_by_label(f"Amount in {currency}").fill("4.00")
        await page.get_by_role("button", name="Refund").click()
        await confirm(page, f"Refund 4.00 {currency}?", "Go back")
        assert (await page.locator("#total-refunded").text_content()).startswith("0")
        await page.get_by_role("button", name="Refund").click()
        await confirm(page, f"Refund 4.00 {currency}?", f"Refund 4.00 {currency}")
        await status_says(page, "Refunded 4.00")
        assert (await page.locator("#total-refunded").text_content()).startswith("4.00")

        async def partly_refunded() -> bool:
            await page.reload()
            return "partly refunded" in (await page.locator("#order-status").text_content() or "")

        await poll(partly_refunded, timeout=30, message="the order read as partly refunded")

        # The invoice of the payment and the credit note of the refund, each downloaded as a PDF.
        invoice = page.locator("#invoice-number")
        number = (await invoice.text_content() or "").strip()
        assert number.startswith("INV-SHOP-"), number

        async def credit_note() -> bool:
            await page.reload()
            await invoice.wait_for()  # the section has loaded
            return await page.get_by_role("button", name=re.compile(r"^Download CN-")).count() == 1

        await poll(credit_note, timeout=30, message="the refund's credit note listed")
        for document in (number, "CN-"):
            async with page.expect_download() as downloading:
                await page.get_by_role("button", name=re.compile(f"^Download {document}")).click()
            download = await downloading.value
            assert download.suggested_filename.endswith(".pdf")
            saved = await download.path()
            assert (await asyncio.to_thread(Path(saved).read_bytes)).startswith(b"%PDF")

        # The ledger: the customer's payment and the refund, found by the customer's email.
        await page.get_by_role("link", name="Ledger").click()
        await page.get_by_label("Customer email").fill(me["email"])
        await page.get_by_role("button", name="Show").click()
        rows = page.locator("#results tbody tr")

        # Until the filtered page replaces it, the unfiltered one (everyone's entries) is showing.
        async def only_theirs() -> bool:
            shown = await rows.all_text_contents()
            return bool(shown) and all(me["email"] in row for row in shown)

        await poll(only_theirs, timeout=30, message="the ledger showing the customer's entries only")
        kinds = sorted(kind.strip() for kind in await rows.locator("td:nth-child(4)").all_text_contents())
        assert kinds == ["Payment", "Refund"], kinds
        assert "4.00" in await rows.filter(has_text="Refund").text_content()
        assert await rows.filter(has_text=me["email"]).count() == 2  # the owner named, not an id
        watch.assert_clean()


async def test_a_dead_letter_is_viewed_replayed_alone_and_dropped(distributed_platform: Platform,
                                                                  amqp_url: str) -> None:
    base = "/api/v1/staff/dead-letters/catalog"
    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=30) as api:
        admin = await staff(api)
        support = await staffer_account(api, admin, "support")
        one, other = await poison(distributed_platform, amqp_url), await poison(distributed_platform, amqp_url)

        async def listed() -> dict[str, Any] | None:
            letters = {d["id"]: d for d in (await api.get(base, headers=admin)).json()["results"]}
            return letters if {str(one.id), str(other.id)} <= letters.keys() else None

        await poll(listed, timeout=120, interval=1, message="both poisoned events in catalog's dead letters")

        async with chromium() as browser, offline_context(browser, **SCREEN) as (context, watch):
            page = await context.new_page()
            # Support reads them, and is offered no replay or drop.
            await sign_in(page, distributed_platform.url, support["email"])
            await page.goto(f"{distributed_platform.url}/console#/dead-letters/catalog")
            # Each letter by the first eight characters of its id (the whole id in the link's title).
            await page.get_by_role("link", name=f"{str(one.id)[:8]}…").wait_for()
            assert await page.get_by_title(str(one.id)).count() == 1
            assert await page.get_by_role("button", name=re.compile("^(Replay|Drop)")).count() == 0
            await sign_out(page)

            await sign_in(page, distributed_platform.url, STAFF_EMAIL, STAFF_PASSWORD)
            await page.goto(f"{distributed_platform.url}/console#/dead-letters/catalog")
            # The error reads as text in its cell, not as an unwrapped block.
            row = page.get_by_role("row").filter(has_text=str(one.id)[:8])
            assert "v99" in await row.get_by_role("cell").nth(4).text_content()
            await page.get_by_role("link", name=f"{str(one.id)[:8]}…").click()
            await page.get_by_role("heading", name=f"Dead letter {UserDeleted.type}").wait_for()
            envelope = json.loads(await page.locator("#envelope pre").text_content())
            assert (envelope["id"], envelope["version"], envelope["data"]) == (str(one.id), 99, one.data)

            # Replayed alone: the other stays where it was.
            await page.get_by_role("button", name=re.compile("^Replay")).click()
            await status_says(page, "1 message replayed.")
            await page.get_by_role("heading", name="catalog").wait_for()
            letters = {d["id"] for d in (await api.get(base, headers=admin)).json()["results"]}
            assert str(other.id) in letters

            async def back() -> bool:
                return str(one.id) in {d["id"] for d in (await api.get(base, headers=admin)).json()["results"]}

            await poll(back, timeout=120, interval=1, message="the replayed event dead-lettered again")

            # Replay all and drop are asked first.
            await page.reload()
            await page.get_by_role("button", name="Replay all").click()
            dialog = page.get_by_role("dialog", name="Replay every dead letter of catalog?")
            await dialog.get_by_role("button", name="Go back").click()
            await dialog.wait_for(state="detached")
            row = page.get_by_role("row").filter(has_text=str(other.id)[:8])
            await row.get_by_role("button", name=re.compile("^Drop")).click()
            await confirm(page, f"Drop this {UserDeleted.type} message?", "Drop it")
            await status_says(page, "1 message dropped.")
            assert_error(await api.get(f"{base}/{other.id}", headers=admin), 404, "NOT_FOUND")
            dropped = await api.post(f"{base}/drop", headers=admin, json={"ids": [str(one.id)]})
            assert dropped.json() == {"dropped": 1}
            watch.assert_clean()
