"""What an integrator's API key pulls from orders (docs/integrations.md): the paid orders' feed, each
order once from a cursor, which an ERP ships; and accounting's lists of the invoices and credit notes
issued in a period."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.payments import PaymentRefunded
from atelier_orders.settings import OrdersSettings
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import MIGRATIONS, Customer, FakePlatform, assert_error
from ..events.test_saga import paid

FEED = "/api/v1/staff/orders/paid"
# The feed's cursor compares (timestamp, uuid) pairs: each dialect stores both its own way.
pytestmark = pytest.mark.databases("sqlite", "postgres", why="the cursor's comparison and order differ by dialect")


@pytest.fixture
def settle_seconds() -> float:
    return 0.0


@pytest.fixture
def orders_settings(service_database: Any, test_settings_overrides: dict[str, Any],
                    settle_seconds: float) -> OrdersSettings:
    return OrdersSettings(database_url=service_database("orders", MIGRATIONS),
                          **{**test_settings_overrides, "paid_feed_settle_seconds": settle_seconds})


def _key(test_keys: TestKeys, roles: tuple[str, ...] = ("support",), storefronts: tuple[str, ...] = ("*",),
         ) -> dict[str, str]:
    return {"Authorization": f"Bearer {test_keys.api_key_token(uuid.uuid4(), roles, storefronts)}"}


async def _paid_order(harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> dict[str, Any]:
    lamp = platform.product(price="30.00")
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    await harness.deliver(paid(order))
    return order


async def _feed(harness: ServiceHarness, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await harness.client.get(FEED, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestPaidFeed:
    async def test_each_paid_order_once_in_the_order_paid_from_a_cursor(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        erp = _key(test_keys)
        assert await _feed(harness, erp) == {"results": [], "next_cursor": None, "has_more": False}
        unpaid = await customer.placed(items=[{"product_id": platform.product()["id"]}],
                                       shipping_address_id=platform.address(customer.owner_id))
        first = [await _paid_order(harness, customer, platform) for _ in range(3)]
        page = await _feed(harness, erp, limit=2)
        assert [o["id"] for o in page["results"]] == [o["id"] for o in first[:2]] and page["has_more"]
        assert page["results"][0]["paid_at"] <= page["results"][1]["paid_at"]
        rest = await _feed(harness, erp, limit=2, after=page["next_cursor"])
        assert [o["id"] for o in rest["results"]] == [first[2]["id"]] and not rest["has_more"]
        # Nothing new: the same cursor back, to ask again later.
        idle = await _feed(harness, erp, after=rest["next_cursor"])
        assert idle == {"results": [], "next_cursor": rest["next_cursor"], "has_more": False}
        # An order shipped since is not listed again; one paid since is.
        staff = test_keys.staff_headers()
        for status in ("processing", "shipped"):
            moved = await harness.client.post(f"/api/v1/orders/{first[0]['id']}/status", headers=staff,
                                              json={"status": status, "tracking_number": "1Z999AA10123456784"})
            assert moved.status_code == 200, moved.text
        later = await _paid_order(harness, customer, platform)
        newer = await _feed(harness, erp, after=rest["next_cursor"])
        assert [o["id"] for o in newer["results"]] == [later["id"]]
        assert unpaid["id"] not in {o["id"] for o in (await _feed(harness, erp, limit=100))["results"]}

    async def test_a_cursor_it_did_not_give_is_a_validation_error(self, harness: ServiceHarness,
                                                                 test_keys: TestKeys) -> None:
        for cursor in ("nonsense", "bm90fGF1dWlk", "MjAyNi0xMS0yNlQwMjoxNToyNXx4"):
            r = await harness.client.get(FEED, params={"after": cursor}, headers=_key(test_keys))
            assert_error(r, 400, "VALIDATION_ERROR")

    async def test_order_readers_only_and_a_keys_storefronts_only(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        order = await _paid_order(harness, customer, platform)
        assert_error(await harness.client.get(FEED, headers=_key(test_keys, ("merchandiser",))), 403,
                     "PERMISSION_DENIED")
        assert (await _feed(harness, _key(test_keys, storefronts=("outlet",))))["results"] == []
        found = await _feed(harness, _key(test_keys, ("finance",), ("default",)))
        assert [o["id"] for o in found["results"]] == [order["id"]]
        assert (await _feed(harness, _key(test_keys), storefront="outlet"))["results"] == []

    async def test_a_key_ships_what_it_pulled_with_the_carrier_and_tracking_number(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        await _paid_order(harness, customer, platform)
        erp = _key(test_keys)
        [order] = (await _feed(harness, erp))["results"]
        for body in ({"status": "processing"},
                     {"status": "shipped", "tracking_number": "1Z999AA10123456784", "note": "UPS"}):
            r = await harness.client.post(f"/api/v1/orders/{order['id']}/status", json=body, headers=erp)
            assert r.status_code == 200, r.text
        shipped = (await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=erp)).json()
        assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "1Z999AA10123456784")
        assert shipped["events"][-1]["note"] == "UPS"


class TestSettling:
    @pytest.fixture
    def settle_seconds(self) -> float:
        return 300.0

    async def test_an_order_shows_once_its_payment_has_settled(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        """`paid_at` is set before its transaction commits: the feed waits `paid_feed_settle_seconds`,
        so a cursor never passes an order whose payment is still committing."""
        await _paid_order(harness, customer, platform)
        assert (await _feed(harness, _key(test_keys)))["results"] == []


def _refunded(order: dict[str, Any], amount: str) -> PaymentRefunded:
    return PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal(amount),
                           currency=order["currency"], refund_id=uuid.uuid4(), is_full=False, reason="arrived broken")


class TestAccountingLists:
    async def test_a_months_invoices_and_credit_notes_with_their_pdfs(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, test_keys: TestKeys) -> None:
        accounting = _key(test_keys, ("finance",))
        orders = [await _paid_order(harness, customer, platform) for _ in range(2)]
        await harness.deliver(_refunded(orders[1], "5.00"))
        now = datetime.now(UTC)
        window = {"issued_after": (now - timedelta(days=1)).isoformat(),
                  "issued_before": (now + timedelta(days=1)).isoformat()}
        invoices = (await harness.client.get("/api/v1/staff/invoices", params=window, headers=accounting)).json()
        assert invoices["count"] == 2
        assert [i["order_id"] for i in invoices["results"]] == [o["id"] for o in orders]
        first = invoices["results"][0]
        assert (first["number"], first["total_amount"]) == ("INV-DEFAULT-000001", orders[0]["total_amount"])
        pdf = await harness.client.get(first["pdf_url"], headers=accounting)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        notes = (await harness.client.get("/api/v1/staff/credit-notes", params=window, headers=accounting)).json()
        [note] = notes["results"]
        assert (note["number"], note["invoice_number"], note["order_id"], note["amount"]) == (
            "CN-DEFAULT-000001", invoices["results"][1]["number"], orders[1]["id"], "5.00")
        assert note["reason"] == "arrived broken"
        cn = await harness.client.get(note["pdf_url"], headers=accounting)
        assert cn.status_code == 200 and cn.content.startswith(b"%PDF")
        # Another period, or a storefront the key may not touch, has none.
        past = {"issued_after": "2020-01-01T00:00:00Z", "issued_before": "2020-02-01T00:00:00Z"}
        for params, headers in ((past, accounting), (window, _key(test_keys, ("finance",), ("outlet",)))):
            for path in ("/api/v1/staff/invoices", "/api/v1/staff/credit-notes"):
                listed = (await harness.client.get(path, params=params, headers=headers)).json()
                assert (listed["count"], listed["results"]) == (0, [])

    async def test_order_readers_only_and_dates_with_their_offset(self, harness: ServiceHarness,
                                                                 test_keys: TestKeys) -> None:
        r = await harness.client.get("/api/v1/staff/invoices", headers=_key(test_keys, ("merchandiser",)))
        assert_error(r, 403, "PERMISSION_DENIED")
        r = await harness.client.get("/api/v1/staff/credit-notes", params={"issued_after": "2026-11-01T00:00:00"},
                                     headers=_key(test_keys, ("finance",)))
        assert_error(r, 400, "VALIDATION_ERROR")
