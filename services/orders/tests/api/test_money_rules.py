"""The money rules on the orders side: only what can be delivered is sold, and the price shown is the
price charged (digital goods tax-inclusive, goods with tax added)."""

from __future__ import annotations

import uuid

from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform, assert_error


class TestOnlyWhatCanBeDeliveredIsSold:
    async def test_a_subscription_plan_in_the_items_is_refused_and_nothing_is_created(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        plan = platform.product(kind="subscription_plan", sku="PLAN_PRO", price="9.99",
                                attributes={"interval": "month", "credits_per_period": 100})
        pack = platform.product(kind="credit_pack", price="4.99", attributes={"credits": 5})
        error = assert_error(await customer.place(items=[{"product_id": pack["id"]}, {"product_id": plan["id"]}]),
                             400, "NOT_PURCHASABLE")
        assert error["details"]["kind"] == "subscription_plan"
        assert_error(await customer.place(items=[{"sku": "PLAN_PRO"}]), 400, "NOT_PURCHASABLE")
        assert (await customer.client.get("/api/v1/orders", headers=customer.headers)).json()["count"] == 0
        await harness.drain()
        assert harness.published("order.placed") == []

    async def test_a_plan_in_the_cart_is_refused(self, customer: Customer, platform: FakePlatform) -> None:
        plan = platform.product(kind="subscription_plan", price="9.99")
        platform.fill_cart(customer.owner_id, (plan, 1))
        assert_error(await customer.place(), 400, "NOT_PURCHASABLE")

    async def test_the_internal_create_answers_400_not_purchasable(self, harness: ServiceHarness,
                                                                   platform: FakePlatform,
                                                                   service_headers: dict[str, str]) -> None:
        platform.product(kind="subscription_plan", sku="PLAN_PRO", price="9.99")
        user_id = uuid.uuid4()
        response = await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": str(user_id), "user_id": str(user_id), "items": [{"sku": "PLAN_PRO", "quantity": 1}]})
        assert_error(response, 400, "NOT_PURCHASABLE")


class TestThePriceShownIsThePriceCharged:
    async def test_a_credit_pack_totals_its_price_with_its_tax_included(self, customer: Customer,
                                                                platform: FakePlatform) -> None:
        platform.product(kind="credit_pack", sku="PACK_5", price="4.99", attributes={"credits": 5})
        order = await customer.placed(items=[{"sku": "PACK_5"}])
        # The tax its price includes is reported, none added.
        assert (order["subtotal"], order["tax_amount"], order["total_amount"]) == ("4.99", "0.41", "4.99")

    async def test_a_retry_pack_in_gel_totals_its_price(self, customer: Customer, platform: FakePlatform) -> None:
        platform.product(kind="retry_pack", sku="RETRY_PACK_3", price="2.00", currency="GEL",
                         attributes={"retries": 3})
        order = await customer.placed(items=[{"sku": "RETRY_PACK_3"}])
        assert (order["currency"], order["tax_amount"], order["total_amount"]) == ("GEL", "0.17", "2.00")

    async def test_goods_still_get_nine_percent_added(self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product(price="100.00")
        order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                      shipping_address_id=platform.address(customer.owner_id))
        assert (order["subtotal"], order["tax_amount"], order["shipping_cost"], order["total_amount"]) == (
            "100.00", "9.00", "5.00", "114.00")


async def test_a_print_tier_is_sold_only_with_a_book(customer: Customer, platform: FakePlatform) -> None:
    tier = platform.product(kind="print_tier", sku="basic", price="49.00", attributes={"max_retries_per_unit": 3})
    error = assert_error(await customer.place(items=[{"product_id": tier["id"]}],
                                              shipping_address_id=platform.address(customer.owner_id)),
                         400, "NOT_PURCHASABLE")
    assert error["details"]["kind"] == "print_tier"
