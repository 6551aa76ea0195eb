"""The price a customer is shown is the price charged, and only what can be delivered is sold — both modes."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from infra.journeys import customer, poll

pytestmark = pytest.mark.e2e


def _offer(offers: list[dict], sku: str) -> dict:
    return next(o for o in offers if o["sku"] == sku)


async def test_pack_5_costs_4_99_on_every_page_and_in_every_record(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    pricing = (await api.get("/api/v1/pricing")).json()
    assert _offer(pricing["credit_packs"], "PACK_5")["price"] == "4.99"

    async def pack_5() -> dict | None:  # generation's list follows catalog's events
        listed = (await api.get("/api/v1/credits/packs", headers=auth)).json()
        return next((p for p in listed if p["sku"] == "PACK_5"), None)

    pack = await poll(pack_5, message="PACK_5 among the credit packs")
    assert Decimal(str(pack["price"])) == Decimal("4.99"), pack

    r = await api.post("/api/v1/credits/purchase", headers=auth, json={"sku": "PACK_5"})
    assert r.status_code in (200, 201), r.text
    order_id, checkout_url = r.json()["order_id"], r.json()["checkout_url"]
    order = (await api.get(f"/api/v1/orders/{order_id}", headers=auth)).json()
    # The tax its price includes (9 %: 0.41) is reported, none added.
    assert (order["total_amount"], order["tax_amount"], order["currency"]) == ("4.99", "0.41", "USD")

    page = await api.get(checkout_url)
    assert page.status_code == 200 and "4.99 USD" in page.text and "5.44" not in page.text
    r = await api.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text

    async def payment_entry() -> dict | None:
        entries = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
        return next((e for e in entries if e["kind"] == "payment" and e["order_id"] == order_id), None)

    entry = await poll(payment_entry, message="the payment is in the ledger")
    assert (entry["amount"], entry["currency"]) == ("4.99", "USD")


async def test_a_retry_pack_costs_its_listed_price(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    listed = _offer((await api.get("/api/v1/pricing")).json()["retry_packs"], "RETRY_PACK_3")
    assert (listed["price"], listed["currency"]) == ("2.00", "GEL")
    r = await api.post("/api/v1/orders", headers=auth, json={"items": [{"sku": "RETRY_PACK_3", "quantity": 1}]})
    assert r.status_code == 201, r.text
    assert (r.json()["total_amount"], r.json()["currency"]) == ("2.00", "GEL")


async def test_a_plan_is_not_sold_as_a_credit_purchase_or_an_order(api: httpx.AsyncClient) -> None:
    auth = await customer(api)
    r = await api.post("/api/v1/credits/purchase", headers=auth, json={"sku": "pro_monthly"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "NOT_PURCHASABLE", r.text
    r = await api.post("/api/v1/orders", headers=auth, json={"items": [{"sku": "pro_monthly", "quantity": 1}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "NOT_PURCHASABLE", r.text
    assert (await api.get("/api/v1/orders", headers=auth)).json()["count"] == 0
