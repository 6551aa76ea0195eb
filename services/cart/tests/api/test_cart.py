"""/api/v1/cart: guest and user carts, lines, limits, stock, currency, frozen prices, totals."""

from __future__ import annotations

import uuid

import pytest

from ..conftest import Catalog, Shopper, assert_error, line_of


class TestViewCart:
    async def test_a_new_owner_gets_an_empty_cart_that_keeps_its_id(self, guest: Shopper) -> None:
        first = await guest.cart()
        assert first == {"id": first["id"], "items": [], "item_count": 0, "subtotal": "0.00", "tax_amount": "0.00",
                         "tax_included": "0.00", "discount_total": "0.00", "total": "0.00", "currency": "USD", "storefront": "default",
                         "promotion_code": None, "promotion_code_problem": None, "discounts": [],
                         "free_shipping": False, "shipping": None}
        assert (await guest.cart())["id"] == first["id"]

    async def test_each_owner_has_their_own_cart(self, catalog: Catalog, guest: Shopper, user: Shopper) -> None:
        product = await catalog.product()
        await guest.add(product.product_id)
        assert (await user.cart())["items"] == []
        assert (await user.cart())["id"] != (await guest.cart())["id"]

    async def test_an_s1_guest_session_header_reaches_the_same_cart(self, harness, test_keys, catalog: Catalog) -> None:
        token = test_keys.anon_token()
        product = await catalog.product()
        added = await harness.client.post("/api/v1/cart/items", json={"product_id": str(product.product_id)},
                                          headers={"X-Session-ID": token})
        assert added.status_code == 201, added.text
        seen = await harness.client.get("/api/v1/cart/", headers={"X-Anonymous-Token": token})
        assert seen.status_code == 200 and seen.json()["id"] == added.json()["id"]

    async def test_a_user_with_an_anonymous_token_uses_the_user_cart(self, harness, test_keys, catalog: Catalog,
                                                                     ) -> None:
        user_id = uuid.uuid4()
        both = {**test_keys.user_headers(user_id), **test_keys.anon_headers()}
        product = await catalog.product()
        await harness.client.post("/api/v1/cart/items", json={"product_id": str(product.product_id)}, headers=both)
        only_user = await harness.client.get("/api/v1/cart", headers=test_keys.user_headers(user_id))
        assert only_user.json()["item_count"] == 1

    async def test_no_token_is_401(self, harness) -> None:
        assert_error(await harness.client.get("/api/v1/cart"), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await harness.client.post("/api/v1/cart/items", json={}), 401, "AUTHENTICATION_REQUIRED")

    async def test_a_forged_access_token_is_401(self, harness) -> None:
        response = await harness.client.get("/api/v1/cart", headers={"Authorization": "Bearer not.a.token"})
        assert_error(response, 401, "INVALID_TOKEN")


class TestAddItem:
    async def test_s1_add_two_slabs(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(name="Carrara White Marble Slab", sku="CARR-WHITE-001", price="85.50",
                                        stock=25, image_url="/media/products/carrara_white_1.jpg")
        cart = await guest.add(product.product_id, 2)
        [line] = cart["items"]
        assert line == {"id": line["id"], "product_id": str(product.product_id), "variant_id": None,
                        "name": "Carrara White Marble Slab", "sku": "CARR-WHITE-001",
                        "image_url": "/media/products/carrara_white_1.jpg", "unit_price": "85.50", "quantity": 2,
                        "discount": None, "tax_rate": None, "tax_amount": None, "line_total": "171.00"}
        assert {k: cart[k] for k in ("item_count", "subtotal", "tax_amount", "total", "currency")} == {
            "item_count": 2, "subtotal": "171.00", "tax_amount": "15.39", "total": "186.39", "currency": "USD"}

    async def test_s1_cart_of_three_units(self, catalog: Catalog, guest: Shopper) -> None:
        one = await catalog.product(price="49.99")
        two = await catalog.product(price="29.99")
        await guest.add(one.product_id, 1)
        cart = await guest.add(two.product_id, 2)
        assert (cart["item_count"], cart["subtotal"], cart["tax_amount"], cart["total"]) == (
            3, "109.97", "9.90", "119.87")

    async def test_the_same_product_accumulates_into_one_line(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(price="2499.99", stock=10)
        await guest.add(product.product_id, 2)
        cart = await guest.add(product.product_id, 2)
        [line] = cart["items"]
        assert (line["quantity"], line["line_total"]) == (4, "9999.96")

    async def test_quantity_defaults_to_one(self, catalog: Catalog, guest: Shopper, harness) -> None:
        product = await catalog.product()
        response = await harness.client.post("/api/v1/cart/items", json={"product_id": str(product.product_id)},
                                             headers=guest.headers)
        assert response.status_code == 201 and response.json()["item_count"] == 1

    async def test_variants_have_their_own_lines_price_and_stock(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(name="Slab", price="100.00", stock=50)
        small = await catalog.product(product.product_id, variant_id=uuid.uuid4(), name="Slab", variant_name="2 cm",
                                      sku="SLAB-2", price="80.00", stock=3)
        await guest.add(product.product_id, 1)
        cart = await guest.add(product.product_id, 2, variant_id=small.variant_id)
        variant_line = line_of(cart, product.product_id, small.variant_id)
        assert (variant_line["name"], variant_line["sku"], variant_line["unit_price"]) == ("Slab (2 cm)", "SLAB-2",
                                                                                           "80.00")
        assert line_of(cart, product.product_id)["quantity"] == 1
        response = await guest.add_raw(product.product_id, 2, variant_id=small.variant_id)
        assert assert_error(response, 409, "INSUFFICIENT_STOCK")["details"] == {"requested": 4, "available": 3}

    async def test_unknown_fields_are_ignored(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(price="10.00")
        response = await guest.add_raw(product.product_id, 1, unit_price="0.01")
        assert response.status_code == 201 and response.json()["items"][0]["unit_price"] == "10.00"


class TestLineLimits:
    @pytest.mark.parametrize("quantity", [0, -1, 100, "2", 2.5, True, None])
    async def test_quantity_must_be_an_integer_from_1_to_99(self, catalog: Catalog, guest: Shopper,
                                                             quantity) -> None:
        product = await catalog.product(stock=500)
        error = assert_error(await guest.add_raw(product.product_id, quantity), 400, "VALIDATION_ERROR")
        assert "quantity" in error["details"]["fields"]
        assert (await guest.cart())["items"] == []

    async def test_99_is_allowed(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(stock=500)
        assert (await guest.add(product.product_id, 99))["item_count"] == 99

    async def test_accumulating_past_99_is_refused_not_capped(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(stock=500)
        await guest.add(product.product_id, 60)
        error = assert_error(await guest.add_raw(product.product_id, 40), 400, "QUANTITY_LIMIT")
        assert error["details"] == {"requested": 100, "in_cart": 60, "maximum": 99}
        assert error["message"] == "A cart line holds at most 99 units"
        assert (await guest.cart())["item_count"] == 60

    @pytest.mark.parametrize("body", [{}, {"product_id": "not-a-uuid"}, {"product_id": 12},
                                      {"product_id": str(uuid.uuid4()), "variant_id": "x"}])
    async def test_a_malformed_product_reference_is_400(self, harness, guest: Shopper, body) -> None:
        response = await harness.client.post("/api/v1/cart/items", json=body, headers=guest.headers)
        assert_error(response, 400, "VALIDATION_ERROR")

    async def test_a_body_that_is_not_json_is_400(self, harness, guest: Shopper) -> None:
        response = await harness.client.post("/api/v1/cart/items", content=b"{", headers={
            **guest.headers, "Content-Type": "application/json"})
        assert_error(response, 400, "VALIDATION_ERROR")


class TestStock:
    async def test_more_than_the_stock_is_409_with_requested_and_available(self, catalog: Catalog,
                                                                           guest: Shopper) -> None:
        product = await catalog.product(stock=5)
        error = assert_error(await guest.add_raw(product.product_id, 6), 409, "INSUFFICIENT_STOCK")
        assert error["details"] == {"requested": 6, "available": 5}

    async def test_the_stock_counts_what_is_already_in_the_line(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(stock=5)
        await guest.add(product.product_id, 3)
        error = assert_error(await guest.add_raw(product.product_id, 3), 409, "INSUFFICIENT_STOCK")
        assert error["details"] == {"requested": 6, "available": 5}
        assert (await guest.add(product.product_id, 2))["item_count"] == 5

    async def test_out_of_stock(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(stock=0)
        assert assert_error(await guest.add_raw(product.product_id, 1), 409, "INSUFFICIENT_STOCK")["details"] == {
            "requested": 1, "available": 0}

    async def test_untracked_products_have_no_stock_limit(self, catalog: Catalog, guest: Shopper) -> None:
        pack = await catalog.product(kind="credit_pack", price="4.99", stock=0, track_inventory=False)
        assert (await guest.add(pack.product_id, 50))["total"] == "249.50"  # a credit pack: tax included

    async def test_the_stock_follows_catalog_events(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(stock=1)
        assert_error(await guest.add_raw(product.product_id, 2), 409, "INSUFFICIENT_STOCK")
        await catalog.change(product, stock_quantity=10)
        assert (await guest.add(product.product_id, 2))["item_count"] == 2


class TestUnavailableProducts:
    async def test_an_inactive_product_is_404(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(is_active=False)
        assert_error(await guest.add_raw(product.product_id), 404, "PRODUCT_NOT_FOUND")

    async def test_a_product_deactivated_later_cannot_be_added(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product()
        await guest.add(product.product_id)
        await catalog.change(product, is_active=False)
        assert_error(await guest.add_raw(product.product_id), 404, "PRODUCT_NOT_FOUND")

    async def test_a_product_unknown_to_catalog_is_404(self, guest: Shopper, fake_catalog) -> None:
        missing = uuid.uuid4()
        assert_error(await guest.add_raw(missing), 404, "PRODUCT_NOT_FOUND")
        assert fake_catalog.calls == [str(missing)]

    async def test_a_variant_the_product_does_not_have_is_404(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product()
        assert_error(await guest.add_raw(product.product_id, variant_id=uuid.uuid4()), 404, "PRODUCT_NOT_FOUND")


class TestCurrency:
    async def test_a_cart_holds_one_currency(self, catalog: Catalog, guest: Shopper) -> None:
        usd = await catalog.product(currency="USD")
        gel = await catalog.product(currency="GEL")
        await guest.add(usd.product_id)
        error = assert_error(await guest.add_raw(gel.product_id), 400, "CURRENCY_MISMATCH")
        assert error["details"] == {"cart_currency": "USD", "product_currency": "GEL"}

    async def test_an_empty_cart_takes_the_currency_of_its_first_line(self, catalog: Catalog,
                                                                      guest: Shopper) -> None:
        usd = await catalog.product(currency="USD")
        gel = await catalog.product(currency="GEL", price="2.00")
        await guest.add(usd.product_id)
        await guest.clear()
        cart = await guest.add(gel.product_id)
        assert (cart["currency"], cart["total"]) == ("GEL", "2.18")


class TestFrozenPrices:
    async def test_a_price_change_does_not_change_existing_lines(self, catalog: Catalog, guest: Shopper,
                                                                 user: Shopper) -> None:
        product = await catalog.product(price="85.50", stock=50)
        await guest.add(product.product_id, 2)
        await catalog.change(product, price="99.00")
        cart = await guest.cart()
        assert (line_of(cart, product.product_id)["unit_price"], cart["subtotal"]) == ("85.50", "171.00")
        # A new line is priced now.
        assert line_of(await user.add(product.product_id), product.product_id)["unit_price"] == "99.00"

    async def test_adding_more_keeps_the_line_price(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(price="85.50", stock=50)
        await guest.add(product.product_id, 2)
        await catalog.change(product, price="70.00")
        cart = await guest.add(product.product_id, 3)
        line = line_of(cart, product.product_id)
        assert (line["quantity"], line["unit_price"], line["line_total"]) == (5, "85.50", "427.50")
        assert (cart["tax_amount"], cart["total"]) == ("38.48", "465.98")

    async def test_a_changed_quantity_keeps_the_line_price(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(price="85.50", stock=50)
        line = (await guest.add(product.product_id, 1))["items"][0]
        await catalog.change(product, price="1.00")
        cart = (await guest.set_quantity(line["id"], 5)).json()
        assert (cart["items"][0]["unit_price"], cart["subtotal"]) == ("85.50", "427.50")


class TestChangeQuantity:
    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    async def test_s1_update_to_five(self, catalog: Catalog, guest: Shopper, method: str) -> None:
        product = await catalog.product(price="85.50", stock=25)
        line = (await guest.add(product.product_id, 2))["items"][0]
        response = await guest.set_quantity(line["id"], 5, method)
        assert response.status_code == 200, response.text
        cart = response.json()
        assert (cart["items"][0]["quantity"], cart["item_count"], cart["subtotal"], cart["tax_amount"],
                cart["total"]) == (5, 5, "427.50", "38.48", "465.98")

    async def test_lowering_the_quantity(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(stock=25)
        line = (await guest.add(product.product_id, 7))["items"][0]
        assert (await guest.set_quantity(line["id"], 1)).json()["item_count"] == 1

    @pytest.mark.parametrize("quantity", [0, 100, "3", None])
    async def test_quantity_must_be_1_to_99(self, catalog: Catalog, guest: Shopper, quantity) -> None:
        product = await catalog.product(stock=500)
        line = (await guest.add(product.product_id, 2))["items"][0]
        assert_error(await guest.set_quantity(line["id"], quantity), 400, "VALIDATION_ERROR")
        assert (await guest.cart())["item_count"] == 2

    async def test_not_beyond_the_stock(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(stock=4)
        line = (await guest.add(product.product_id, 2))["items"][0]
        error = assert_error(await guest.set_quantity(line["id"], 5), 409, "INSUFFICIENT_STOCK")
        assert error["details"] == {"requested": 5, "available": 4}

    async def test_another_owners_line_is_404(self, catalog: Catalog, guest: Shopper, user: Shopper) -> None:
        product = await catalog.product()
        line = (await guest.add(product.product_id, 2))["items"][0]
        assert_error(await user.set_quantity(line["id"], 5), 404, "NOT_FOUND")
        assert_error(await user.remove(line["id"]), 404, "NOT_FOUND")
        assert (await guest.cart())["item_count"] == 2

    async def test_an_unknown_or_malformed_line_id(self, guest: Shopper) -> None:
        assert_error(await guest.set_quantity(uuid.uuid4(), 1), 404, "NOT_FOUND")
        assert_error(await guest.set_quantity("12", 1), 400, "VALIDATION_ERROR")


class TestRemoveAndClear:
    async def test_remove_a_line(self, catalog: Catalog, guest: Shopper) -> None:
        one = await catalog.product(price="85.50")
        two = await catalog.product(price="1.00")
        await guest.add(one.product_id, 2)
        cart = await guest.add(two.product_id, 1)
        response = await guest.remove(line_of(cart, two.product_id)["id"])
        assert response.status_code == 200
        assert (response.json()["item_count"], response.json()["total"]) == (2, "186.39")
        assert_error(await guest.remove(line_of(cart, two.product_id)["id"]), 404, "NOT_FOUND")

    async def test_removing_the_last_line_leaves_zero_totals(self, catalog: Catalog, guest: Shopper) -> None:
        product = await catalog.product(price="85.50")
        line = (await guest.add(product.product_id, 2))["items"][0]
        cart = (await guest.remove(line["id"])).json()
        assert (cart["items"], cart["item_count"], cart["subtotal"], cart["tax_amount"], cart["total"]) == (
            [], 0, "0.00", "0.00", "0.00")

    async def test_clear(self, catalog: Catalog, guest: Shopper, user: Shopper) -> None:
        one, two = await catalog.product(), await catalog.product()
        await guest.add(one.product_id, 2)
        cart_id = (await guest.add(two.product_id, 1))["id"]
        await user.add(one.product_id, 1)
        response = await guest.clear()
        assert response.status_code == 200
        assert response.json() == {"id": cart_id, "items": [], "item_count": 0, "subtotal": "0.00",
                                   "tax_amount": "0.00", "tax_included": "0.00", "discount_total": "0.00", "total": "0.00", "currency": "USD",
                                   "storefront": "default", "promotion_code": None, "promotion_code_problem": None,
                                   "discounts": [], "free_shipping": False, "shipping": None}
        assert (await user.cart())["item_count"] == 1

    async def test_a_wrong_method_is_405(self, harness, guest: Shopper) -> None:
        assert_error(await harness.client.put("/api/v1/cart", headers=guest.headers, json={}), 405,
                     "METHOD_NOT_ALLOWED")
