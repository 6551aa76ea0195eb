"""Supplementary payments: what an edit of a paid order leaves due is charged on its own, through the
edit's payment link, keyed by the edit: paying the link twice (or a redelivered webhook) charges
once, an edit no longer waiting is not payable, a refused edit's payment is closed or given back,
and a later refund draws on the order's payment first, then on the edit's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from atelier_common import payment_links
from atelier_common.contracts.orders import OrderEdited, OrderEditLine, OrderEditRefused

from ..conftest import assert_error

pytestmark = pytest.mark.databases("sqlite", "postgres", why="an order's payments are settled under their row locks")

URLS = {"success_url": "http://shop.test/ok?session={CHECKOUT_SESSION_ID}", "cancel_url": "http://shop.test/no"}


async def paid_order(api, total: str = "60.00") -> dict[str, Any]:
    order, _ = await api.paid_locally(total=total)
    order["status"] = "paid"  # orders' copy moves on with order.paid
    return order


def link(api, edit: dict[str, Any], *, hours: int = 1) -> str:
    return payment_links.sign(api.orders.service_token, uuid.UUID(edit["id"]),
                              datetime.now(UTC) + timedelta(hours=hours))


async def start(api, order: dict[str, Any], edit: dict[str, Any], token: str | None = None) -> Any:
    _, stranger = api.anon()
    return await api.client.post("/api/v1/payments/checkout", headers=stranger, json={
        "order_id": order["id"], "edit_id": edit["id"], "payment_token": token or link(api, edit), **URLS})


async def pay(api, session_id: str) -> None:
    assert (await api.client.post(f"/api/dev/checkout/{session_id}/pay")).status_code == 303


class TestEditPayment:
    async def test_the_link_pays_the_difference_once(self, api) -> None:
        order = await paid_order(api)
        edit = api.orders.add_edit(order, amount_due="12.00")
        started = await start(api, order, edit)
        assert started.status_code == 200, started.text
        assert (started.json()["amount_due"], started.json()["status"]) == ("12.00", "requires_payment")
        session_id = started.json()["session_id"]
        await pay(api, session_id)
        await pay(api, session_id)  # a double click: one event
        [paid] = await api.outbox("order.edit_paid")
        assert (paid["edit_id"], paid["amount"], paid["order_id"]) == (edit["id"], "12.00", order["id"])
        assert len(await api.outbox("order.paid")) == 1  # the order's own, not the edit's
        payments = await api.payments(order["id"])
        assert sorted((str(p.edit_id or ""), p.amount, p.status, p.pays_order) for p in payments) == [
            ("", Decimal("60.00"), "succeeded", True), (edit["id"], Decimal("12.00"), "succeeded", True)]
        entries = [e for e in await api.ledger() if e.kind == "payment" and e.order_id == uuid.UUID(order["id"])]
        assert sorted(e.amount for e in entries) == [Decimal("12.00"), Decimal("60.00")]
        # Paid: the link starts nothing more, even while orders still says it waits.
        assert_error(await start(api, order, edit), 409, "ORDER_NOT_PAYABLE")

    async def test_two_pages_of_one_edit_both_paid_charge_once(self, api) -> None:
        order = await paid_order(api)
        edit = api.orders.add_edit(order, amount_due="12.00")
        first, second = (await start(api, order, edit)).json(), (await start(api, order, edit)).json()
        await pay(api, first["session_id"])
        await pay(api, second["session_id"])
        assert len(await api.outbox("order.edit_paid")) == 1
        [returned] = await api.outbox("payment.returned")  # the second page's money goes back
        assert (returned["payment_id"], returned["amount"], returned["is_full"]) == (second["payment_id"], "12.00",
                                                                                    True)
        assert await api.outbox("payment.refunded") == []

    async def test_only_the_edits_own_link_pays_it_and_only_while_it_waits(self, api) -> None:
        order = await paid_order(api)
        edit = api.orders.add_edit(order, amount_due="12.00")
        order_token = payment_links.sign(api.orders.service_token, uuid.UUID(order["id"]),
                                         datetime.now(UTC) + timedelta(hours=1))
        assert_error(await start(api, order, edit, order_token), 404, "NOT_FOUND")
        assert_error(await start(api, order, api.orders.add_edit(order), link(api, edit)), 404, "NOT_FOUND")
        assert_error(await start(api, order, edit, link(api, edit, hours=-1)), 404, "NOT_FOUND")
        applied = api.orders.add_edit(order, status="refused")
        assert_error(await start(api, order, applied), 409, "ORDER_NOT_PAYABLE")
        # The edit's link does not pay the order itself.
        _, stranger = api.anon()
        assert_error(await api.client.post("/api/v1/payments/checkout", headers=stranger, json={
            "order_id": order["id"], "payment_token": link(api, edit), **URLS}), 404, "NOT_FOUND")

    async def test_a_refused_edit_closes_its_page_and_gives_back_what_it_took(self, api) -> None:
        order = await paid_order(api)
        open_edit, paid_edit = api.orders.add_edit(order), api.orders.add_edit(order, amount_due="7.50")
        page = (await start(api, order, open_edit)).json()
        await pay(api, (await start(api, order, paid_edit)).json()["session_id"])
        for edit in (open_edit, paid_edit):
            refused = OrderEditRefused(edit_id=edit["id"], edit_version=1, order_id=order["id"],
                                       order_number=order["order_number"], lines=[])
            envelope = await api.h.deliver(refused)
            await api.h.deliver(refused, envelope_id=envelope.id)
        [returned] = await api.outbox("payment.returned")
        assert (returned["amount"], returned["is_full"]) == ("7.50", True)
        by_edit = {str(p.edit_id): p for p in await api.payments(order["id"]) if p.edit_id}
        assert (by_edit[open_edit["id"]].status, by_edit[paid_edit["id"]].status) == ("canceled", "refunded")
        # The closed page no longer pays; the order's own payment is untouched.
        assert (await api.client.post(f"/api/dev/checkout/{page['session_id']}/pay")).status_code == 409
        assert await api.outbox("payment.refunded") == []

    async def test_a_refund_draws_on_the_order_then_the_edit_and_the_order_is_refunded_in_full_last(
            self, api) -> None:
        order = await paid_order(api)
        edit = api.orders.add_edit(order, amount_due="12.00")
        await pay(api, (await start(api, order, edit)).json()["session_id"])

        def edited(refund: str) -> OrderEdited:
            return OrderEdited(edit_id=uuid.uuid4(), edit_version=2, order_id=order["id"],
                               order_number=order["order_number"], owner_id=uuid.UUID(order["owner_id"]),
                               reason="Fewer", old_total=Decimal("72.00"), new_total=Decimal("72.00") - Decimal(refund),
                               refund=Decimal(refund), currency="USD",
                               lines=[OrderEditLine(order_item_id=uuid.uuid4(), product_id=uuid.uuid4(), sku="LAMP",
                                                    old_quantity=2, new_quantity=1)])

        first = edited("65.00")
        await api.h.deliver(first)
        await api.h.deliver(first)  # said again: refunded once
        refunds = await api.outbox("payment.refunded")
        assert sorted((r["amount"], r["is_full"]) for r in refunds) == [("5.00", False), ("60.00", False)]
        assert {r["return_id"] for r in refunds} == {str(first.edit_id)}
        await api.h.deliver(edited("7.00"))
        last = (await api.outbox("payment.refunded"))[-1]
        assert (last["amount"], last["is_full"]) == ("7.00", True)

    async def test_staff_see_and_refund_what_the_order_and_its_edits_paid(self, api) -> None:
        order = await paid_order(api)
        edit = api.orders.add_edit(order, amount_due="12.00")
        await pay(api, (await start(api, order, edit)).json()["session_id"])
        finance = api.keys.staff_headers("finance")
        picture = (await api.client.get(f"/api/v1/staff/payments/orders/{order['id']}", headers=finance)).json()
        assert picture["refundable"] == "72.00"
        assert sorted(p["edit_id"] or "" for p in picture["payments"]) == ["", edit["id"]]
        made = await api.client.post("/api/v1/payments/refunds", headers=finance, json={
            "order_id": order["id"], "amount": "65.00", "reason": "goodwill", "expected_refundable": "72.00"})
        assert made.status_code == 201, made.text
        assert (made.json()["total_refunded"], made.json()["refundable"]) == ("65.00", "7.00")
        assert_error(await api.client.post("/api/v1/payments/refunds", headers=finance, json={
            "order_id": order["id"], "amount": "7.01", "reason": "too much"}), 400, "REFUND_EXCEEDS_PAYMENT")
        assert sorted(r["amount"] for r in await api.outbox("payment.refunded")) == ["5.00", "60.00"]
