"""`_shared.transition`: the one guarded move of an order, whoever asks for it (no database: a
session that only collects what is added and the statements it is asked to run)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from atelier_common.columns import table_of
from atelier_orders import domain
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.errors import InvalidStatusTransition
from atelier_orders.models import OrderStatusHistory
from atelier_orders.rows import LockedOrder
from atelier_orders.service._shared import transition

S = OrderStatus


class _Session:
    def __init__(self) -> None:
        self.info: dict[str, Any] = {"service": "orders"}
        self.bind = None
        self.added: list[Any] = []
        self.no_autoflush = contextlib.nullcontext()

    def add(self, row: Any) -> None:
        self.added.append(row)

    def in_nested_transaction(self) -> bool:
        return False

    async def execute(self, statement: Any, params: dict[str, Any]) -> None:
        # A history entry is written as a statement, not added: kept as a row of its table.
        if getattr(statement, "table", None) is table_of(OrderStatusHistory) and statement.is_insert:
            self.added.append(OrderStatusHistory(**params))

    def of(self, kind: type) -> list[Any]:
        return [row for row in self.added if isinstance(row, kind)]

    def events(self) -> list[Any]:
        """The events queued for the outbox (written at the COMMIT, which this session never has)."""
        return [envelope for envelope, _ in self.info.get("outbox_envelopes", ())]


def _session() -> Any:
    """Typed as Any: it stands in for an AsyncSession."""
    return _Session()


def _order(status: OrderStatus, kind: str = "physical", storefront: str = "default") -> LockedOrder:
    return LockedOrder(id=uuid.uuid4(), order_number="ORD-20261122-ABCDEF", owner_id=uuid.uuid4(), user_id=None,
                       storefront=storefront, email=None, status=status.value, currency="USD", total_amount=Decimal("10"),
                       tracking_number=None, paid_at=None, shipped_at=None, delivered_at=None, updated_at=datetime.now(UTC),
                       ships=domain.requires_shipping([kind]))


async def test_a_legal_move_is_applied_recorded_and_announced() -> None:
    session, order = _session(), _order(S.PENDING, storefront="b")
    assert await transition(session, order, S.PAID, note="Payment confirmed", actor=Actor.PAYMENTS)
    assert order.status == S.PAID and order.paid_at is not None
    [entry] = session.of(OrderStatusHistory)
    assert (entry.from_status, entry.to_status, entry.actor) == (S.PENDING, S.PAID, Actor.PAYMENTS)
    [message] = session.events()
    assert message.type == "order.status_changed"
    assert message.data["storefront"] == "b"  # the order's storefront, on every event of it


@pytest.mark.parametrize(("current", "target", "actor"), [
    (S.PAID, S.AWAITING_PAYMENT, Actor.CATALOG),   # a late stock.reserved
    (S.COMPLETED, S.REJECTED, Actor.CATALOG),      # a stock refusal after a digital order completed
    (S.DELIVERED, S.REFUNDED, Actor.PAYMENTS),     # not in TRANSITIONS
    (S.PENDING, S.COMPLETED, Actor.SYSTEM),        # skipping paid
])
async def test_an_illegal_move_asked_by_an_event_is_noted_never_applied(current: OrderStatus, target: OrderStatus,
                                                                        actor: Actor) -> None:
    session, order = _session(), _order(current)
    assert not await transition(session, order, target, note="Asked", actor=actor)
    assert order.status == current
    [entry] = session.of(OrderStatusHistory)
    assert (entry.from_status, entry.to_status, entry.actor) == (current, current, actor)
    assert entry.note.startswith("Not applied: Asked (Cannot change an order from")
    assert session.events() == []  # nothing changed, nothing announced


async def test_the_kind_rules_guard_events_too() -> None:
    session, order = _session(), _order(S.PAID, kind="physical")
    assert not await transition(session, order, S.COMPLETED, note="Fulfilled", actor=Actor.SYSTEM)
    assert order.status == S.PAID
    assert "Only digital orders are completed" in session.of(OrderStatusHistory)[0].note


@pytest.mark.parametrize("actor", [Actor.STAFF, Actor.CUSTOMER])
async def test_an_illegal_move_asked_by_a_request_is_refused(actor: Actor) -> None:
    session, order = _session(), _order(S.SHIPPED)
    with pytest.raises(InvalidStatusTransition) as refused:
        await transition(session, order, S.PAID, note="Back", actor=actor)
    assert refused.value.details["allowed"] == ["delivered"]
    assert order.status == S.SHIPPED and session.added == []


async def test_staff_never_move_an_order_to_refunded() -> None:
    session, order = _session(), _order(S.CANCELLED)
    with pytest.raises(InvalidStatusTransition):
        await transition(session, order, S.REFUNDED, note="Refunded", actor=Actor.STAFF)
    assert await transition(session, order, S.REFUNDED, note="Refunded", actor=Actor.PAYMENTS)
