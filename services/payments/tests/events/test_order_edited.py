"""order.edited: an edit's refund is made once per edit id, names the edit in its
`payment.refunded` (`return_id`), and never takes more than remains of the payment; an edit of
an unpaid order (refund 0) asks for nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.orders import OrderEdited, OrderEditLine

from .test_return_received import _staff_refund

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def _edited(order: dict[str, Any], refund: str, edit_id: uuid.UUID | None = None) -> OrderEdited:
    return OrderEdited(edit_id=edit_id or uuid.uuid4(), edit_version=1, order_id=order["id"],
                       order_number="ORD-20261126-NNKSU0", owner_id=uuid.UUID(order["owner_id"]),
                       reason="Customer asked by phone", old_total=Decimal("60.00"),
                       new_total=Decimal("60.00") - Decimal(refund), refund=Decimal(refund), currency="USD",
                       lines=[OrderEditLine(order_item_id=uuid.uuid4(), product_id=uuid.uuid4(), sku="LAMP",
                                            old_quantity=2, new_quantity=1)])


class TestEditRefund:
    async def test_an_edit_is_refunded_once_and_named_in_the_refund(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00")
        event = _edited(order, "30.00")
        envelope = await api.h.deliver(event)
        await api.h.deliver(event, envelope_id=envelope.id)  # redelivered
        await api.h.deliver(_edited(order, "30.00", event.edit_id))  # a second event of the same edit
        [refunded] = await api.outbox("payment.refunded")
        assert (refunded["amount"], refunded["return_id"], refunded["is_full"]) == ("30.00", str(event.edit_id),
                                                                                   False)
        assert refunded["reason"] == "Order edit v1: Customer asked by phone"
        assert api.h.bus.dead_letters == []

    async def test_never_more_than_remains_and_nothing_for_an_unpaid_edit(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00")
        assert (await _staff_refund(api, order["id"], "50.00")).status_code == 201
        await api.h.deliver(_edited(order, "30.00"))
        assert [e["amount"] for e in await api.outbox("payment.refunded")] == ["50.00", "10.00"]
        await api.h.deliver(_edited(order, "0.00"))
        assert len(await api.outbox("payment.refunded")) == 2
