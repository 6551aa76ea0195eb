"""One INFO line per order placed, paid and refunded, with its number and storefront, once the
change committed (an order number was found in no log)."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

import pytest

from atelier_common.contracts.catalog import StockReserved
from atelier_common.contracts.payments import PaymentRefunded
from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform
from .test_saga import paid, physical_order

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


def _lines(caplog: pytest.LogCaptureFixture, number: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "atelier.orders" and getattr(r, "fields", {}).get("order_number") == number]


async def test_an_order_placed_paid_and_refunded_is_three_lines_by_its_number(
        harness: ServiceHarness, customer: Customer, platform: FakePlatform, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="atelier.orders"):
        refused = await customer.place(items=[{"product_id": platform.product(price="9.00")["id"], "quantity": 1}])
        assert refused.status_code == 400  # no address: nothing written, no line
        order = await physical_order(customer, platform)
        number, total = order["order_number"], Decimal(order["total_amount"])
        await harness.deliver(StockReserved(order_id=order["id"]))
        await harness.deliver(paid(order))
        await harness.deliver(paid(order))  # a second confirmation of the same money: no second line
        await harness.deliver(PaymentRefunded(order_id=order["id"], payment_id=uuid.uuid4(), amount=Decimal("5.00"),
                                              currency="USD", refund_id=uuid.uuid4(), total_refunded=Decimal("5.00"),
                                              is_full=False))
    assert len([r for r in caplog.records if r.name == "atelier.orders"]) == 3
    lines = _lines(caplog, number)
    assert [(r.levelname, r.getMessage()) for r in lines] == [
        ("INFO", f"order {number} placed on storefront default: {total} USD"),
        ("INFO", f"order {number} paid on storefront default: {total} USD"),
        ("INFO", f"order {number} partly refunded on storefront default: 5.00 USD")]
    fields = lines[0].fields  # type: ignore[attr-defined]  # the line's structured fields, an extra on the record
    assert fields == {"order_number": number, "order_id": order["id"], "storefront": "default",
                      "amount": str(total), "currency": "USD", "order_event": "placed"}

