"""return.received: the return's refund is made once per return, names the return in its
`payment.refunded`, and never takes more than remains of the payment, a staff refund at the same
time included."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.contracts.orders import ReturnLine, ReturnReceived
from atelier_common.events.envelope import Envelope

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def _received(order: dict[str, Any], amount: str, return_id: uuid.UUID | None = None) -> ReturnReceived:
    return ReturnReceived(return_id=return_id or uuid.uuid4(), number="RET-20261127-ABC123", order_id=order["id"],
                          order_number="ORD-20261126-NNKSU0", owner_id=uuid.UUID(order["owner_id"]),
                          amount=Decimal(amount), currency="USD",
                          items=[ReturnLine(order_item_id=uuid.uuid4(), product_id=uuid.uuid4(), sku="LAMP",
                                            quantity=1, resaleable=True)])


async def _staff_refund(api, order_id: str, amount: str) -> Any:
    return await api.client.post("/api/v1/payments/refunds", headers=api.keys.staff_headers("finance"),
                                 json={"order_id": order_id, "amount": amount, "reason": "goodwill"})


class TestReturnRefund:
    async def test_a_return_is_refunded_once_and_named_in_the_refund(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00")
        event = _received(order, "25.00")
        envelope = await api.h.deliver(event)
        await api.h.deliver(event, envelope_id=envelope.id)  # redelivered
        await api.h.deliver(_received(order, "25.00", event.return_id))  # a second event of the same return
        [refunded] = await api.outbox("payment.refunded")
        assert (refunded["amount"], refunded["return_id"], refunded["is_full"]) == ("25.00", str(event.return_id),
                                                                                   False)
        assert refunded["reason"] == "Return RET-20261127-ABC123"
        assert api.h.bus.dead_letters == []

    async def test_an_exchanges_difference_is_refunded_once_and_nothing_when_none_is_owed(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00")
        owed = _received(order, "12.50").model_copy(update={"kind": "exchange"})
        envelope = await api.h.deliver(owed)
        await api.h.deliver(owed, envelope_id=envelope.id)  # redelivered
        await api.h.deliver(owed)  # a second event of the same exchange
        await api.h.deliver(_received(order, "0.00").model_copy(update={"kind": "exchange"}))  # the customer paid
        [refunded] = await api.outbox("payment.refunded")
        assert (refunded["amount"], refunded["return_id"]) == ("12.50", str(owed.return_id))

    async def test_never_more_than_remains(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00")
        assert (await _staff_refund(api, order["id"], "50.00")).status_code == 201
        await api.h.deliver(_received(order, "25.00"))
        amounts = [e["amount"] for e in await api.outbox("payment.refunded")]
        assert amounts == ["50.00", "10.00"]
        await api.h.deliver(_received(order, "5.00"))  # nothing left: no refund
        assert len(await api.outbox("payment.refunded")) == 2
        assert [p.status for p in await api.payments(order["id"])] == ["refunded"]

    async def test_an_event_with_the_old_names_is_refunded(self, api) -> None:
        """An event written before the rename (`lines`, `item_id`, `restock`), still in a queue."""
        order, _ = await api.paid_locally(total="60.00")
        data = _received(order, "25.00").model_dump(mode="json")
        data["lines"] = [{"item_id": line["order_item_id"], "product_id": line["product_id"], "sku": line["sku"],
                          "quantity": line["quantity"], "restock": line["resaleable"]} for line in data.pop("items")]
        await api.h.bus.publish([Envelope(type=ReturnReceived.type, producer="orders", data=data)])
        await api.h.drain()
        assert [e["amount"] for e in await api.outbox("payment.refunded")] == ["25.00"]
        assert api.h.bus.dead_letters == []

    async def test_a_return_of_nothing_refunds_nothing(self, api) -> None:
        order, _ = await api.paid_locally(total="60.00")
        await api.h.deliver(_received(order, "0.00"))
        assert await api.outbox("payment.refunded") == []


class TestRefundRacingAReturn:
    @pytest.mark.databases("postgres", why="needs PostgreSQL: concurrent transactions and row locks")
    async def test_a_staff_refund_and_a_return_at_once_never_refund_more_than_paid(self, api,
                                                                                     db_backend: str) -> None:
        for _ in range(5):
            order, _ = await api.paid_locally(total="60.00")
            staff, _ = await asyncio.gather(_staff_refund(api, order["id"], "40.00"),
                                            api.h.deliver(_received(order, "30.00")))
            refunds = [e for e in await api.outbox("payment.refunded") if e["order_id"] == order["id"]]
            total = sum((Decimal(e["amount"]) for e in refunds), Decimal("0"))
            assert total <= Decimal("60.00")
            assert len([e for e in refunds if e["return_id"]]) == 1
            # Whichever came first took its amount whole; the other what was left (staff: refused).
            if staff.status_code == 201:
                assert sorted(e["amount"] for e in refunds) == ["20.00", "40.00"]
            else:
                assert staff.json()["error"]["code"] == "REFUND_EXCEEDS_PAYMENT"
