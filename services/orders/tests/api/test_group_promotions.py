"""Promotions for customer groups: staff name groups of the storefront (orders' copy of identity's,
fed by its events); only a customer whose group on the storefront (the token's) is named gets it, in
the cart's quote, the checkout's shipping methods and the order alike (the price shown is the price
charged). Anonymous visitors and customers in no group never do."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from atelier_common.contracts.identity import CustomerGroupChanged, CustomerGroupDeleted
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, assert_error
from .test_promotions import URL, from_cart, promotions


async def group_made(harness: ServiceHarness, code: str = "business", storefront: str = "default", *,
                     revision: int = 1) -> None:
    """Identity made the group `code` on `storefront`: orders hears of it (promotions may name it)."""
    await harness.deliver(CustomerGroupChanged(storefront=storefront, code=code, name=code.title(),
                                               revision=revision), producer="identity")


@pytest.fixture
def member(harness: ServiceHarness, test_keys: TestKeys) -> Customer:
    user_id = uuid.uuid4()
    return Customer(harness, test_keys.group_headers("business", user_id), user_id)


@pytest.fixture
def outsider(harness: ServiceHarness, test_keys: TestKeys) -> Customer:
    """A member of another group of the storefront."""
    user_id = uuid.uuid4()
    return Customer(harness, test_keys.group_headers("press", user_id), user_id)


class TestStaffNameGroups:
    async def test_the_groups_are_read_back_and_edited(self, harness: ServiceHarness, test_keys: TestKeys) -> None:
        await group_made(harness)
        await group_made(harness, "press")
        staff = promotions(harness, test_keys)
        created = await staff.create(code="PRO", customer_groups=["business", "business"])
        assert created["customer_groups"] == ["business"]
        assert (await staff.get(created["id"]))["customer_groups"] == ["business"]
        edited = await harness.client.patch(f"{URL}/{created['id']}", json={"customer_groups": ["press", "business"]},
                                            headers=staff.headers)
        assert edited.json()["customer_groups"] == ["press", "business"], edited.text
        everybody = await harness.client.patch(f"{URL}/{created['id']}", json={"customer_groups": []},
                                               headers=staff.headers)
        assert everybody.json()["customer_groups"] == []
        assert (await staff.create(name="Open"))["customer_groups"] == []

    async def test_bad_codes_and_unknown_groups_are_400(self, harness: ServiceHarness, test_keys: TestKeys) -> None:
        await group_made(harness)
        await group_made(harness, "elsewhere", "other")
        staff = promotions(harness, test_keys)
        for groups in (["Business"], ["has space"], ["x" * 33], [""], "business", [7]):
            response = await harness.client.post(URL, json={"name": "Bad", "kind": "percentage", "value": "5",
                                                            "customer_groups": groups}, headers=staff.headers)
            assert_error(response, 400, "VALIDATION_ERROR")
        # Well formed, but not a group of this storefront (another's does not count).
        for groups in (["press"], ["elsewhere"]):
            response = await harness.client.post(URL, json={"name": "Bad", "kind": "percentage", "value": "5",
                                                            "customer_groups": ["business", *groups]},
                                                 headers=staff.headers)
            error = assert_error(response, 400, "VALIDATION_ERROR")
            assert "it has business" in error["details"]["fields"]["customer_groups"][0]
        assert (await harness.client.get(URL, headers=staff.headers)).json()["count"] == 0

    async def test_a_deleted_group_stays_named_but_cannot_be_added(self, harness: ServiceHarness,
                                                                   test_keys: TestKeys) -> None:
        await group_made(harness)
        await group_made(harness, "press")
        staff = promotions(harness, test_keys)
        created = await staff.create(customer_groups=["business"])
        await harness.deliver(CustomerGroupDeleted(storefront="default", code="business", revision=2),
                              producer="identity")
        # A late `changed` of an older revision does not bring it back.
        await group_made(harness, revision=1)
        renamed = await harness.client.patch(f"{URL}/{created['id']}", json={"name": "Still", "value": "7"},
                                             headers=staff.headers)
        assert renamed.status_code == 200, renamed.text
        assert_error(await harness.client.post(URL, json={"name": "New", "kind": "percentage", "value": "5",
                                                          "customer_groups": ["business"]}, headers=staff.headers),
                     400, "VALIDATION_ERROR")


class TestWhoGetsIt:
    async def test_an_automatic_promotion_for_a_group_discounts_its_members_only(
            self, harness: ServiceHarness, test_keys: TestKeys, platform: FakePlatform, member: Customer,
            outsider: Customer, customer: Customer, anonymous: Customer) -> None:
        await group_made(harness)
        await group_made(harness, "press")
        await promotions(harness, test_keys).create(name="Business 10%", customer_groups=["business"])
        lamp = platform.product(price="100.00")
        discounts: dict[str, Any] = {}
        for name, buyer in (("member", member), ("outsider", outsider), ("customer", customer),
                            ("anonymous", anonymous)):
            from_cart(platform, buyer, (lamp, 1))
            address = platform.address(buyer.owner_id)
            methods = await harness.client.get("/api/v1/shipping-methods", params={"address_id": address},
                                               headers=buyer.headers)
            assert methods.status_code == 200, methods.text
            order = await buyer.placed(shipping_address_id=address,
                                       expected_total=methods.json()[0]["total_amount"])
            discounts[name] = (methods.json()[0]["discount"], order["discount_total"],
                               [d["name"] for d in order["discounts"]])
        assert discounts == {"member": ("10.00", "10.00", ["Business 10%"]),
                             "outsider": ("0.00", "0.00", []), "customer": ("0.00", "0.00", []),
                             "anonymous": ("0.00", "0.00", [])}

    async def test_the_carts_quote_is_judged_by_the_group_it_sends(self, harness: ServiceHarness,
                                                                   test_keys: TestKeys,
                                                                   service_headers: dict[str, str]) -> None:
        await group_made(harness)
        await promotions(harness, test_keys).create(name="Business", code="PRO", customer_groups=["business"])
        body = {"storefront": "default", "owner_id": str(uuid.uuid4()), "code": "pro",
                "lines": [{"product_id": str(uuid.uuid4()), "unit_price": "20.00", "quantity": 2}]}
        quote = await harness.client.post("/internal/promotions/quote", json={**body, "customer_group": "business"},
                                          headers=service_headers)
        assert quote.json()["discount_total"] == "4.00", quote.text
        shown = (await harness.client.post("/internal/promotions/quote", json=body, headers=service_headers)).json()
        assert (shown["discount_total"], shown["code_problem"]["reason"]) == ("0.00", "customer_group")
        refused = assert_error(await harness.client.post("/internal/promotions/quote", json={
            **body, "customer_group": "press", "strict": True}, headers=service_headers), 400, "PROMOTION_CODE_INVALID")
        assert refused["details"] == {"code": "pro", "reason": "customer_group"}

    async def test_a_groups_code_is_refused_to_a_non_member_with_a_clear_error(
            self, harness: ServiceHarness, test_keys: TestKeys, platform: FakePlatform, member: Customer,
            customer: Customer, anonymous: Customer) -> None:
        await group_made(harness)
        await promotions(harness, test_keys).create(name="Business code", code="PRO", kind="fixed", value="15",
                                                    customer_groups=["business"])
        lamp = platform.product(price="100.00")
        for buyer in (customer, anonymous):
            error = assert_error(await buyer.place(items=[{"product_id": lamp["id"]}], promotion_code="pro",
                                                   shipping_address_id=platform.address(buyer.owner_id)),
                                 400, "PROMOTION_CODE_INVALID")
            assert error["details"] == {"code": "pro", "reason": "customer_group"}
            assert "customer group" in error["message"]
        order = await member.placed(items=[{"product_id": lamp["id"]}], promotion_code="pro",
                                    shipping_address_id=platform.address(member.owner_id))
        assert (order["discount_total"], order["discounts"][0]["code"]) == ("15.00", "PRO")
