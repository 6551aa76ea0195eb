"""A storefront in two languages through the gateway: staff give it Georgian beside English and
translate a product; a customer reads and searches it in the language they ask for (`?locale=`,
else `Accept-Language`, else English), each field falling back to the English text, cached per
language; the order keeps the buyer's language and its invoice names the product in it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import ADDRESS, customer, latest_mail, pay_order, poll, staff

from atelier_testing import assert_error
from atelier_testing.pdf import pdf_text

pytestmark = pytest.mark.e2e

FOX_KA = "მელია თოვლში"


async def test_a_product_read_searched_and_ordered_in_georgian_and_english(api: httpx.AsyncClient) -> None:
    as_staff, suffix = await staff(api), uuid.uuid4().hex[:8]
    slug = f"comics-{suffix}"
    on = {"X-Atelier-Storefront": slug}
    r = await api.post("/api/v1/storefronts", headers=as_staff, json={
        "slug": slug, "name": "Comics", "origins": [f"https://{slug}.example"], "frontend_url": f"https://{slug}.example",
        "currency": "USD", "sells": ["physical"], "locales": ["en", "ka"], "default_locale": "en"})
    assert r.status_code == 201, r.text

    async def known() -> bool:
        seen = await api.get("/api/v1/storefront", headers=on)
        return seen.status_code == 200 and seen.json()["locales"] == ["en", "ka"]

    await poll(known, timeout=60, message=f"storefront {slug} known")
    name = f"Fox in Snow {suffix}"
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": name, "sku": f"FOX-{suffix}", "price": "12.00", "currency": "USD", "stock_quantity": 5,
        "kind": "physical", "description": "A giclée print on cotton paper", "storefronts": [slug]})
    assert r.status_code == 201, r.text
    product = r.json()
    base = f"/api/v1/products/{product['id']}/translations"
    assert_error(await api.put(f"{base}/fr", headers=as_staff, json={"name": "Renard"}), 422, "LOCALE_NOT_OFFERED")
    assert_error(await api.put(f"{base}/ka", headers=await customer(api), json={"name": "x"}), 403,
                 "PERMISSION_DENIED")

    # Read before the translation exists: the English text, in every language (and cached so).
    path = f"/api/v1/products/{product['id']}"
    before = await api.get(path, headers={**on, "Accept-Language": "ka"})
    assert (before.json()["name"], before.headers["content-language"]) == (name, "ka")
    r = await api.put(f"{base}/ka", headers=as_staff, json={"name": f"{FOX_KA} {suffix}"})
    assert r.status_code == 200, r.text

    async def read(headers: dict[str, str], params: dict[str, str] | None = None) -> tuple[str, str, str]:
        response = await api.get(path, headers={**on, **headers}, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return body["name"], body["description"], response.headers["content-language"]

    async def georgian() -> bool:
        return (await read({"Accept-Language": "ka"}))[0] == f"{FOX_KA} {suffix}"

    await poll(georgian, timeout=30, message="the translation read")
    # Twice each, interleaved: a cached answer of one language is never the other's.
    for _ in range(2):
        # The description has no translation: the English text.
        assert await read({"Accept-Language": "ka-GE,ka;q=0.9,en;q=0.5"}) == (
            f"{FOX_KA} {suffix}", "A giclée print on cotton paper", "ka")
        assert await read({"Accept-Language": "en-US,en;q=0.9"}) == (name, "A giclée print on cotton paper", "en")
        assert (await read({"Accept-Language": "fr"}))[2] == "en"
        assert (await read({"Accept-Language": "ka"}, {"locale": "en"}))[0] == name
        assert (await read({"Accept-Language": "en"}, {"locale": "ka"}))[0] == f"{FOX_KA} {suffix}"

    async def found(term: str, language: str) -> list[str]:
        response = await api.get("/api/v1/products", params={"search": term},
                                 headers={**on, "Accept-Language": language})
        return [p["name"] for p in response.json()["results"]]

    assert await found(f"მელია {suffix}", "ka") == [f"{FOX_KA} {suffix}"]
    assert await found(f"fox {suffix}", "ka") == [f"{FOX_KA} {suffix}"]
    assert await found(f"fox {suffix}", "en") == [name]
    assert await found(f"მელია {suffix}", "en") == []

    # A Georgian buyer's order keeps Georgian, and its invoice names the product so.
    auth = {**await customer(api), **on}
    r = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 1})
    assert r.status_code == 201, r.text
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    r = await api.post("/api/v1/orders", headers={**auth, "Accept-Language": "ka"},
                       json={"shipping_address_id": address["id"]})
    assert r.status_code == 201, r.text
    assert (r.json()["locale"], [item["name"] for item in r.json()["items"]]) == ("ka", [f"{FOX_KA} {suffix}"])

    async def awaiting_payment() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{r.json()['id']}", headers=auth)).json()
        return body if body["status"] == "awaiting_payment" else None

    order = await pay_order(api, auth, await poll(awaiting_payment, timeout=30, message="order awaiting payment"))
    pdf = await api.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=auth)
    assert pdf.status_code == 200, pdf.text
    text = pdf_text(pdf.content)
    assert f"{FOX_KA} {suffix}" in text
    assert text.splitlines()[0] == "ინვოისი"  # its labels too
    # identity mails the payment in the order's language.
    mail = await latest_mail(api, order["email"], order["order_number"])
    assert mail["subject"] == f"შეკვეთა {order['order_number']}: გადახდილია"
