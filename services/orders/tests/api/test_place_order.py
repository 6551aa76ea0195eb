"""POST /api/v1/orders: lines priced by catalog only, addresses snapshotted, events in the outbox."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atelier_orders import domain
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, assert_error


class TestPriceComesFromCatalog:
    async def test_totals_are_computed_from_catalog_prices(self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product(price="85.50", name="Stone lamp")
        vase = platform.product(price="12.25")
        address = platform.address(customer.owner_id)
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 2},
                                             {"product_id": vase["id"], "quantity": 1}],
                                      shipping_address_id=address)
        # 2 × 85.50 + 12.25 = 183.25; tax 9% = 16.4925 → 16.49; shipping 5.00
        assert {k: order[k] for k in ("subtotal", "tax_amount", "shipping_cost", "discount", "total_amount",
                                      "currency", "status", "item_count")} == {
            "subtotal": "183.25", "tax_amount": "16.49", "shipping_cost": "5.00", "discount": "0.00",
            "total_amount": "204.74", "currency": "USD", "status": "pending", "item_count": 3}
        first = order["items"][0]
        assert (first["name"], first["sku"], first["unit_price"], first["line_total"], first["kind"]) == (
            "Stone lamp", lamp["sku"], "85.50", "171.00", "physical")

    async def test_a_tampered_price_or_total_in_the_request_changes_nothing(self, customer: Customer,
                                                                            platform: FakePlatform) -> None:
        lamp = platform.product(price="85.50")
        address = platform.address(customer.owner_id)
        honest = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 1}],
                                       shipping_address_id=address)
        tampered = await customer.placed(
            items=[{"product_id": lamp["id"], "quantity": 1, "unit_price": "0.01", "price": "0.01",
                    "line_total": "0.01"}],
            shipping_address_id=address, total_amount="0.01", subtotal="0.01", tax_amount="0",
            shipping_cost="0", delivery_cost="0", discount="85.00", status="paid")
        for field in ("subtotal", "tax_amount", "shipping_cost", "discount", "total_amount", "status"):
            assert tampered[field] == honest[field], field
        assert tampered["items"][0]["unit_price"] == "85.50"
        assert tampered["total_amount"] == "98.20"

    async def test_a_variant_sells_at_its_own_price_and_sku(self, customer: Customer, platform: FakePlatform) -> None:
        slab = platform.product(price="100.00", attributes={"stone": "marble"},
                                variants=[{"sku": "SLAB-XL", "name": "XL", "price": "150.00",
                                           "attributes": {"size": "XL"}}])
        variant_id = slab["variants"][0]["id"]
        order = await customer.placed(items=[{"product_id": slab["id"], "variant_id": variant_id, "quantity": 1}],
                                      shipping_address_id=platform.address(customer.owner_id))
        item = order["items"][0]
        assert (item["sku"], item["variant_id"], item["variant_name"], item["unit_price"], item["attributes"]) == (
            "SLAB-XL", variant_id, "XL", "150.00", {"stone": "marble", "size": "XL"})

    async def test_a_product_can_be_named_by_sku(self, customer: Customer, platform: FakePlatform) -> None:
        platform.product(kind="credit_pack", sku="PACK_5", price="4.99", attributes={"credits": 5})
        order = await customer.placed(items=[{"sku": "PACK_5", "quantity": 1}])
        assert (order["items"][0]["sku"], order["total_amount"]) == ("PACK_5", "4.99")  # tax-inclusive


class TestDigitalOrders:
    async def test_need_no_address_and_no_shipping(self, customer: Customer, platform: FakePlatform) -> None:
        pack = platform.product(kind="credit_pack", price="4.99", attributes={"credits": 5})
        order = await customer.placed(items=[{"product_id": pack["id"], "quantity": 2}])
        # Digital goods: tax included (9.98 × 0.09 / 1.09 = 0.82), reported and not added.
        assert (order["subtotal"], order["tax_amount"], order["tax_included"], order["shipping_cost"],
                order["total_amount"]) == ("9.98", "0.82", "0.82", "0.00", "9.98")
        assert order["shipping_address"] is None and order["billing_address"] is None
        assert order["email"] == "ada@example.com"  # from the access token

    async def test_a_retry_pack_names_the_item_it_is_for(self, customer: Customer, platform: FakePlatform) -> None:
        pack = platform.product(kind="retry_pack", price="2.00", currency="GEL", attributes={"retries": 3})
        content_id = platform.book_item(customer.owner_id, "PAGE")
        order = await customer.placed(items=[{"product_id": pack["id"], "quantity": 1, "content_type": "page",
                                              "content_id": content_id}])
        assert (order["items"][0]["content_type"], order["items"][0]["content_id"], order["currency"]) == (
            "PAGE", content_id, "GEL")
        cover = platform.book_item(customer.owner_id, "COVER")
        order = await customer.placed(items=[{"sku": pack["sku"], "target": {"content_type": "COVER",
                                                                             "content_id": cover}}])
        assert (order["items"][0]["content_type"], order["items"][0]["content_id"]) == ("COVER", cover)

    async def test_a_retry_pack_for_a_missing_or_foreign_item_is_refused(self, customer: Customer,
                                                                         platform: FakePlatform) -> None:
        pack = platform.product(kind="retry_pack", price="2.00", currency="GEL", attributes={"retries": 3})
        someone_elses = platform.book_item(uuid.uuid4(), "PAGE")
        mine_but_a_page = platform.book_item(customer.owner_id, "PAGE")
        for target in ({"content_type": "PAGE", "content_id": str(uuid.uuid4())},
                       {"content_type": "PAGE", "content_id": someone_elses},
                       {"content_type": "CHARACTER", "content_id": mine_but_a_page}):
            error = assert_error(await customer.place(items=[{"product_id": pack["id"], "target": target}]),
                                 400, "VALIDATION_ERROR")
            assert error["details"]["content_id"] == target["content_id"]
        orders = await customer.client.get("/api/v1/orders", headers=customer.headers)
        assert orders.json()["count"] == 0

    async def test_only_a_retry_pack_names_an_item(self, customer: Customer, platform: FakePlatform) -> None:
        pack = platform.product(kind="credit_pack")
        response = await customer.place(items=[{"product_id": pack["id"], "content_type": "PAGE",
                                                "content_id": str(uuid.uuid4())}])
        assert_error(response, 400, "VALIDATION_ERROR")


class TestAddresses:
    async def test_goods_need_a_shipping_address(self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product()
        error = assert_error(await customer.place(items=[{"product_id": lamp["id"], "quantity": 1}]),
                             400, "ADDRESS_REQUIRED")
        assert "shipping_address_id" in error["details"]["fields"]

    async def test_addresses_are_snapshotted_and_billing_defaults_to_shipping(self, customer: Customer,
                                                                              platform: FakePlatform) -> None:
        lamp = platform.product()
        address = platform.address(customer.owner_id, full_name="Grace Hopper")
        order = await customer.placed(items=[{"product_id": lamp["id"]}], shipping_address_id=address)
        assert order["shipping_address"]["full_name"] == "Grace Hopper"
        assert order["shipping_address"]["city"] == "Tbilisi"
        assert order["billing_address"] == order["shipping_address"]
        # A later edit of the address book does not rewrite the order.
        platform.addresses[uuid.UUID(address)][1]["full_name"] = "Someone Else"
        assert (await customer.order(order["id"]))["shipping_address"]["full_name"] == "Grace Hopper"

    async def test_a_separate_billing_address(self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product()
        shipping = platform.address(customer.owner_id)
        billing = platform.address(customer.owner_id, full_name="Accounts Dept", type="billing")
        order = await customer.placed(items=[{"product_id": lamp["id"]}], shipping_address_id=shipping,
                                      billing_address_id=billing)
        assert order["billing_address"]["full_name"] == "Accounts Dept"
        assert order["billing_address"]["type"] == "billing"

    async def test_another_owners_address_is_not_found(self, customer: Customer, other_customer: Customer,
                                                       platform: FakePlatform) -> None:
        lamp = platform.product()
        theirs = platform.address(other_customer.owner_id)
        assert_error(await customer.place(items=[{"product_id": lamp["id"]}], shipping_address_id=theirs),
                     404, "ADDRESS_NOT_FOUND")


class TestFromCart:
    async def test_the_cart_lines_are_ordered_at_catalog_prices(self, harness: ServiceHarness, customer: Customer,
                                                                platform: FakePlatform) -> None:
        lamp = platform.product(price="20.00")
        pack = platform.product(price="5.00")
        platform.fill_cart(customer.owner_id, (lamp, 2), (pack, 1))
        order = await customer.placed(shipping_address_id=platform.address(customer.owner_id))
        assert [(i["product_id"], i["quantity"], i["unit_price"]) for i in order["items"]] == [
            (lamp["id"], 2, "20.00"), (pack["id"], 1, "5.00")]
        assert order["subtotal"] == "45.00"
        await harness.drain()
        placed = harness.published("order.placed")[-1].data
        assert placed["from_cart"] is True

    async def test_a_price_changed_since_the_cart_showed_it_is_refused_and_shown(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        """Staff raise the price 11.00 → 13.00 after the cart showed 11.00 (its read model
        had not heard yet). The customer is never charged a price the cart did not show: 409
        PRICE_CHANGED with the changed lines, the cart given the new price in the same step, and the
        next attempt, at the now-shown price, goes through."""
        lamp = platform.product(price="11.00")
        pack = platform.product(price="5.00")
        platform.fill_cart(customer.owner_id, (lamp, 2), (pack, 1))
        lamp["price"] = "13.00"  # the price changes between add-to-cart and placing
        address = platform.address(customer.owner_id)
        error = assert_error(await customer.place(shipping_address_id=address), 409, "PRICE_CHANGED")
        assert error["details"] == {"items": [{"product_id": lamp["id"], "variant_id": None,
                                               "shown_unit_price": "11.00", "current_unit_price": "13.00"}]}
        # Nothing placed, and the cart now shows what the order will charge.
        listed = await harness.client.get("/api/v1/orders", headers=customer.headers)
        assert listed.json()["count"] == 0
        assert harness.published("order.placed") == []
        assert [(line["product_id"], line["unit_price"]) for line in platform.carts[customer.owner_id]] == [
            (lamp["id"], "13.00"), (pack["id"], "5.00")]
        order = await customer.placed(shipping_address_id=address)
        assert [(i["product_id"], i["unit_price"]) for i in order["items"]] == [(lamp["id"], "13.00"),
                                                                                (pack["id"], "5.00")]
        assert order["subtotal"] == "31.00"

    async def test_a_price_lowered_since_the_cart_showed_it_is_refused_too(
            self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product(price="20.00")
        platform.fill_cart(customer.owner_id, (lamp, 1))
        lamp["price"] = "15.00"
        error = assert_error(await customer.place(shipping_address_id=platform.address(customer.owner_id)), 409,
                             "PRICE_CHANGED")
        assert error["details"]["items"][0]["current_unit_price"] == "15.00"
        assert platform.carts[customer.owner_id][0]["unit_price"] == "15.00"

    async def test_an_empty_or_missing_cart_is_refused(self, customer: Customer, platform: FakePlatform) -> None:
        assert_error(await customer.place(), 400, "CART_EMPTY")
        platform.carts[customer.owner_id] = []
        assert_error(await customer.place(), 400, "CART_EMPTY")


class TestRefusals:
    async def test_unknown_or_inactive_products(self, customer: Customer, platform: FakePlatform) -> None:
        gone = platform.product(kind="credit_pack", is_active=False)
        for item in ({"product_id": str(uuid.uuid4())}, {"product_id": gone["id"]}, {"sku": "NOPE"}):
            assert_error(await customer.place(items=[item]), 400, "PRODUCT_UNAVAILABLE")

    async def test_an_inactive_or_foreign_variant(self, customer: Customer, platform: FakePlatform) -> None:
        slab = platform.product(kind="credit_pack", variants=[{"sku": "OLD", "is_active": False}])
        other = platform.product(kind="credit_pack", variants=[{"sku": "OTHER"}])
        for variant_id in (slab["variants"][0]["id"], other["variants"][0]["id"]):
            assert_error(await customer.place(items=[{"product_id": slab["id"], "variant_id": variant_id}]),
                         400, "PRODUCT_UNAVAILABLE")

    async def test_lines_in_two_currencies(self, customer: Customer, platform: FakePlatform) -> None:
        usd = platform.product(kind="credit_pack", currency="USD")
        gel = platform.product(kind="retry_pack", currency="GEL")
        error = assert_error(await customer.place(items=[{"product_id": usd["id"]}, {"product_id": gel["id"]}]),
                             400, "CURRENCY_MISMATCH")
        assert error["details"]["currencies"] == ["GEL", "USD"]

    async def test_more_than_the_stock_catalog_reports(self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product(stock=3)
        address = platform.address(customer.owner_id)
        error = assert_error(await customer.place(items=[{"product_id": lamp["id"], "quantity": 2},
                                                         {"product_id": lamp["id"], "quantity": 2}],
                                                  shipping_address_id=address), 409, "INSUFFICIENT_STOCK")
        assert (error["details"]["requested"], error["details"]["available"]) == (4, 3)

    @pytest.mark.parametrize("body", [
        {"items": []},
        {"items": [{"product_id": "not-a-uuid"}]},
        {"items": [{"quantity": 1}]},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": 0}]},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": 100}]},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": "2"}]},
        {"items": [{"product_id": str(uuid.uuid4()), "sku": "PACK_5"}]},
        {"items": [{"tier": "basic"}]},
        {"items": [{"product_id": str(uuid.uuid4()), "content_type": "PAGE"}]},
        {"items": [{"product_id": str(uuid.uuid4()), "content_type": "CHAPTER", "content_id": str(uuid.uuid4())}]},
        {"items": "all of them"},
        {"email": "not an email", "items": [{"sku": "X"}]},
    ])
    async def test_malformed_requests_are_400(self, customer: Customer, body: dict) -> None:
        assert_error(await customer.place(**body), 400, "VALIDATION_ERROR")

    async def test_a_caller_without_any_token_is_401(self, harness: ServiceHarness) -> None:
        assert_error(await harness.client.post("/api/v1/orders", json={}), 401, "AUTHENTICATION_REQUIRED")

    async def test_catalog_unreachable_is_503(self, customer: Customer, platform: FakePlatform) -> None:
        platform.down("catalog")
        assert_error(await customer.place(items=[{"sku": "PACK_5"}]), 503, "SERVICE_UNAVAILABLE")


class TestPrintOrders:
    async def test_a_book_printed_at_a_tier(self, anonymous: Customer, platform: FakePlatform) -> None:
        tier = platform.product(kind="print_tier", sku="basic", price="49.00", currency="GEL",
                                attributes={"max_retries_per_unit": 3})
        book = platform.book(anonymous.owner_id)
        address = platform.address(anonymous.owner_id, email="buyer@example.com")
        # S0's own field names: tier_name, delivery_address_id; its client-side amounts are ignored.
        order = await anonymous.placed(tier_name="basic", delivery_address_id=address, delivery_cost="0",
                                       total_amount="1", items=[{"book_id": book, "quantity": 2, "unit_price": "1"}])
        item = order["items"][0]
        assert (item["product_id"], item["kind"], item["book_id"], item["unit_price"], item["quantity"]) == (
            tier["id"], "print_tier", book, "49.00", 2)
        # Printed books are shipped: 98.00 + 8.82 tax + 5.00 shipping.
        assert (order["currency"], order["shipping_cost"], order["total_amount"]) == ("GEL", "5.00", "111.82")
        assert order["email"] == "buyer@example.com"  # an anonymous buyer is reached at the delivery address

    async def test_the_tier_may_be_named_per_line(self, anonymous: Customer, platform: FakePlatform) -> None:
        platform.product(kind="print_tier", sku="premium", price="89.00", currency="GEL")
        book = platform.book(anonymous.owner_id)
        order = await anonymous.placed(items=[{"book_id": book, "tier": "premium"}],
                                       shipping_address_id=platform.address(anonymous.owner_id))
        assert order["items"][0]["sku"] == "premium"

    async def test_a_print_order_needs_a_delivery_address(self, anonymous: Customer, platform: FakePlatform) -> None:
        platform.product(kind="print_tier", sku="basic")
        book = platform.book(anonymous.owner_id)
        assert_error(await anonymous.place(tier="basic", items=[{"book_id": book}]), 400, "ADDRESS_REQUIRED")

    async def test_someone_elses_book_is_not_found(self, anonymous: Customer, other_customer: Customer,
                                                   platform: FakePlatform) -> None:
        platform.product(kind="print_tier", sku="basic")
        theirs = platform.book(other_customer.owner_id)
        address = platform.address(anonymous.owner_id)
        error = assert_error(await anonymous.place(tier="basic", items=[{"book_id": theirs}],
                                                   shipping_address_id=address), 404, "BOOK_NOT_FOUND")
        assert error["details"] == {"book_id": theirs}

    async def test_an_unknown_tier_or_a_product_that_is_not_a_tier(self, anonymous: Customer,
                                                                   platform: FakePlatform) -> None:
        platform.product(kind="credit_pack", sku="PACK_5")
        book = platform.book(anonymous.owner_id)
        for tier in ("gold", "PACK_5"):
            assert_error(await anonymous.place(tier=tier, items=[{"book_id": book}]), 400, "PRODUCT_UNAVAILABLE")

    async def test_a_book_line_without_a_tier_is_400(self, anonymous: Customer, platform: FakePlatform) -> None:
        assert_error(await anonymous.place(items=[{"book_id": platform.book(anonymous.owner_id)}]),
                     400, "VALIDATION_ERROR")

    async def test_generation_unreachable_is_503(self, anonymous: Customer, platform: FakePlatform) -> None:
        platform.product(kind="print_tier", sku="basic")
        book = platform.book(anonymous.owner_id)
        platform.down("generation")
        assert_error(await anonymous.place(tier="basic", items=[{"book_id": book}],
                                           shipping_address_id=platform.address(anonymous.owner_id)),
                     503, "SERVICE_UNAVAILABLE")


class TestTheNewOrder:
    async def test_number_format_owner_and_first_history_entry(self, anonymous: Customer,
                                                               platform: FakePlatform) -> None:
        pack = platform.product(kind="credit_pack")
        order = await anonymous.placed(items=[{"product_id": pack["id"]}])
        assert re.fullmatch(r"ORD-\d{8}-[A-Z0-9]{6}", order["order_number"])
        assert order["order_number"][4:12] == order["created_at"][:10].replace("-", "")
        assert [(h["status"], h["from_status"], h["actor"]) for h in order["status_history"]] == [
            ("pending", None, "customer")]
        assert (await anonymous.order(order["id"]))["id"] == order["id"]

    async def test_placed_and_status_changed_go_through_the_outbox(self, harness: ServiceHarness,
                                                                   anonymous: Customer,
                                                                   platform: FakePlatform) -> None:
        lamp = platform.product(price="10.00")
        order = await anonymous.placed(items=[{"product_id": lamp["id"], "quantity": 3}],
                                       shipping_address_id=platform.address(anonymous.owner_id))
        await harness.drain()
        [placed] = [e.data for e in harness.published("order.placed")]
        assert (placed["order_id"], placed["order_number"], placed["owner_id"], placed["user_id"],
                placed["from_cart"], placed["total_amount"]) == (
            order["id"], order["order_number"], str(anonymous.owner_id), None, False, order["total_amount"])
        assert [(line["product_id"], line["sku"], line["kind"], line["quantity"], line["unit_price"])
                for line in placed["lines"]] == [(lamp["id"], lamp["sku"], "physical", 3, "10.00")]
        [changed] = [e.data for e in harness.published("order.status_changed")]
        assert (changed["old_status"], changed["new_status"]) == (None, "pending")

    async def test_a_taken_order_number_is_drawn_again(self, customer: Customer, platform: FakePlatform,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        pack = platform.product(kind="credit_pack")
        first = await customer.placed(items=[{"product_id": pack["id"]}])
        draws = iter([first["order_number"], first["order_number"], "ORD-20261121-NEW001"])
        monkeypatch.setattr(domain, "new_order_number", lambda today: next(draws))
        second = await customer.placed(items=[{"product_id": pack["id"]}])
        assert second["order_number"] == "ORD-20261121-NEW001"
        assert [o["order_number"] for o in (await customer.client.get(
            "/api/v1/orders", headers=customer.headers)).json()["results"]].count(first["order_number"]) == 1


async def test_a_stale_anonymous_token_alone_is_401(harness: ServiceHarness, test_keys: TestKeys) -> None:
    other_keys = TestKeys()
    assert_error(await harness.client.post("/api/v1/orders", json={}, headers=other_keys.anon_headers()),
                 401, "AUTHENTICATION_REQUIRED")


class TestGiftCardLines:
    async def test_a_gift_card_line_keeps_its_recipient_for_payments(
            self, harness, customer: Customer, platform: FakePlatform, service_headers: dict[str, str]) -> None:
        card = platform.product(kind="gift_card", price="50.00", tax_class="zero", track_inventory=False)
        send_at = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
        order = await customer.placed(items=[{
            "product_id": card["id"], "quantity": 1, "gift_recipient_email": "friend@example.com",
            "gift_message": "Happy birthday!", "gift_send_at": send_at.isoformat()}])
        # Not shipped, not taxed at sale: the tax is due when the card is redeemed.
        assert (order["total_amount"], order["tax_amount"], order["shipping_address"]) == ("50.00", "0.00", None)
        item = order["items"][0]
        assert (item["gift_recipient_email"], item["gift_message"]) == ("friend@example.com", "Happy birthday!")
        assert datetime.fromisoformat(item["gift_send_at"].replace("Z", "+00:00")) == send_at
        internal = (await harness.client.get(f"/internal/orders/{order['id']}", headers=service_headers)).json()
        assert internal["items"][0]["gift_recipient_email"] == "friend@example.com"

    @pytest.mark.parametrize(("fields", "field"), [
        ({"gift_recipient_email": "not-an-address"}, "gift_recipient_email"),
        ({"gift_send_at": "2020-01-01T00:00:00Z"}, "gift_send_at"),
        ({"gift_send_at": "2099-01-01T00:00:00Z"}, "gift_send_at"),
    ])
    async def test_bad_recipient_fields_are_400(self, customer: Customer, platform: FakePlatform,
                                                fields: dict, field: str) -> None:
        card = platform.product(kind="gift_card", price="25.00", tax_class="zero", track_inventory=False)
        response = await customer.place(items=[{"product_id": card["id"], "quantity": 1, **fields}])
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR" and field in response.text

    async def test_only_a_gift_card_line_takes_them(self, customer: Customer, platform: FakePlatform) -> None:
        pack = platform.product(kind="credit_pack", price="4.99", attributes={"credits": 5})
        response = await customer.place(items=[{"product_id": pack["id"], "quantity": 1,
                                                "gift_recipient_email": "friend@example.com"}])
        assert response.status_code == 400 and "gift_recipient_email" in response.text, response.text
