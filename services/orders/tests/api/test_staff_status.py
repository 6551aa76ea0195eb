"""POST /api/v1/orders/{id}/status (staff): allowed transitions only, with tracking and timestamps."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.contracts.identity import StorefrontPolicies
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, Staff, assert_error, statuses


async def _physical_order(customer: Customer, platform: FakePlatform) -> dict:
    lamp = platform.product()
    return await customer.placed(items=[{"product_id": lamp["id"]}],
                                 shipping_address_id=platform.address(customer.owner_id))


class TestStaffTransitions:
    async def test_the_whole_fulfilment_chain_with_tracking(self, harness: ServiceHarness, customer: Customer,
                                                            staff: Staff, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await staff.moved(order["id"], "awaiting_payment", "paid", "processing")
        shipped = await staff.moved(order["id"], "shipped", tracking_number="TRK-123", note="DHL")
        assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "TRK-123")
        assert shipped["shipped_at"] is not None and shipped["delivered_at"] is None
        assert shipped["status_history"][-1]["note"] == "DHL"
        delivered = await staff.moved(order["id"], "delivered")
        assert delivered["delivered_at"] is not None
        returned = await staff.moved(order["id"], "returned")
        assert statuses(returned) == ["pending", "awaiting_payment", "paid", "processing", "shipped", "delivered",
                                      "returned"]
        assert {h["actor"] for h in returned["status_history"][1:]} == {"staff"}
        # The customer sees the same, tracking number included.
        assert (await customer.order(order["id"]))["tracking_number"] == "TRK-123"
        await harness.drain()
        changes = [e.data for e in harness.published("order.status_changed")]
        assert [c["new_status"] for c in changes][-3:] == ["shipped", "delivered", "returned"]
        assert changes[-3]["tracking_number"] == "TRK-123"

    @pytest.mark.parametrize(("path", "target"), [
        ((), "shipped"),
        ((), "delivered"),
        (("awaiting_payment",), "processing"),
        (("paid", "processing", "shipped"), "returned"),
        (("paid",), "completed"),  # goods are shipped, not completed
        (("paid", "processing", "shipped", "delivered", "returned"), "pending"),
    ])
    async def test_a_step_outside_the_machine_is_409(self, customer: Customer, staff: Staff,
                                                     platform: FakePlatform, path: tuple[str, ...],
                                                     target: str) -> None:
        order = await _physical_order(customer, platform)
        before = await staff.moved(order["id"], *path) if path else order
        error = assert_error(await staff.set_status(order["id"], target, tracking_number="NOPE"),
                             409, "INVALID_STATUS_TRANSITION")
        assert (error["details"]["from"], error["details"]["to"]) == (before["status"], target)
        assert target not in error["details"]["allowed"]
        after = await customer.order(order["id"])
        assert (after["status"], after["tracking_number"]) == (before["status"], None)
        assert after["status_history"] == before["status_history"]

    async def test_a_storefront_that_ships_with_tracking_refuses_a_shipment_without_one(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform) -> None:
        add_storefront(harness.app, make_storefront("tracked", currency="USD",
                                                    policies=StorefrontPolicies(tracking_number_required=True)))
        lamp = platform.product()
        order = await customer.on("tracked").placed(items=[{"product_id": lamp["id"]}],
                                                     shipping_address_id=platform.address(customer.owner_id))
        await staff.moved(order["id"], "awaiting_payment", "paid")
        # An illegal move is refused as such, not for its tracking number.
        assert_error(await staff.set_status(order["id"], "shipped"), 409, "INVALID_STATUS_TRANSITION")
        await staff.moved(order["id"], "processing")
        error = assert_error(await staff.set_status(order["id"], "shipped"), 400, "VALIDATION_ERROR")
        assert error["details"] == {"fields": {"tracking_number": ["Required to ship"]}}
        assert (await customer.order(order["id"]))["status"] == "processing"
        staff_view = await staff.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)
        assert staff_view.json()["tracking_number_required"] is True
        shipped = await staff.moved(order["id"], "shipped", tracking_number="TRK-9")
        assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "TRK-9")
        # Elsewhere (the default storefront here) an order may ship without one.
        plain = await _physical_order(customer, platform)
        assert (await staff.moved(plain["id"], "awaiting_payment", "paid", "processing", "shipped"))["status"] == "shipped"
        plain_view = await staff.client.get(f"/api/v1/staff/orders/{plain['id']}", headers=staff.headers)
        assert plain_view.json()["tracking_number_required"] is False

    async def test_refunded_is_for_payments_to_say(self, customer: Customer, staff: Staff,
                                                   platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await staff.moved(order["id"], "paid", "cancelled")
        error = assert_error(await staff.set_status(order["id"], "refunded"), 409, "INVALID_STATUS_TRANSITION")
        assert "payment" in error["message"]

    async def test_staff_cancel_follows_the_cancel_rules(self, harness: ServiceHarness, customer: Customer,
                                                         staff: Staff, platform: FakePlatform) -> None:
        order = await _physical_order(customer, platform)
        await staff.moved(order["id"], "paid", "processing")
        cancelled = await staff.moved(order["id"], "cancelled", note="out of stock at the quarry")
        assert cancelled["status_history"][-1]["note"] == "out of stock at the quarry"
        await harness.drain()
        [event] = [e.data for e in harness.published("order.cancelled")]
        assert event["was_paid"] is True

        other = await _physical_order(customer, platform)
        await staff.moved(other["id"], "paid", "processing", "shipped")
        assert_error(await staff.set_status(other["id"], "cancelled"), 400, "ORDER_NOT_CANCELLABLE")

    async def test_a_digital_order_completes_but_never_ships(self, customer: Customer, staff: Staff,
                                                             platform: FakePlatform) -> None:
        pack = platform.product(kind="credit_pack")
        order = await customer.placed(items=[{"product_id": pack["id"]}])
        await staff.moved(order["id"], "paid")
        assert_error(await staff.set_status(order["id"], "processing"), 409, "INVALID_STATUS_TRANSITION")
        assert (await staff.moved(order["id"], "completed"))["status"] == "completed"

    async def test_unknown_order_unknown_status_and_callers(self, harness: ServiceHarness, customer: Customer,
                                                            staff: Staff, platform: FakePlatform,
                                                            test_keys: TestKeys) -> None:
        order = await _physical_order(customer, platform)
        assert_error(await staff.set_status(str(uuid.uuid4()), "paid"), 404, "NOT_FOUND")
        assert_error(await staff.set_status(order["id"], "lost"), 400, "VALIDATION_ERROR")
        path = f"/api/v1/orders/{order['id']}/status"
        assert_error(await harness.client.post(path, json={"status": "paid"}, headers=customer.headers),
                     403, "PERMISSION_DENIED")
        assert_error(await harness.client.post(path, json={"status": "paid"}, headers=test_keys.anon_headers()),
                     401, "AUTHENTICATION_REQUIRED")
        assert (await customer.order(order["id"]))["status"] == "pending"


class TestTheCallerNow:
    """A staff status change can refund (cancelling a paid order): identity says who the caller is at
    that moment, not the token alone, which lives on until `identity.token_revoked` arrives."""

    async def test_a_staffer_no_longer_support_moves_nothing(self, harness: ServiceHarness, customer: Customer,
                                                             platform: FakePlatform, test_keys: TestKeys) -> None:
        order = await _physical_order(customer, platform)
        await Staff(harness, test_keys.staff_headers()).moved(order["id"], "awaiting_payment", "paid")
        clerk = uuid.uuid4()
        support = Staff(harness, test_keys.user_headers(clerk, ("customer", "staff", "support")))
        platform.staff_directory.set(clerk, "merchandiser")
        assert_error(await support.set_status(order["id"], "cancelled"), 401, "INVALID_TOKEN")
        platform.staff_directory.set(clerk, "support")
        platform.staff_directory.unavailable = True
        assert_error(await support.set_status(order["id"], "cancelled"), 503, "SERVICE_UNAVAILABLE")
        assert (await customer.order(order["id"]))["status"] == "paid"
        assert clerk in platform.staff_directory.asked
