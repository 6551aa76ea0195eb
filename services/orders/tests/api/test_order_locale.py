"""An order keeps its buyer's language (`locale`: `?locale=`, else `Accept-Language`, negotiated on
its storefront, else the default), and its lines' names are snapshotted in it (catalog's
translations), so its invoice names them so; an order in the storefront's default asks catalog for
no translation."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.identity import ShippingZone
from atelier_common.contracts.payments import PaymentRefunded
from atelier_orders.invoices.labels import Labels
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.pdf import pdf_text
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, assert_error
from ..events.test_saga import paid

FOX_KA = "მელია თოვლში"
BIG_KA = "დიდი"


ZONE = ShippingZone.model_validate({
    "code": "ge", "name": "Georgia", "countries": ["GE"],
    "methods": [{"code": "standard", "name": "Standard", "amount": "5.00", "names": {"ka": "სტანდარტული"}}]})


@pytest.fixture
def comics(harness: ServiceHarness) -> None:
    add_storefront(harness.app, make_storefront("comics", currency="USD", locales=["en", "ka"], default_locale="en",
                                                shipping_zones=[ZONE]))


async def place(customer: Customer, platform: FakePlatform, *, params: dict[str, str] | None = None,
                **headers: str) -> tuple[dict[str, Any], dict[str, Any]]:
    fox = platform.product(price="12.00", name="Fox in Snow", variants=[{"sku": f"FOX-{len(platform.products)}-B",
                                                                       "name": "Big"}])
    platform.translated_names[(fox["id"], "ka")] = FOX_KA
    platform.translated_names[(fox["variants"][0]["id"], "ka")] = BIG_KA
    buyer = customer.on("comics")
    response = await buyer.client.post("/api/v1/orders", params=params, headers={**buyer.headers, **headers}, json={
        "items": [{"product_id": fox["id"], "variant_id": fox["variants"][0]["id"], "quantity": 1}],
        "shipping_address_id": platform.address(customer.owner_id)})
    assert response.status_code == 201, response.text
    return response.json(), fox


@pytest.mark.usefixtures("comics")
class TestOrderLocale:
    @pytest.mark.databases("sqlite", "postgres", why="PostgreSQL writes the order with its first entry in one statement")
    async def test_the_buyers_language_is_kept_and_the_names_are_in_it(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order, _ = await place(customer, platform, **{"Accept-Language": "ka-GE,ka;q=0.9,en;q=0.5"})
        assert order["locale"] == "ka"
        [item] = order["items"]
        assert (item["name"], item["variant_name"]) == (FOX_KA, BIG_KA)
        assert platform.lookups[-1]["locale"] == "ka"
        assert (await customer.on("comics").order(order["id"]))["locale"] == "ka"

    async def test_the_query_wins_and_the_default_asks_for_no_translation(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order, _ = await place(customer, platform, params={"locale": "ka"}, **{"Accept-Language": "en"})
        assert (order["locale"], order["items"][0]["name"]) == ("ka", FOX_KA)
        order, _ = await place(customer, platform, **{"Accept-Language": "fr"})
        assert (order["locale"], order["items"][0]["name"]) == ("en", "Fox in Snow")
        assert "locale" not in platform.lookups[-1]

    async def test_the_invoice_names_the_lines_in_the_orders_language(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order, _ = await place(customer, platform, **{"Accept-Language": "ka"})
        await harness.deliver(paid(order))
        buyer = customer.on("comics")
        invoice = await buyer.client.get(f"/api/v1/orders/{order['id']}/invoice",
                                         headers={**buyer.headers, "Accept": "application/json"})
        assert [line["name"] for line in invoice.json()["lines"]] == [FOX_KA]
        pdf = await buyer.client.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=buyer.headers)
        assert FOX_KA in pdf_text(pdf.content)


@pytest.mark.usefixtures("comics")
class TestShippingMethodNames:
    async def test_a_method_is_named_in_the_callers_language_and_the_order_keeps_it(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        buyer = customer.on("comics")
        lamp = platform.product(price="10.00")
        platform.fill_cart(customer.owner_id, (lamp, 1), storefront="comics")
        for language, name in (("ka", "სტანდარტული"), ("en", "Standard"), ("fr", "Standard")):
            response = await buyer.client.get("/api/v1/shipping-methods", params={"country": "GE"},
                                              headers={**buyer.headers, "Accept-Language": language})
            assert response.status_code == 200, response.text
            assert [m["name"] for m in response.json()] == [name], language
        order, _ = await place(customer, platform, **{"Accept-Language": "ka"})
        assert order["shipping_method"]["name"] == "სტანდარტული"
        order, _ = await place(customer, platform)
        assert order["shipping_method"]["name"] == "Standard"


@pytest.mark.usefixtures("comics")
@pytest.mark.databases("sqlite", "postgres", why="PostgreSQL keeps the names as JSONB, read by a statement built once")
class TestPromotionNames:
    async def test_a_promotion_is_named_in_the_orders_language_and_other_languages_are_422(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys,
            service_headers: dict[str, str]) -> None:
        merchandiser = test_keys.staff_headers("merchandiser")
        url = "/api/v1/staff/promotions"
        body = {"storefront": "comics", "name": "Ten off", "kind": "percentage", "value": "10"}
        refused = await harness.client.post(url, json={**body, "names": {"fr": "Dix"}}, headers=merchandiser)
        assert_error(refused, 422, "LOCALE_NOT_OFFERED")
        created = await harness.client.post(url, json={**body, "names": {"KA": "ათი პროცენტი"}}, headers=merchandiser)
        assert created.status_code == 201, created.text
        assert created.json()["names"] == {"ka": "ათი პროცენტი"}
        order, _ = await place(customer, platform, **{"Accept-Language": "ka"})
        assert [d["name"] for d in order["discounts"]] == ["ათი პროცენტი"]
        order, _ = await place(customer, platform)
        assert [d["name"] for d in order["discounts"]] == ["Ten off"]
        patched = await harness.client.patch(f"{url}/{created.json()['id']}", json={"names": {"de": "Zehn"}},
                                             headers=merchandiser)
        assert_error(patched, 422, "LOCALE_NOT_OFFERED")
        # The cart's quote names it in the language the cart was asked in.
        lamp = platform.product(price="10.00")
        for locale, name in (("ka", "ათი პროცენტი"), (None, "Ten off")):
            quoted = await harness.client.post("/internal/promotions/quote", headers=service_headers, json={
                "storefront": "comics", "owner_id": str(customer.owner_id), "locale": locale,
                "lines": [{"product_id": lamp["id"], "unit_price": "10.00", "quantity": 1}]})
            assert quoted.status_code == 200, quoted.text
            assert [d["name"] for d in quoted.json()["discounts"]] == [name]


@pytest.mark.usefixtures("comics")
class TestDocumentLanguage:
    """Invoices and credit notes print their labels, dates and amounts in the order's language;
    a language with no labels prints English."""

    async def test_a_georgian_orders_invoice_and_credit_note_are_labelled_in_georgian(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        order, _ = await place(customer, platform, **{"Accept-Language": "ka"})
        await harness.deliver(paid(order))
        # identity mails the status change in it too.
        changes = [e.data for e in harness.published("order.status_changed") if e.data["order_id"] == order["id"]]
        assert changes[-1]["new_status"] == "paid"
        assert {change["locale"] for change in changes} == {"ka"}
        buyer = customer.on("comics")
        pdf = await buyer.client.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=buyer.headers)
        text = pdf_text(pdf.content)
        assert text.splitlines()[0] == "ინვოისი"
        assert {"გაცემის თარიღი", "გადამხდელი", "ფასი", "სულ გადახდილი", "12,00\xa0US$"} <= set(text.splitlines())
        assert "Total paid" not in text and "Invoice" not in text
        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal("5.00"),
                                              currency="USD", refund_id=uuid.uuid4(), is_full=False))
        notes = await buyer.client.get(f"/api/v1/orders/{order['id']}/invoice",
                                       headers={**buyer.headers, "Accept": "application/json"})
        [note] = notes.json()["credit_notes"]
        pdf = await buyer.client.get(f"/api/v1/orders/{order['id']}/credit-notes/{note['number']}.pdf",
                                     headers=buyer.headers)
        assert pdf.status_code == 200, pdf.text
        lines = pdf_text(pdf.content).splitlines()
        assert lines[0] == "საკრედიტო ნოტა"
        assert {"სულ დაბრუნებული", "5,00\xa0US$"} <= set(lines)

    async def test_a_language_without_labels_prints_english(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        add_storefront(harness.app, make_storefront("kiosk", currency="USD", locales=["en", "de"], default_locale="en"))
        lamp = platform.product(price="12.00", name="Lamp", sku=f"LAMP-{uuid.uuid4().hex[:6]}")
        buyer = customer.on("kiosk")
        response = await buyer.client.post("/api/v1/orders", headers={**buyer.headers, "Accept-Language": "de"}, json={
            "items": [{"product_id": lamp["id"], "quantity": 1}],
            "shipping_address_id": platform.address(customer.owner_id)})
        assert response.status_code == 201, response.text
        order = response.json()
        assert order["locale"] == "de"
        await harness.deliver(paid(order))
        pdf = await buyer.client.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=buyer.headers)
        lines = pdf_text(pdf.content).splitlines()
        assert lines[0] == "Invoice"
        assert {"Issued", "Bill to", "Unit price", "Total paid", "12.00 USD"} <= set(lines)


@pytest.mark.parametrize(("locale", "language"), [
    ("ka", "ka"), ("ka-GE", "ka"), ("ka_GE", "ka"), ("en-US", "en"), ("de", "en"), ("not a locale", "en"),
    ("", "en"), (None, "en")])
def test_labels_of_a_locale_fall_back_to_english(locale: str | None, language: str) -> None:
    assert Labels.of(locale).language == language
