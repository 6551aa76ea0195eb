"""/internal/carts/{owner_id}: what orders reads to place an order from a cart."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.auth import SERVICE_HEADER

from ..conftest import Catalog, Shopper, assert_error


@pytest.fixture
def service(cart_settings) -> dict[str, str]:
    return {SERVICE_HEADER: cart_settings.service_token}


async def test_the_cart_with_its_lines_and_totals(harness, catalog: Catalog, guest: Shopper, service) -> None:
    one = await catalog.product(price="49.99", sku="ONE")
    two = await catalog.product(price="29.99", sku="TWO")
    await guest.add(one.product_id, 1)
    cart = await guest.add(two.product_id, 2)
    response = await harness.client.get(f"/internal/carts/{guest.owner_id}", headers=service)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["owner_id"], body["currency"]) == (cart["id"], str(guest.owner_id), "USD")
    assert [(i["product_id"], i["variant_id"], i["sku"], i["quantity"], i["unit_price"]) for i in body["items"]] == [
        (str(one.product_id), None, "ONE", 1, "49.99"), (str(two.product_id), None, "TWO", 2, "29.99")]
    assert (body["item_count"], body["subtotal"], body["tax_amount"], body["total"]) == (3, "109.97", "9.90",
                                                                                         "119.87")


async def test_an_owner_without_a_cart_reads_as_empty_and_none_is_created(harness, service) -> None:
    owner = uuid.uuid4()
    for _ in range(2):
        body = (await harness.client.get(f"/internal/carts/{owner}", headers=service)).json()
        assert body == {"id": None, "owner_id": str(owner), "items": [], "item_count": 0, "subtotal": "0.00",
                        "tax_amount": "0.00", "tax_included": "0.00", "total": "0.00", "currency": "USD", "storefront": "default",
                        "promotion_code": None, "shipping_address_id": None, "shipping_method_id": None}


async def test_the_service_credential_is_required(harness, test_keys, guest: Shopper) -> None:
    for headers in ({}, test_keys.staff_headers(), guest.headers, {SERVICE_HEADER: "wrong"}):
        response = await harness.client.get(f"/internal/carts/{guest.owner_id}", headers=headers)
        assert_error(response, 401, "AUTHENTICATION_REQUIRED")


async def test_a_malformed_owner_id_is_400(harness, service) -> None:
    assert_error(await harness.client.get("/internal/carts/nope", headers=service), 400, "VALIDATION_ERROR")


async def test_orders_gives_the_lines_the_current_prices(harness, catalog: Catalog, guest: Shopper, service) -> None:
    """Orders refused an order because catalog's price moved (409 PRICE_CHANGED): the cart shows
    the current price from then on, and the other lines keep theirs."""
    one = await catalog.product(price="11.00", sku="ONE")
    two = await catalog.product(price="29.99", sku="TWO")
    await guest.add(one.product_id, 2)
    await guest.add(two.product_id, 1)
    response = await harness.client.post(f"/internal/carts/{guest.owner_id}/prices", headers=service, json={
        "items": [{"product_id": str(one.product_id), "variant_id": None, "unit_price": "13.00"}]})
    assert response.status_code == 200, response.text
    shown = (await harness.client.get("/api/v1/cart", headers=guest.headers)).json()
    assert [(i["sku"], i["quantity"], i["unit_price"]) for i in shown["items"]] == [
        ("ONE", 2, "13.00"), ("TWO", 1, "29.99")]
    assert shown["subtotal"] == "55.99"
    assert_error(await harness.client.post(f"/internal/carts/{uuid.uuid4()}/prices", headers=service,
                                           json={"items": []}), 404, "NOT_FOUND")
    assert_error(await harness.client.post(f"/internal/carts/{guest.owner_id}/prices", headers=service, json={
        "items": [{"product_id": str(one.product_id), "unit_price": "-1"}]}), 400, "VALIDATION_ERROR")
    assert_error(await harness.client.post(f"/internal/carts/{guest.owner_id}/prices", json={"items": []}),
                 401, "AUTHENTICATION_REQUIRED")
