"""Promotions and discount codes (#56): staff's CRUD, cart's quote, and what placing an order
charges, freezes and counts (the limits held under parallel checkouts)."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from atelier_common.contracts.identity import UserDeleted
from atelier_common.contracts.orders import Discount
from atelier_orders.models import PromotionRedemption
from atelier_orders.promotions.repository import PromotionRepository
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, Staff, assert_error

URL = "/api/v1/staff/promotions"


class Promotions:
    def __init__(self, harness: ServiceHarness, test_keys: TestKeys) -> None:
        self.client = harness.client
        self.headers = test_keys.staff_headers("merchandiser")

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post(URL, json={"name": "Promo", "kind": "percentage", "value": "10", **body},
                                          headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, promotion_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{URL}/{promotion_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


def promotions(harness: ServiceHarness, test_keys: TestKeys) -> Promotions:
    return Promotions(harness, test_keys)


def from_cart(platform: FakePlatform, buyer: Customer, *lines: tuple[dict[str, Any], int],
              code: str | None = None) -> None:
    platform.fill_cart(buyer.owner_id, *lines)
    if code is not None:
        platform.cart_codes[("default", buyer.owner_id)] = code


class TestStaffPromotions:
    async def test_create_read_edit_deactivate_with_roles_versions_and_audit(
            self, harness: ServiceHarness, test_keys: TestKeys) -> None:
        staff = promotions(harness, test_keys)
        created = await staff.create(code="Summer10", usage_limit=100, usage_limit_per_customer=1)
        assert (created["code"], created["uses"], created["is_active"], created["value"]) == (
            "Summer10", 0, True, "10.00")
        for role, status in (("support", 403), ("finance", 403), ("merchandiser", 200), ("admin", 200)):
            response = await harness.client.get(URL, headers=test_keys.staff_headers(role))
            assert response.status_code == status, role
        assert [p["id"] for p in (await harness.client.get(
            URL, params={"code": "SUMMER10"}, headers=staff.headers)).json()["results"]] == [created["id"]]
        for role in ("support", "finance"):
            assert_error(await harness.client.patch(f"{URL}/{created['id']}", json={"name": "x"},
                                                    headers=test_keys.staff_headers(role)), 403, "PERMISSION_DENIED")
        edited = await harness.client.patch(f"{URL}/{created['id']}", json={"value": "15"},
                                            headers={**staff.headers, "If-Match": created["version"]})
        assert edited.status_code == 200, edited.text
        assert edited.json()["value"] == "15.00"
        stale = await harness.client.patch(f"{URL}/{created['id']}", json={"value": "20"},
                                           headers={**staff.headers, "If-Match": created["version"]})
        assert_error(stale, 409, "STALE_VERSION")
        assert_error(await harness.client.patch(f"{URL}/{created['id']}", json={"code": "has space"},
                                                headers=staff.headers), 400, "VALIDATION_ERROR")
        gone = await harness.client.delete(f"{URL}/{created['id']}", headers=staff.headers)
        assert gone.status_code == 200 and gone.json()["is_active"] is False
        await harness.drain()
        actions = [e.data["action"] for e in harness.published("staff.action_recorded")]
        assert actions == ["promotion.create", "promotion.update", "promotion.update"]

    async def test_codes_are_unique_per_storefront_whatever_their_case(self, harness, test_keys) -> None:
        staff = promotions(harness, test_keys)
        await staff.create(code="WELCOME")
        response = await harness.client.post(URL, json={"name": "Again", "kind": "percentage", "value": "5",
                                                        "code": "welcome"}, headers=staff.headers)
        assert_error(response, 409, "PROMOTION_CODE_TAKEN")

    async def test_bad_input_is_400_and_creates_nothing(self, harness, test_keys) -> None:
        staff = promotions(harness, test_keys)
        for body in ({"kind": "percentage", "value": "150"}, {"kind": "fixed", "value": "0"},
                     {"kind": "fixed_amount", "value": "5"}, {"kind": "percentage", "value": "10",
                                                               "product_ids": ["not-an-id"]},
                     {"kind": "percentage", "value": "10", "starts_at": "2026-12-02T00:00:00Z",
                      "ends_at": "2026-12-01T00:00:00Z"},
                     {"kind": "percentage", "value": "10", "code": "has space"},
                     {"kind": "percentage", "value": "10", "storefront": "nowhere"}):
            response = await harness.client.post(URL, json={"name": "Bad", **body}, headers=staff.headers)
            assert response.status_code == 400, (body, response.text)
        assert (await harness.client.get(URL, headers=staff.headers)).json()["count"] == 0


class TestQuote:
    async def test_cart_asks_what_its_lines_save(self, harness, test_keys, service_headers) -> None:
        staff = promotions(harness, test_keys)
        await staff.create(name="Ten off", code="TEN")
        product = uuid.uuid4()
        body = {"storefront": "default", "owner_id": str(uuid.uuid4()), "code": "ten",
                "lines": [{"product_id": str(product), "unit_price": "20.00", "quantity": 2}]}
        quote = (await harness.client.post("/internal/promotions/quote", json=body, headers=service_headers)).json()
        assert (quote["discount_total"], [p["name"] for p in quote["discounts"]]) == ("4.00", ["Ten off"])
        unknown = await harness.client.post("/internal/promotions/quote", json={**body, "code": "NOPE", "strict": True},
                                            headers=service_headers)
        assert_error(unknown, 400, "PROMOTION_CODE_INVALID")
        shown = (await harness.client.post("/internal/promotions/quote", json={**body, "code": "NOPE"},
                                           headers=service_headers)).json()
        assert (shown["discount_total"], shown["code_problem"]["reason"]) == ("0.00", "invalid")


class TestPlacing:
    async def test_the_discount_is_charged_frozen_and_counted(self, harness, test_keys, customer: Customer,
                                                              platform: FakePlatform) -> None:
        staff = promotions(harness, test_keys)
        code = await staff.create(code="TEN", usage_limit=5)
        shoe, hat = platform.product(price="30.00"), platform.product(price="15.00")
        from_cart(platform, customer, (shoe, 2), (hat, 1), code="ten")
        order = await customer.placed(shipping_address_id=platform.address(customer.owner_id),
                                      expected_discount="7.50")
        # 75.00 - 7.50 = 67.50, + 9% tax on what is paid 6.08 (not 6.75) + 5.00 shipping (untaxed here)
        assert (order["subtotal"], order["discount"], order["discount_total"], order["tax_amount"],
                order["total_amount"]) == ("75.00", "7.50", "7.50", "6.08", "78.58")
        # Each line keeps its share of the discount and of the tax.
        assert [(i["discount_amount"], i["tax_amount"]) for i in order["items"]] == [("6.00", "4.86"), ("1.50", "1.22")]
        assert (await staff.get(code["id"]))["uses"] == 1
        assert (await customer.order(order["id"]))["discounts"] == order["discounts"]
        [applied] = order["discounts"]
        assert (applied["promotion_id"], applied["code"], applied["amount"]) == (code["id"], "TEN", "7.50")
        await harness.drain()
        [event] = [e.data for e in harness.published("promotion.redeemed")]
        assert (event["order_id"], event["code"], event["amount"], event["uses"], event["usage_limit"]) == (
            order["id"], "TEN", "7.50", 1, 5)
        assert [(line["position"], line["amount"]) for line in applied["lines"]] == [(1, "6.00"), (2, "1.50")]

    async def test_a_discount_other_than_the_one_shown_is_refused(self, harness, test_keys, customer: Customer,
                                                                  platform: FakePlatform) -> None:
        await promotions(harness, test_keys).create(name="Automatic 10%")
        lamp = platform.product(price="100.00")
        from_cart(platform, customer, (lamp, 1))
        error = assert_error(await customer.place(shipping_address_id=platform.address(customer.owner_id),
                                                  expected_discount="0.00"), 409, "DISCOUNT_CHANGED")
        assert error["details"] == {"shown": "0.00", "current": "10.00"}

    async def test_a_code_that_does_not_apply_refuses_the_order(self, harness, test_keys, customer: Customer,
                                                                platform: FakePlatform) -> None:
        await promotions(harness, test_keys).create(code="BIG", min_subtotal="500")
        lamp = platform.product(price="100.00")
        from_cart(platform, customer, (lamp, 1), code="BIG")
        error = assert_error(await customer.place(shipping_address_id=platform.address(customer.owner_id)),
                             400, "PROMOTION_CODE_INVALID")
        assert error["details"]["reason"] == "below_minimum"
        assert_error(await customer.place(items=[{"product_id": lamp["id"]}], promotion_code="NONE",
                                          shipping_address_id=platform.address(customer.owner_id)),
                     400, "PROMOTION_CODE_INVALID")

    async def test_free_shipping_and_a_category_scope(self, harness, test_keys, customer: Customer,
                                                      platform: FakePlatform) -> None:
        footwear = str(uuid.uuid4())
        staff = promotions(harness, test_keys)
        await staff.create(code="SHIP", kind="free_shipping", value="0", combinable=True)
        await staff.create(name="Shoes 50%", value="50", category_ids=[footwear], combinable=True)
        shoe, hat = platform.product(price="40.00", category_id=footwear), platform.product(price="10.00")
        order = await customer.placed(items=[{"product_id": shoe["id"]}, {"product_id": hat["id"]}],
                                      promotion_code="ship", shipping_address_id=platform.address(customer.owner_id))
        # 50.00 - 20.00 = 30.00 + 9% tax 2.70; shipping 5.00 given away.
        assert (order["shipping_cost"], order["shipping_discount"], order["discount"], order["tax_amount"],
                order["total_amount"]) == ("0.00", "5.00", "20.00", "2.70", "32.70")

    async def test_a_customer_limit_and_an_unpaid_cancel_giving_the_use_back(
            self, harness, test_keys, customer: Customer, platform: FakePlatform) -> None:
        staff = promotions(harness, test_keys)
        code = await staff.create(code="ONCE", usage_limit_per_customer=1, usage_limit=1)
        lamp = platform.product(price="10.00")
        first = await customer.placed(items=[{"product_id": lamp["id"]}], promotion_code="ONCE",
                                      shipping_address_id=platform.address(customer.owner_id))
        again = await customer.place(items=[{"product_id": lamp["id"]}], promotion_code="once",
                                     shipping_address_id=platform.address(customer.owner_id))
        assert again.status_code in (400, 409)
        assert again.json()["error"]["code"] in ("PROMOTION_CODE_INVALID", "PROMOTION_EXHAUSTED")
        assert (await customer.cancel(first["id"])).status_code == 200
        assert (await staff.get(code["id"]))["uses"] == 0
        await customer.placed(items=[{"product_id": lamp["id"]}], promotion_code="ONCE",
                              shipping_address_id=platform.address(customer.owner_id))

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_parallel_checkouts_take_exactly_the_uses_left(self, harness, test_keys, platform: FakePlatform,
                                                                 new_customer) -> None:
        staff = promotions(harness, test_keys)
        code = await staff.create(code="LAST5", usage_limit=5)
        lamp = platform.product(price="10.00", stock=1000)
        buyers = [new_customer() for _ in range(20)]
        answers = await asyncio.gather(*(buyer.place(items=[{"product_id": lamp["id"]}], promotion_code="LAST5",
                                                     email=f"b{i}@example.com",
                                                     shipping_address_id=platform.address(buyer.owner_id))
                                         for i, buyer in enumerate(buyers)))
        placed = [a for a in answers if a.status_code == 201]
        refused = [a for a in answers if a.status_code == 409]
        assert len(placed) == 5 and len(refused) == 15, [a.text for a in answers if a.status_code not in (201, 409)]
        assert all(a.json()["discount"] == "1.00" for a in placed)
        assert {a.json()["error"]["code"] for a in refused} == {"PROMOTION_EXHAUSTED"}
        assert (await staff.get(code["id"]))["uses"] == 5


class TestOneCodeKey:
    """A code is matched by one rule wherever it is typed (`promotions.rules.code_key`: trimmed,
    any case): staff's lookup and uniqueness, the cart's quote (how the cart applies a code), an
    order's `promotion_code`; a blank `promotion_code` is no code, and the cart's applies."""

    async def test_a_padded_lower_case_code_is_the_code_everywhere(
            self, harness, test_keys, service_headers, customer: Customer, platform: FakePlatform) -> None:
        staff = promotions(harness, test_keys)
        created = await staff.create(name="Summer", code="SUMMER10")
        typed = " summer10 "
        found = (await harness.client.get(URL, params={"code": typed}, headers=staff.headers)).json()
        assert [p["id"] for p in found["results"]] == [created["id"]]
        taken = await harness.client.post(URL, json={"name": "Again", "kind": "fixed", "value": "1",
                                                     "code": " Summer10 "}, headers=staff.headers)
        assert_error(taken, 409, "PROMOTION_CODE_TAKEN")
        lamp = platform.product(price="20.00")
        quote = await harness.client.post("/internal/promotions/quote", headers=service_headers, json={
            "storefront": "default", "owner_id": str(customer.owner_id), "code": typed, "strict": True,
            "lines": [{"product_id": lamp["id"], "unit_price": "20.00", "quantity": 1}]})
        assert quote.status_code == 200, quote.text
        assert [d["code"] for d in quote.json()["discounts"]] == ["SUMMER10"]
        order = await customer.placed(items=[{"product_id": lamp["id"]}], promotion_code=typed,
                                      shipping_address_id=platform.address(customer.owner_id))
        assert (order["discount"], [d["code"] for d in order["discounts"]]) == ("2.00", ["SUMMER10"])

    async def test_a_blank_promotion_code_leaves_the_carts_code(self, harness, test_keys, customer: Customer,
                                                                 platform: FakePlatform) -> None:
        await promotions(harness, test_keys).create(code="SUMMER10")
        from_cart(platform, customer, (platform.product(price="20.00"), 1), code=" summer10 ")
        order = await customer.placed(promotion_code="  ", shipping_address_id=platform.address(customer.owner_id))
        assert [d["code"] for d in order["discounts"]] == ["SUMMER10"]


class TestLineDiscountsAreRows:
    async def test_discounts_lines_are_read_from_the_lines_and_not_kept_beside_them(
            self, harness, test_keys, customer: Customer, platform: FakePlatform) -> None:
        """Two promotions that combine: each one's `lines` add up to what it saved, each line's to its
        own `discount_amount`; the order's JSON and the redemptions keep no copy of them."""
        staff = promotions(harness, test_keys)
        shoe, hat = platform.product(price="30.00"), platform.product(price="15.00")
        await staff.create(name="Tenth", value="10", combinable=True)
        await staff.create(name="Shoes", kind="fixed", value="5", product_ids=[shoe["id"]], combinable=True)
        order = await customer.placed(items=[{"product_id": shoe["id"], "quantity": 2}, {"product_id": hat["id"]}],
                                      shipping_address_id=platform.address(customer.owner_id))
        assert [(d["name"], d["amount"]) for d in order["discounts"]] == [("Tenth", "7.50"), ("Shoes", "5.00")]
        line_discounts = [Decimal(item["discount_amount"]) for item in order["items"]]
        assert sum(line_discounts) == Decimal(order["discount"]) == Decimal("12.50")
        for discount in order["discounts"]:
            assert sum(Decimal(line["amount"]) for line in discount["lines"]) == Decimal(discount["amount"])
        assert [sum(Decimal(line["amount"]) for d in order["discounts"] for line in d["lines"]
                    if line["position"] == position) for position in (1, 2)] == line_discounts
        assert (await customer.order(order["id"]))["discounts"] == order["discounts"]
        async with harness.runtime.db.read_only() as session:
            stored = (await session.execute(text("SELECT discounts FROM customer_order"))).scalar_one()
        stored = json.loads(stored) if isinstance(stored, str) else stored
        assert [sorted(entry) for entry in stored] == [sorted(Discount.model_fields)] * 2
        assert "lines" not in PromotionRedemption.model_fields


class TestTheCustomerLimitUnderRaces:
    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_one_customer_racing_for_a_code_once_gets_it_once(
            self, harness, test_keys, customer: Customer, platform: FakePlatform) -> None:
        """The per-customer limit is judged again under the promotion's row lock at redemption
        (`PromotionTerms.customer_limit_reached`): parallel orders of one customer, each priced while
        no use of theirs was counted yet, redeem it once; the others are refused, nothing placed."""
        staff = promotions(harness, test_keys)
        code = await staff.create(code="ONCE", usage_limit_per_customer=1)
        lamp = platform.product(price="10.00", stock=1000)
        address = platform.address(customer.owner_id)
        answers = await asyncio.gather(*(customer.place(items=[{"product_id": lamp["id"]}], promotion_code="once",
                                                        shipping_address_id=address) for _ in range(6)))
        placed = [a for a in answers if a.status_code == 201]
        refused = [a.json()["error"] for a in answers if a.status_code != 201]
        assert len(placed) == 1 and placed[0].json()["discount"] == "1.00", [a.text for a in answers]
        assert {(e["code"], e["details"]["reason"]) for e in refused} == {("PROMOTION_CODE_INVALID", "customer_limit")}
        assert (await staff.get(code["id"]))["uses"] == 1

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_guests_sharing_an_email_are_one_customer(self, harness, test_keys, new_customer,
                                                             platform: FakePlatform) -> None:
        staff = promotions(harness, test_keys)
        code = await staff.create(code="ONCE", usage_limit_per_customer=1)
        lamp = platform.product(price="10.00", stock=1000)
        guests = [new_customer() for _ in range(6)]
        answers = await asyncio.gather(*(guest.place(items=[{"product_id": lamp["id"]}], promotion_code="ONCE",
                                                     email="Same@Example.com",
                                                     shipping_address_id=platform.address(guest.owner_id))
                                         for guest in guests))
        assert sorted(a.status_code for a in answers) == [201] + [400] * 5, [a.text for a in answers]
        assert (await staff.get(code["id"]))["uses"] == 1


async def test_staff_promotions_are_managed_by_merchandisers_and_admins(
        harness, test_keys: TestKeys, staff: Staff) -> None:
    for role, status in (("merchandiser", 201), ("admin", 201), ("support", 403), ("finance", 403)):
        response = await harness.client.post(URL, json={"name": role, "kind": "percentage", "value": "5"},
                                             headers=test_keys.staff_headers(role))
        assert response.status_code == status, (role, response.text)
    assert_error(await harness.client.get(URL, headers=test_keys.user_headers()), 403, "PERMISSION_DENIED")


async def test_an_erased_customer_leaves_no_email_in_the_redemptions(harness: ServiceHarness, test_keys: TestKeys,
                                                                      customer: Customer,
                                                                      platform: FakePlatform) -> None:
    await promotions(harness, test_keys).create(code="ONCE", usage_limit_per_customer=1)
    lamp = platform.product(price="10.00")
    order = await customer.placed(items=[{"product_id": lamp["id"]}], promotion_code="ONCE",
                                  shipping_address_id=platform.address(customer.owner_id))
    await harness.deliver(UserDeleted(user_id=customer.owner_id), producer="identity")
    async with harness.runtime.db.read_only() as session:
        [redemption] = await PromotionRepository(session).of_order(uuid.UUID(order["id"]))
    assert (redemption.email_key, redemption.amount) == (None, Decimal("1.00"))


async def test_a_limit_cannot_go_below_the_uses_taken(harness: ServiceHarness, test_keys: TestKeys,
                                                      new_customer, platform: FakePlatform) -> None:
    staff = promotions(harness, test_keys)
    code = await staff.create(code="FEW", usage_limit=5)
    lamp = platform.product(price="10.00")
    for buyer in (new_customer(), new_customer()):
        await buyer.placed(items=[{"product_id": lamp["id"]}], promotion_code="FEW", email="b@example.com",
                           shipping_address_id=platform.address(buyer.owner_id))
    lowered = await harness.client.patch(f"{URL}/{code['id']}", json={"usage_limit": 1}, headers=staff.headers)
    assert assert_error(lowered, 400, "VALIDATION_ERROR")["details"]["fields"]["usage_limit"]
    assert (await harness.client.patch(f"{URL}/{code['id']}", json={"usage_limit": 2},
                                       headers=staff.headers)).status_code == 200
