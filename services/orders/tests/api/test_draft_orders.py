"""Draft orders (`/api/v1/staff/draft-orders`): staff build an order for a customer, priced by
placement's own pricing, and send it as an order awaiting payment."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atelier_common import payment_links
from atelier_common.contracts.identity import CustomerGroupChanged, ShippingZone, StorefrontTax
from atelier_orders.settings import OrdersSettings
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, assert_error
from .test_shipping import ZONES

ADDRESS = {"full_name": "Grace Hopper", "street_address": "1 Main St", "city": "Arlington", "postal_code": "22201",
           "country": "US", "email": "grace@example.com"}


class Drafts:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    async def create(self, **body: Any) -> httpx.Response:
        return await self.client.post("/api/v1/staff/draft-orders", json=body, headers=self.headers)

    async def created(self, **body: Any) -> dict[str, Any]:
        response = await self.create(**body)
        assert response.status_code == 201, response.text
        return response.json()

    async def add(self, draft: dict[str, Any], **line: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1/staff/draft-orders/{draft['id']}/lines", json=line,
                                      headers=self.headers)

    async def added(self, draft: dict[str, Any], **line: Any) -> dict[str, Any]:
        response = await self.add(draft, **line)
        assert response.status_code == 201, response.text
        return response.json()

    async def edit(self, draft: dict[str, Any], **body: Any) -> dict[str, Any]:
        response = await self.client.patch(f"/api/v1/staff/draft-orders/{draft['id']}", json=body,
                                           headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def get(self, draft: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/staff/draft-orders/{draft['id']}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def send(self, draft: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"/api/v1/staff/draft-orders/{draft['id']}/send", headers=self.headers)


@pytest.fixture
def drafts(harness: ServiceHarness, test_keys: TestKeys) -> Drafts:
    return Drafts(harness.client, test_keys.staff_headers("support"))


async def _ready(drafts: Drafts, platform: FakePlatform, **create: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    lamp = platform.product(price="40.00")
    draft = await drafts.created(email="new.buyer@example.com", **create)
    draft = await drafts.added(draft, product_id=lamp["id"], quantity=2)
    draft = await drafts.edit(draft, shipping_address=ADDRESS)
    return draft, lamp


def _total(preview: dict[str, Any]) -> Decimal:
    return (Decimal(preview["subtotal"]) - Decimal(preview["discount"]) + Decimal(preview["shipping_cost"])
            + Decimal(preview["tax_amount"]) - Decimal(preview["tax_included"]))


class TestBuilding:
    async def test_lines_at_catalog_price_and_a_custom_one_with_its_reason(
            self, harness: ServiceHarness, drafts: Drafts, platform: FakePlatform) -> None:
        draft, _ = await _ready(drafts, platform)
        line = draft["lines"][0]
        assert (line["catalog_price"], line["unit_price"], line["custom_price"]) == ("40.00", "40.00", False)
        chair = platform.product(price="100.00")
        draft = await drafts.added(draft, product_id=chair["id"], unit_price="80.00",
                                   price_reason="Price matched for a loyal customer")
        custom = draft["lines"][1]
        assert (custom["catalog_price"], custom["unit_price"], custom["custom_price"]) == ("100.00", "80.00", True)
        preview = draft["preview"]
        # 2 × 40 + 80, shipped at the service's flat 5.00, the default storefront's tax added on the goods.
        assert (preview["subtotal"], preview["shipping_cost"]) == ("160.00", "5.00")
        assert Decimal(preview["tax_amount"]) == Decimal("160.00") * Decimal(draft["lines"][0]["tax_amount"]) \
            / Decimal("80.00")
        assert _total(preview) == Decimal(preview["total_amount"])
        await harness.drain()
        audited = [e.data for e in harness.published("staff.action_recorded")]
        assert [a["action"] for a in audited] == ["draft_order.create", "draft_order.line_add",
                                                  "draft_order.update", "draft_order.line_add"]
        assert audited[-1]["reason"] == "Price matched for a loyal customer"
        assert audited[-1]["after"]["unit_price"] == "80.00" and audited[-1]["after"]["catalog_price"] == "100.00"

    async def test_a_custom_price_needs_a_reason(self, drafts: Drafts, platform: FakePlatform) -> None:
        draft = await drafts.created(email="a@example.com")
        lamp = platform.product()
        error = assert_error(await drafts.add(draft, product_id=lamp["id"], unit_price="1.00"), 400, "VALIDATION_ERROR")
        assert "price_reason" in str(error)
        assert (await drafts.get(draft))["lines"] == []

    async def test_a_manual_discount_needs_a_reason_and_is_taxed_as_a_discount(
            self, drafts: Drafts, harness: ServiceHarness, platform: FakePlatform) -> None:
        draft, _ = await _ready(drafts, platform)
        response = await harness.client.patch(f"/api/v1/staff/draft-orders/{draft['id']}",
                                              json={"manual_discount": "10.00"}, headers=drafts.headers)
        assert_error(response, 400, "VALIDATION_ERROR")
        draft = await drafts.edit(draft, manual_discount="10.00", manual_discount_reason="Late delivery last time")
        preview = draft["preview"]
        assert (preview["subtotal"], preview["discount"]) == ("80.00", "10.00")
        # Tax on what is charged: the lines less their discount.
        before = (await drafts.edit(draft, manual_discount="0"))["preview"]
        assert Decimal(preview["tax_amount"]) < Decimal(before["tax_amount"])
        assert _total(preview) == Decimal(preview["total_amount"])
        assert preview["discounts"][-1]["kind"] == "manual"
        assert sum(Decimal(line["discount"]) for line in draft["lines"]) == Decimal("10.00")

    async def test_unknown_and_inactive_products_are_refused(self, drafts: Drafts, platform: FakePlatform) -> None:
        draft = await drafts.created(email="a@example.com")
        assert_error(await drafts.add(draft, product_id=str(uuid.uuid4())), 400, "PRODUCT_UNAVAILABLE")
        retired = platform.product(is_active=False)
        assert_error(await drafts.add(draft, product_id=retired["id"]), 400, "PRODUCT_UNAVAILABLE")

    async def test_a_product_deactivated_later_shows_as_a_problem_and_refuses_the_send(
            self, drafts: Drafts, platform: FakePlatform) -> None:
        draft, lamp = await _ready(drafts, platform)
        platform.products[uuid.UUID(lamp["id"])]["is_active"] = False
        read = await drafts.get(draft)
        assert read["preview"] is None and read["problem"]["code"] == "PRODUCT_UNAVAILABLE"
        assert_error(await drafts.send(draft), 400, "PRODUCT_UNAVAILABLE")

    @pytest.mark.parametrize("roles", [("merchandiser",), ("finance",), ()])
    async def test_other_roles_are_refused(self, harness: ServiceHarness, test_keys: TestKeys,
                                           roles: tuple[str, ...]) -> None:
        headers = test_keys.staff_headers(*roles) if roles else test_keys.user_headers()
        response = await harness.client.post("/api/v1/staff/draft-orders", json={"email": "a@example.com"},
                                             headers=headers)
        assert response.status_code == 403, response.text
        assert (await harness.client.get("/api/v1/staff/draft-orders", headers=headers)).status_code == 403

    async def test_a_customer_is_named(self, drafts: Drafts) -> None:
        assert_error(await drafts.create(storefront="default"), 400, "VALIDATION_ERROR")
        assert_error(await drafts.create(email="a@example.com", storefront="nowhere"), 400, "UNKNOWN_STOREFRONT")

    async def test_a_business_buyer_is_priced_at_its_groups_price_list(
            self, harness: ServiceHarness, drafts: Drafts, platform: FakePlatform) -> None:
        assert_error(await drafts.create(email="buyer@acme.example", customer_group="business"), 400,
                     "VALIDATION_ERROR")
        await harness.deliver(CustomerGroupChanged(storefront="default", code="business", name="Business",
                                                   revision=1), producer="identity")
        lamp = platform.product(price="40.00")
        platform.group_prices[(lamp["id"], "default", "business")] = "32.00"
        draft = await drafts.created(email="buyer@acme.example", customer_group="business")
        draft = await drafts.added(draft, product_id=lamp["id"])
        assert (draft["lines"][0]["catalog_price"], draft["lines"][0]["unit_price"]) == ("32.00", "32.00")

    async def test_lines_change_and_go(self, drafts: Drafts, platform: FakePlatform, harness: ServiceHarness) -> None:
        draft, _ = await _ready(drafts, platform)
        line = draft["lines"][0]
        url = f"/api/v1/staff/draft-orders/{draft['id']}/lines/{line['id']}"
        refused = await harness.client.patch(url, json={"unit_price": "3.00"}, headers=drafts.headers)
        assert_error(refused, 400, "VALIDATION_ERROR")
        changed = await harness.client.patch(url, json={"quantity": 3, "unit_price": "30.00",
                                                        "price_reason": "Bulk"}, headers=drafts.headers)
        assert changed.status_code == 200, changed.text
        assert (changed.json()["lines"][0]["quantity"], changed.json()["lines"][0]["line_total"]) == (3, "90.00")
        back = await harness.client.patch(url, json={"catalog_price": True}, headers=drafts.headers)
        assert (back.json()["lines"][0]["unit_price"], back.json()["lines"][0]["custom_price"]) == ("40.00", False)
        gone = await harness.client.delete(url, headers=drafts.headers)
        assert gone.status_code == 200 and gone.json()["lines"] == []
        assert gone.json()["problem"]["code"] == "DRAFT_EMPTY"
        assert_error(await harness.client.delete(url, headers=drafts.headers), 404, "NOT_FOUND")

    async def test_an_edit_from_a_stale_read_is_refused(self, drafts: Drafts, platform: FakePlatform,
                                                        harness: ServiceHarness) -> None:
        draft, _ = await _ready(drafts, platform)
        await drafts.edit(draft, promotion_code=None, note="called back")
        stale = await harness.client.patch(f"/api/v1/staff/draft-orders/{draft['id']}", json={"note": "mine"},
                                           headers={**drafts.headers, "If-Match": draft["version"]})
        assert_error(stale, 409, "STALE_VERSION")
        assert (await drafts.get(draft))["note"] == "called back"

    async def test_an_unknown_code_shows_as_the_problem(self, drafts: Drafts, platform: FakePlatform) -> None:
        draft, _ = await _ready(drafts, platform)
        draft = await drafts.edit(draft, promotion_code="NOPE")
        assert draft["preview"] is None and draft["problem"]["code"] == "PROMOTION_CODE_INVALID"
        assert_error(await drafts.send(draft), 400, "PROMOTION_CODE_INVALID")


class TestShippingZones:
    async def test_the_addresss_zone_offers_the_methods_and_taxes_the_order(
            self, harness: ServiceHarness, drafts: Drafts, platform: FakePlatform, customer: Customer) -> None:
        add_storefront(harness.app, make_storefront("z", currency="USD", tax=StorefrontTax(rate=Decimal("0.09")),
                                                    shipping_zones=[ShippingZone.model_validate(z) for z in ZONES]))
        lamp = platform.product(price="40.00")
        draft = await drafts.created(email="buyer@example.com", storefront="z")
        await drafts.added(draft, product_id=lamp["id"])
        california = {**ADDRESS, "state": "CA"}
        draft = await drafts.edit(draft, shipping_address=california, shipping_method="express")
        preview = draft["preview"]
        assert (preview["shipping_method"], preview["shipping_cost"]) == ("express", "14.95")
        assert preview["tax_amount"] == "2.90"  # 7.25 % of 40.00, California's rate
        # The same total a customer's checkout charges for those lines, that address and method.
        placed = await customer.on("z").placed(items=[{"product_id": lamp["id"]}], shipping_method="express",
                                               shipping_address_id=platform.address(customer.owner_id, country="US",
                                                                                    state="CA"))
        assert placed["total_amount"] == preview["total_amount"]
        assert_error(await drafts.add(draft, product_id=lamp["id"], quantity=0), 400, "VALIDATION_ERROR")
        nowhere = await drafts.edit(draft, shipping_address={**ADDRESS, "country": "FR"})
        assert nowhere["problem"]["code"] == "SHIPPING_NOT_AVAILABLE"
        assert_error(await drafts.send(draft), 400, "SHIPPING_NOT_AVAILABLE")


class TestSending:
    async def test_the_order_is_charged_the_preview_and_placed_as_checkout_places_it(
            self, harness: ServiceHarness, drafts: Drafts, platform: FakePlatform,
            orders_settings: OrdersSettings, service_headers: dict[str, str]) -> None:
        draft, lamp = await _ready(drafts, platform)
        draft = await drafts.edit(draft, manual_discount="5.50", manual_discount_reason="Phone order goodwill")
        response = await drafts.send(draft)
        assert response.status_code == 200, response.text
        sent = response.json()
        total = draft["preview"]["total_amount"]
        assert sent["total_amount"] == total and draft["preview"]["discount"] == "5.50"
        # What payments reads to charge it.
        order = (await harness.client.get(f"/internal/orders/{sent['order_id']}", headers=service_headers)).json()
        assert (order["total_amount"], order["status"]) == (total, "pending")
        assert order["owner_id"] != order.get("user_id")
        await harness.drain()
        placed = harness.published("order.placed")[-1].data
        assert (placed["order_id"], placed["total_amount"], placed["email"]) == (
            sent["order_id"], total, "new.buyer@example.com")
        mailed = harness.published("draft_order.sent")[-1].data
        assert mailed["payment_url"] == sent["payment_url"]
        token = httpx.URL(sent["payment_url"]).params["token"]
        assert payment_links.verify(orders_settings.service_token, uuid.UUID(sent["order_id"]), token)
        assert not payment_links.verify(orders_settings.service_token, uuid.uuid4(), token)
        # The draft is kept, sent, and no longer changes.
        read = await drafts.get(draft)
        assert (read["status"], read["order_number"]) == ("sent", sent["order_number"])
        assert_error(await drafts.add(draft, product_id=lamp["id"]), 409, "DRAFT_ALREADY_SENT")

    async def test_sending_twice_is_one_order(self, harness: ServiceHarness, drafts: Drafts,
                                              platform: FakePlatform) -> None:
        draft, _ = await _ready(drafts, platform)
        first, second = await drafts.send(draft), await drafts.send(draft)
        assert first.status_code == second.status_code == 200
        assert first.json()["order_id"] == second.json()["order_id"]
        assert first.json()["payment_url"] == second.json()["payment_url"]
        await harness.drain()
        assert len(harness.published("order.placed")) == 1
        assert len(harness.published("draft_order.sent")) == 1

    @pytest.mark.databases("sqlite", "postgres", why="parallel sends against the database's row lock")
    async def test_parallel_sends_make_one_order(self, harness: ServiceHarness, drafts: Drafts,
                                                 platform: FakePlatform) -> None:
        draft, _ = await _ready(drafts, platform)
        answers = await asyncio.gather(*(drafts.send(draft) for _ in range(5)))
        assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
        assert len({a.json()["order_id"] for a in answers}) == 1
        await harness.drain()
        assert len(harness.published("order.placed")) == 1

    async def test_an_empty_draft_or_one_without_an_address_is_not_sent(
            self, drafts: Drafts, platform: FakePlatform) -> None:
        draft = await drafts.created(email="a@example.com")
        assert_error(await drafts.send(draft), 400, "DRAFT_EMPTY")
        await drafts.added(draft, product_id=platform.product()["id"])
        assert_error(await drafts.send(draft), 400, "ADDRESS_REQUIRED")

    async def test_an_existing_customer_owns_the_order(self, drafts: Drafts, platform: FakePlatform,
                                                       customer: Customer) -> None:
        draft, _ = await _ready(drafts, platform, user_id=str(customer.owner_id))
        sent = (await drafts.send(draft)).json()
        order = await customer.order(sent["order_id"])
        assert (order["total_amount"], order["status"]) == (draft["preview"]["total_amount"], "pending")
