"""Payments' rows: the payment and its local checkout session as plain dataclasses, read and
written with the prebuilt statements of `repository.py` (no ORM object on the money paths).

Each row has its table's columns as fields, by name (`tests/unit/test_rows.py` checks), so a
row is read with `Row(**mapping)` and written with `asdict`, and the rules in `domain.py` read
a row as they would the table's model.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class PaymentRow:
    """A payment (table `payment`). Frozen: a change is a statement, and the row it returns."""

    id: uuid.UUID
    order_id: uuid.UUID
    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    anon_id: uuid.UUID | None
    storefront: str
    provider: str
    kind: str
    provider_intent_id: str | None
    provider_session_id: str | None
    provider_charge_id: str | None
    provider_refund_id: str | None
    amount: Decimal
    currency: str
    status: str
    failure_reason: str | None
    pays_order: bool
    order_snapshot: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    gift_card_amount: Decimal
    # A supplementary payment's order edit (`models.Payment.edit_id`).
    edit_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CheckoutRow:
    """A local checkout session (table `checkout_session`)."""

    id: str
    payment_id: uuid.UUID
    order_id: uuid.UUID
    storefront: str
    amount: Decimal
    currency: str
    success_url: str
    cancel_url: str
    status: str
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class EarlyRow:
    """A refund reported before its payment succeeded (table `early_refund`)."""

    id: uuid.UUID
    payment_id: uuid.UUID
    provider_refund_id: str | None
    amount: Decimal | None
    created_at: datetime


@dataclass(frozen=True)
class Settled:
    """A payment moved to `succeeded`; `kept_refunds`: refunds reported before may be waiting."""

    payment: PaymentRow
    kept_refunds: bool
