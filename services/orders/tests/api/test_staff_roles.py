"""Orders' staff operations by role: status changes are support's; every customer's orders
are read by support and finance, not by a merchandiser."""

from __future__ import annotations

import uuid
from decimal import Decimal

from atelier_common.contracts.payments import OrderPaid, PaymentFailed, PaymentRefunded
from atelier_testing.staff import assert_staff_roles

EXPECTED = {("POST", "/api/v1/orders/{order_id}/status"): {"support"},
            ("GET", "/api/v1/staff/orders"): {"support", "finance"},
            # What an integrator pulls: the paid orders' feed, a period's invoices and credit notes.
            ("GET", "/api/v1/staff/orders/paid"): {"support", "finance"},
            ("GET", "/api/v1/staff/invoices"): {"support", "finance"},
            ("GET", "/api/v1/staff/credit-notes"): {"support", "finance"},
            ("GET", "/api/v1/staff/orders/{order_id}"): {"support", "finance"},
            ("GET", "/api/v1/staff/reports/daily"): {"support", "finance"},
            # An order's invoice and credit notes.
            ("GET", "/api/v1/staff/orders/{order_id}/invoice"): {"support", "finance"},
            ("GET", "/api/v1/staff/orders/{order_id}/invoice.pdf"): {"support", "finance"},
            ("GET", "/api/v1/staff/orders/{order_id}/credit-notes/{number}.pdf"): {"support", "finance"},
            ("GET", "/api/v1/staff/orders/{order_id}/supplementary-invoices/{number}.pdf"): {"support", "finance"},
            # Returns: support opens, receives and rejects them; support and finance read them.
            ("POST", "/api/v1/staff/orders/{order_id}/returns"): {"support"},
            ("POST", "/api/v1/staff/orders/{order_id}/claims"): {"support", "finance"},
            ("GET", "/api/v1/staff/returns"): {"support", "finance"},
            ("GET", "/api/v1/staff/returns/{return_id}"): {"support", "finance"},
            ("POST", "/api/v1/staff/returns/{return_id}/approve"): {"support"},
            ("POST", "/api/v1/staff/returns/{return_id}/receive"): {"support", "finance"},
            ("POST", "/api/v1/staff/returns/{return_id}/reject"): {"support"},
            # Exchanges: support preview and open them (received as returns are).
            ("POST", "/api/v1/staff/orders/{order_id}/exchanges/preview"): {"support"},
            ("POST", "/api/v1/staff/orders/{order_id}/exchanges"): {"support"},
            # Order edits: support and finance preview, confirm and read them.
            ("POST", "/api/v1/staff/orders/{order_id}/edits/preview"): {"support", "finance"},
            ("POST", "/api/v1/staff/orders/{order_id}/edits"): {"support", "finance"},
            ("GET", "/api/v1/staff/orders/{order_id}/edits"): {"support", "finance"},
            # Promotions and discount codes: merchandisers (and admins) manage them.
            ("GET", "/api/v1/staff/promotions"): {"merchandiser"},
            ("GET", "/api/v1/staff/promotions/{promotion_id}"): {"merchandiser"},
            ("POST", "/api/v1/staff/promotions"): {"merchandiser"},
            ("PATCH", "/api/v1/staff/promotions/{promotion_id}"): {"merchandiser"},
            ("DELETE", "/api/v1/staff/promotions/{promotion_id}"): {"merchandiser"},
            # Draft orders: support takes an order for a customer.
            ("GET", "/api/v1/staff/draft-orders"): {"support"},
            ("POST", "/api/v1/staff/draft-orders"): {"support"},
            ("GET", "/api/v1/staff/draft-orders/{draft_id}"): {"support"},
            ("PATCH", "/api/v1/staff/draft-orders/{draft_id}"): {"support"},
            ("POST", "/api/v1/staff/draft-orders/{draft_id}/lines"): {"support"},
            ("PATCH", "/api/v1/staff/draft-orders/{draft_id}/lines/{line_id}"): {"support"},
            ("DELETE", "/api/v1/staff/draft-orders/{draft_id}/lines/{line_id}"): {"support"},
            ("POST", "/api/v1/staff/draft-orders/{draft_id}/send"): {"support"}}


async def test_orders_staff_operations_by_role(harness, test_keys) -> None:
    await assert_staff_roles(harness.app, harness.client, test_keys, EXPECTED)


async def test_every_customers_orders_are_listed_by_support_and_finance_only(harness, test_keys) -> None:
    for role, status in (("support", 200), ("finance", 200), ("admin", 200), ("merchandiser", 403)):
        response = await harness.client.get("/api/v1/orders", params={"all": "true"},
                                            headers=test_keys.staff_headers(role))
        assert response.status_code == status, (role, response.text)


async def test_a_status_change_writes_its_audit_row_and_a_refused_one_none(harness, customer, platform,
                                                                          test_keys) -> None:
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    url = f"/api/v1/orders/{order['id']}/status"
    refused = await harness.client.post(url, json={"status": "awaiting_payment"},
                                        headers=test_keys.staff_headers("merchandiser"))
    assert refused.status_code == 403
    moved = await harness.client.post(url, json={"status": "awaiting_payment", "note": "checked by phone"},
                                      headers=test_keys.staff_headers("support"))
    assert moved.status_code == 200, moved.text
    await harness.drain()
    [row] = [e.data for e in harness.published("staff.action_recorded")]
    assert (row["action"], row["target_id"], row["actor_roles"]) == ("order.status_change", order["id"], ["support"])
    assert row["before"]["status"] == "pending" and row["after"]["status"] == "awaiting_payment"
    assert row["reason"] == "checked by phone"


class TestStaffOrderSearch:
    URL = "/api/v1/staff/orders"

    async def _orders(self, customer, anonymous, platform) -> tuple[dict, dict]:
        lamp = platform.product()
        mine = await customer.placed(items=[{"product_id": lamp["id"]}],
                                     shipping_address_id=platform.address(customer.owner_id))
        guest = await anonymous.placed(items=[{"product_id": lamp["id"]}], email="Guest@Example.com",
                                       shipping_address_id=platform.address(anonymous.owner_id))
        return mine, guest

    async def test_finds_orders_by_email_number_customer_status_and_date(self, harness, customer, anonymous,
                                                                         platform, test_keys) -> None:
        mine, guest = await self._orders(customer, anonymous, platform)
        support = test_keys.staff_headers("support")

        async def found(**params: str) -> list[str]:
            response = await harness.client.get(self.URL, params=params, headers=support)
            assert response.status_code == 200, response.text
            return [o["id"] for o in response.json()["results"]]

        assert await found() == [guest["id"], mine["id"]]  # newest first
        assert await found(email="ADA@example.com") == [mine["id"]]  # the signed-in buyer's token email
        assert await found(email="guest@example.com") == [guest["id"]]  # typed at checkout, any case
        assert await found(number=guest["order_number"]) == [guest["id"]]
        assert await found(customer=str(customer.owner_id)) == [mine["id"]]
        assert await found(status="pending", storefront="default") == [guest["id"], mine["id"]]
        assert await found(status="paid") == []
        assert await found(created_after="2100-01-01T00:00:00Z") == []
        assert await found(created_before="2100-01-01T00:00:00Z", limit="1") == [guest["id"]]
        page = (await harness.client.get(self.URL, params={"email": "ada@example.com"}, headers=support)).json()
        assert page["count"] == 1 and page["results"][0]["email"] == "ada@example.com"
        assert page["results"][0]["user_id"] == str(customer.owner_id)

    async def test_a_merchandiser_or_customer_cannot_search(self, harness, test_keys) -> None:
        for headers in (test_keys.staff_headers("merchandiser"), test_keys.user_headers()):
            response = await harness.client.get(self.URL, headers=headers)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "PERMISSION_DENIED"


async def test_staff_read_any_customers_order_with_lines_and_history(harness, customer, platform, test_keys) -> None:
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    response = await harness.client.get(f"/api/v1/staff/orders/{order['id']}",
                                        headers=test_keys.staff_headers("finance"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["email"], body["user_id"]) == (order["id"], "ada@example.com", str(customer.owner_id))
    assert len(body["items"]) == 1 and [h["status"] for h in body["status_history"]] == ["pending"]
    missing = await harness.client.get(f"/api/v1/staff/orders/{uuid.uuid4()}", headers=test_keys.staff_headers())
    assert missing.status_code == 404


async def test_the_order_picture_carries_its_payments_refunds_and_events(harness, customer, platform,
                                                                        test_keys) -> None:
    """Orders' read model of payments' events, no call to payments per read."""
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    order_id, payment_id, refund_id = uuid.UUID(order["id"]), uuid.uuid4(), uuid.uuid4()
    await harness.deliver(PaymentFailed(order_id=order_id, payment_id=uuid.uuid4(), reason="card declined"))
    await harness.deliver(OrderPaid(order_id=order_id, owner_id=customer.owner_id, amount=Decimal(order["total_amount"]),
                                    currency=order["currency"], payment_id=payment_id, provider="local"))
    await harness.deliver(PaymentRefunded(order_id=order_id, payment_id=payment_id, amount=Decimal("1.50"),
                                          currency=order["currency"], refund_id=refund_id, is_full=False,
                                          reason="scratched"))
    body = (await harness.client.get(f"/api/v1/staff/orders/{order_id}", headers=test_keys.staff_headers("support"))
            ).json()
    assert [(p["kind"], p["reason"]) for p in body["payments"]] == [("payment_failed", "card declined"),
                                                                    ("payment", None)]
    assert body["payments"][1]["amount"] == order["total_amount"] and body["payments"][1]["provider"] == "local"
    [refund] = body["refunds"]
    assert (refund["refund_id"], refund["amount"], refund["reason"]) == (str(refund_id), "1.50", "scratched")
    assert [e["status"] for e in body["events"]][:1] == ["pending"] and len(body["events"]) >= 3
    assert body["events"] == body["status_history"] and body["version"]


async def test_a_status_change_from_a_stale_form_is_refused_with_the_current_state(harness, customer, platform,
                                                                                  test_keys) -> None:
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    support = test_keys.staff_headers("support")
    read = (await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=support)).json()
    url = f"/api/v1/orders/{order['id']}/status"
    moved = await harness.client.post(url, json={"status": "awaiting_payment", "expected_version": read["version"]},
                                      headers=support)
    assert moved.status_code == 200, moved.text
    stale = await harness.client.post(url, json={"status": "cancelled"}, headers={**support, "If-Match": read["version"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "STALE_VERSION"
    assert stale.json()["error"]["details"]["current"]["status"] == "awaiting_payment"
    current = (await harness.client.get(f"/api/v1/staff/orders/{order['id']}", headers=support)).json()
    assert current["status"] == "awaiting_payment" and current["version"] == stale.json()["error"]["details"]["version"]


async def test_the_staff_picture_offers_the_moves_allowed_now_and_the_refund_state(harness, customer, platform,
                                                                                   test_keys) -> None:
    """The console offers only these moves, and reads a live order refunded in full as refunded."""
    lamp = platform.product()
    order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                  shipping_address_id=platform.address(customer.owner_id))
    support = test_keys.staff_headers("support")
    url = f"/api/v1/staff/orders/{order['id']}"
    body = (await harness.client.get(url, headers=support)).json()
    assert body["allowed_transitions"] == ["awaiting_payment", "cancelled", "paid", "rejected"]
    assert body["shipping_address"] and body["refund_state"] == "none"
    order_id, payment_id = uuid.UUID(order["id"]), uuid.uuid4()
    total = Decimal(order["total_amount"])
    await harness.deliver(OrderPaid(order_id=order_id, owner_id=customer.owner_id, amount=total,
                                    currency=order["currency"], payment_id=payment_id, provider="local"))
    body = (await harness.client.get(url, headers=support)).json()
    assert body["allowed_transitions"] == ["cancelled", "processing"]  # goods: no "completed"
    await harness.deliver(PaymentRefunded(order_id=order_id, payment_id=payment_id, amount=Decimal("1.00"),
                                          currency=order["currency"], refund_id=uuid.uuid4(), is_full=False))
    assert (await harness.client.get(url, headers=support)).json()["refund_state"] == "partial"
    await harness.deliver(PaymentRefunded(order_id=order_id, payment_id=payment_id, amount=total - Decimal("1.00"),
                                          currency=order["currency"], refund_id=uuid.uuid4(), is_full=True))
    body = (await harness.client.get(url, headers=support)).json()
    assert (body["status"], body["refund_state"]) == ("paid", "full")
