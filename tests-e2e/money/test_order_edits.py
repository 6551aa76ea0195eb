"""Order edits through the gateway: support preview and confirm an edit of a paid order that has
not shipped (a unit of one line and a whole line removed); payments refunds the difference once,
the credit note follows, catalog puts the units back on the shelf, and the order's versions and
history say what changed. Once shipped, the order is no longer editable. An unpaid order edited up
waits for catalog to hold the units added, then costs its new total, which its payment charges. A
paid order edited up waits for the difference: the customer is mailed a link that pays exactly it
(twice paid, charged once), and the paid edit gets a supplementary invoice; what was charged less
what was refunded is what the order's lines and shipping cost. Where its storefront allows it, a
customer lowers their own paid order and is refunded the difference."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.back_office import staffer
from infra.journeys import customer, latest_mail, login, pay_order, poll, register_verified, staff
from infra.returns import paid_order, stock, two_products, unpaid_order

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e


async def test_a_paid_order_edited_down_is_refunded_credited_and_restocked(api: httpx.AsyncClient) -> None:
    auth, admin = await customer(api), await staff(api)
    as_support = await staffer(api, admin, "support")
    products = await two_products(api)
    order = await paid_order(api, auth, products)
    assert order["status"] == "paid"
    kept, dropped = (next(i for i in order["items"] if i["product_id"] == p["id"]) for p in products)
    before = {p["id"]: await stock(api, p["id"]) for p in products}
    body = {"changes": [{"order_item_id": kept["id"], "quantity": 1}, {"order_item_id": dropped["id"], "quantity": 0}],
            "reason": "Customer called to keep one"}
    url = f"/api/v1/staff/orders/{order['id']}/edits"
    assert_error(await api.post(url, headers=auth, json=body), 403, "PERMISSION_DENIED")

    preview = await api.post(f"{url}/preview", headers=as_support, json=body)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert [(line["old_quantity"], line["new_quantity"]) for line in shown["lines"]] == [
        (line["quantity"], 1 if line["id"] == kept["id"] else 0) for line in order["items"]]
    assert Decimal(shown["refund"]) == Decimal(order["total_amount"]) - Decimal(shown["total"]) > 0
    same = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert same["total_amount"] == order["total_amount"]  # a preview changes nothing

    confirmed = await api.post(url, headers=as_support, json=body)
    assert confirmed.status_code == 201, confirmed.text
    edit = confirmed.json()
    assert (edit["total"], edit["refund"], edit["edit"]["version"]) == (shown["total"], shown["refund"], 1)
    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after["total_amount"] == shown["total"] and after["status"] == "paid"
    assert [(i["id"], i["quantity"]) for i in after["items"]] == [(kept["id"], 1)]
    assert after["status_history"][-1]["note"].startswith("Edit v1: ")

    async def refunded() -> dict[str, Any] | None:
        [version] = (await api.get(url, headers=as_support)).json()
        return version if version["refunded_at"] else None

    version = await poll(refunded, timeout=40, message="the edit refunded")
    assert version["refund_amount"] == shown["refund"] and version["reason"] == "Customer called to keep one"
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert Decimal(money["total_refunded"]) == Decimal(shown["refund"]) and len(money["refunds"]) == 1

    async def credited() -> dict[str, Any] | None:
        invoice: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                                                 headers={**auth, "Accept": "application/json"})).json()
        return invoice if invoice["credit_notes"] else None

    [note] = (await poll(credited, timeout=40, message="the edit's credit note"))["credit_notes"]
    assert note["amount"] == shown["refund"]

    async def restocked() -> bool:
        return all([await stock(api, p["id"]) == before[p["id"]] + 1 for p in products])

    await poll(restocked, timeout=40, message="the removed units back on the shelf")

    # Shipped, it is settled by returns and claims, not edits.
    for status in ("processing", "shipped"):
        moved = await api.post(f"/api/v1/orders/{order['id']}/status", headers=admin,
                               json={"status": status, "tracking_number": "1Z999AA10123456784"})
        assert moved.status_code == 200, moved.text
    refused = assert_error(await api.post(url, headers=as_support, json={
        "changes": [{"order_item_id": kept["id"], "quantity": 0}], "reason": "Too late"}), 409, "ORDER_NOT_EDITABLE")
    assert refused["details"]["status"] == "shipped"


async def test_an_unpaid_order_edited_up_takes_the_stock_then_its_payment_charges_the_new_total(
        api: httpx.AsyncClient) -> None:
    auth, admin = await customer(api), await staff(api)
    as_support = await staffer(api, admin, "support")
    raised, added = await two_products(api)
    order = await unpaid_order(api, auth, [raised], (1,))
    before = {p["id"]: await stock(api, p["id"]) for p in (raised, added)}
    body = {"changes": [{"order_item_id": order["items"][0]["id"], "quantity": 2}],
            "additions": [{"product_id": added["id"], "quantity": 1}], "reason": "Customer called to add more"}
    url = f"/api/v1/staff/orders/{order['id']}/edits"
    preview = (await api.post(f"{url}/preview", headers=as_support, json=body)).json()
    assert Decimal(preview["difference"]) > 0 and preview["amount_due"] == "0.00"  # unpaid: nothing due on top
    confirmed = await api.post(url, headers=as_support, json=body)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["edit"]["status"] == "pending"

    async def applied() -> dict[str, Any] | None:
        [version] = (await api.get(url, headers=as_support)).json()
        assert version["status"] != "refused", version
        return version if version["status"] == "applied" else None

    version = await poll(applied, timeout=40, message="the edit applied once catalog held the units")
    assert version["new_total"] == preview["total"]
    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after["total_amount"] == preview["total"] and after["status"] == "awaiting_payment"
    assert sorted((i["product_id"], i["quantity"]) for i in after["items"]) == sorted(
        [(raised["id"], 2), (added["id"], 1)])
    assert (await stock(api, raised["id"]), await stock(api, added["id"])) == (
        before[raised["id"]] - 1, before[added["id"]] - 1)

    paid = await pay_order(api, auth, after)
    money = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
    assert paid["status"] == "paid" and [p["amount"] for p in money["payments"]] == [preview["total"]]
    invoice = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                             headers={**auth, "Accept": "application/json"})).json()
    assert invoice["total_amount"] == preview["total"] and len(invoice["lines"]) == 2


REDIRECTS = {"success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"}


def _charged(line: dict[str, Any]) -> Decimal:
    """What an order line costs the customer: its price less its discount, plus its tax when added."""
    tax = Decimal("0") if line["tax_inclusive"] else Decimal(line["tax_amount"])
    return Decimal(line["line_total"]) - Decimal(line["discount_amount"]) + tax


async def _edit_checkout(guest: httpx.AsyncClient, link: httpx.URL) -> dict[str, Any]:
    """What the storefront's pay page does with an edit's link: a checkout of that edit, with its token."""
    r = await guest.post("/api/v1/payments/checkout", json={
        "order_id": link.params["order_id"], "edit_id": link.params["edit_id"], "payment_token": link.params["token"],
        **REDIRECTS})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _pay(guest: httpx.AsyncClient, checkout_url: str) -> None:
    assert (await guest.get(checkout_url)).status_code == 200
    r = await guest.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text


async def test_a_paid_order_gains_a_unit_paid_by_its_link_once_and_gets_a_supplementary_invoice(
        api: httpx.AsyncClient) -> None:
    account = await register_verified(api)
    auth = {"Authorization": f"Bearer {(await login(api, account['email']))['access']}"}
    admin = await staff(api)
    as_support = await staffer(api, admin, "support")
    products = await two_products(api)
    order = await paid_order(api, auth, products)
    raised = next(i for i in order["items"] if i["product_id"] == products[1]["id"])
    before = await stock(api, products[1]["id"])
    original = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                              headers={**auth, "Accept": "application/json"})).json()
    url = f"/api/v1/staff/orders/{order['id']}/edits"
    body = {"changes": [{"order_item_id": raised["id"], "quantity": raised["quantity"] + 1}],
            "reason": "Customer called to add one"}
    preview = (await api.post(f"{url}/preview", headers=as_support, json=body)).json()
    due = Decimal(preview["amount_due"])
    assert due == Decimal(preview["total"]) - Decimal(order["total_amount"]) > 0 and preview["refund"] == "0.00"
    confirmed = await api.post(url, headers=as_support, json=body)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["edit"]["status"] == "pending"

    async def awaiting() -> dict[str, Any] | None:
        [version] = (await api.get(url, headers=as_support)).json()
        assert version["status"] not in ("refused", "applied"), version
        return version if version["status"] == "awaiting_payment" else None

    version = await poll(awaiting, timeout=40, message="the edit waiting for its payment once catalog held the unit")
    assert Decimal(version["amount_due"]) == due and version["payment_url"]
    assert await stock(api, products[1]["id"]) == before - 1  # the unit is held for the customer
    waiting = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert waiting["total_amount"] == order["total_amount"]  # nothing applies before the money

    mail = await latest_mail(api, account["email"], "to pay for your change")
    found = re.search(r"https?://\S+/pay\?order_id=[^\s\"<>]+", mail["text"])
    assert found, mail["text"]
    link = httpx.URL(found.group(0))
    assert (link.params["order_id"], link.params["edit_id"]) == (order["id"], version["id"])
    assert f"{due}" in mail["subject"]
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        # Two pages of the same link (two tabs), both paid, one of them twice: charged once.
        first, second = await _edit_checkout(guest, link), await _edit_checkout(guest, link)
        assert Decimal(first["amount_due"]) == due
        await _pay(guest, first["checkout_url"])
        await _pay(guest, first["checkout_url"])
        await _pay(guest, second["checkout_url"])

    async def applied() -> dict[str, Any] | None:
        [v] = (await api.get(url, headers=as_support)).json()
        return v if v["status"] == "applied" else None

    done = await poll(applied, timeout=40, message="the edit applied once paid")
    assert done["payment_id"] and done["payment_url"] is None
    after = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
    assert after["total_amount"] == preview["total"] and after["status"] == "paid"
    assert next(i["quantity"] for i in after["items"] if i["id"] == raised["id"]) == raised["quantity"] + 1

    async def settled() -> dict[str, Any] | None:
        money: dict[str, Any] = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
        return money if money["refunds"] else None

    money = await poll(settled, timeout=40, message="the second page's money given back")
    kept = [p for p in money["payments"] if p["pays_order"]]
    assert sorted(Decimal(p["amount"]) for p in kept) == sorted([Decimal(order["total_amount"]), due])
    assert [(r["amount"], r["payment_id"]) for r in money["refunds"]] == [(str(due), second["payment_id"])]
    charged = sum((Decimal(p["amount"]) for p in money["payments"]), Decimal("0"))
    refunded = sum((Decimal(r["amount"]) for r in money["refunds"]), Decimal("0"))
    # Charged − refunded = what the order keeps, line by line.
    lines = sum((_charged(line) for line in after["items"]), Decimal("0"))
    assert charged - refunded == Decimal(after["total_amount"])
    # The rest is the shipping as charged (its tax added, or included in its cost).
    shipping = Decimal(after["shipping_cost"])
    assert Decimal(after["total_amount"]) - lines in (shipping, shipping + Decimal(after["shipping_tax"]))

    async def supplemented() -> dict[str, Any] | None:
        invoice: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}/invoice",
                                                 headers={**auth, "Accept": "application/json"})).json()
        return invoice if invoice["supplementary"] else None

    invoice = await poll(supplemented, timeout=40, message="the supplementary invoice")
    [supplementary] = invoice["supplementary"]
    assert invoice["number"] == original["number"] and Decimal(supplementary["total_amount"]) == due
    prefix, _, number = original["number"].rpartition("-")
    assert supplementary["number"].startswith(prefix) and int(supplementary["number"].rpartition("-")[2]) > int(number)
    pdf = await api.get(supplementary["url"], headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"Supplementary invoice" in pdf.content
    applied_mail = await latest_mail(api, account["email"], "was changed")
    assert f"{due}" in applied_mail["text"]


async def test_a_customer_lowers_their_own_paid_order_where_the_storefront_allows_it(api: httpx.AsyncClient) -> None:
    admin = await staff(api)
    slug = f"edits-{uuid.uuid4().hex[:8]}"
    on = {"X-Atelier-Storefront": slug}
    origin = f"https://{slug}.example"
    made = await api.post("/api/v1/storefronts", headers=admin, json={
        "slug": slug, "name": "Editable", "origins": [origin], "frontend_url": origin, "currency": "USD",
        "sells": ["physical"], "policies": {"customer_order_edits": True}})
    assert made.status_code == 201, made.text

    async def known() -> bool:
        seen = await api.get("/api/v1/storefront", headers=on)
        return seen.status_code == 200 and seen.json()["slug"] == slug

    await poll(known, timeout=60, message=f"storefront {slug} known")
    product = (await api.post("/api/v1/products", headers=admin, json={
        "name": f"Lamp {slug}", "sku": f"LAMP-{slug}", "price": "40.00", "currency": "USD", "stock_quantity": 5,
        "kind": "physical", "storefronts": [slug]})).json()
    account = await register_verified(api)
    auth = {"Authorization": f"Bearer {(await login(api, account['email']))['access']}", **on}
    order = await pay_order(api, auth, await unpaid_order(api, auth, [product], (2,)))
    line = order["items"][0]
    url = f"/api/v1/orders/{order['id']}/edits"
    raised = await api.post(url, headers=auth, json={"changes": [{"order_item_id": line["id"], "quantity": 3}]})
    assert_error(raised, 400, "VALIDATION_ERROR")
    stranger = {**await customer(api), **on}
    assert_error(await api.post(url, headers=stranger, json={"changes": [{"order_item_id": line["id"], "quantity": 1}]}),
                 404, "NOT_FOUND")
    preview = await api.post(f"{url}/preview", headers=auth, json={"changes": [{"order_item_id": line["id"],
                                                                                "quantity": 1}]})
    assert preview.status_code == 200, preview.text
    done = await api.post(url, headers=auth, json={"changes": [{"order_item_id": line["id"], "quantity": 1}],
                                                   "reason": "I only need one"})
    assert done.status_code == 201, done.text
    assert done.json()["refund"] == preview.json()["refund"] and Decimal(done.json()["refund"]) > 0

    async def refunded() -> dict[str, Any] | None:
        money: dict[str, Any] = (await api.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=admin)).json()
        return money if money["refunds"] else None

    money = await poll(refunded, timeout=40, message="the customer's edit refunded")
    assert Decimal(money["total_refunded"]) == Decimal(done.json()["refund"])
    mail = await latest_mail(api, account["email"], "was changed")
    assert done.json()["refund"] in mail["text"]
    # Processing: too far along for the customer.
    assert (await api.post(f"/api/v1/orders/{order['id']}/status", headers=admin,
                           json={"status": "processing"})).status_code == 200
    late = await api.post(url, headers=auth, json={"changes": [{"order_item_id": line["id"], "quantity": 0}]})
    assert assert_error(late, 409, "ORDER_NOT_EDITABLE")["details"]["reason"] == "status"
