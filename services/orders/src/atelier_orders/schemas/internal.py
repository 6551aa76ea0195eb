"""What other services send and read (`/internal`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, computed_field

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.money import Money
from atelier_orders import domain
from atelier_orders.schemas._shared import StorefrontSlug, _Read
from atelier_orders.schemas.orders import OrderCreate, OrderRead


class InternalOrderCreate(OrderCreate):
    """`POST /internal/orders`: another service orders for a customer it has authenticated."""

    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    # The storefront the order is placed on (its currency, tax, shipping and what it sells).
    storefront: Annotated[StorefrontSlug, Field(strict=True)] = DEFAULT_STOREFRONT


class InternalOrderRead(OrderRead):
    """What payments (and any other service) needs to charge for and fulfil an order."""

    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    # Moved in from another product (`atelier import`): its history, never paid for here.
    imported_from: str | None = None

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def requires_shipping(self) -> bool:
        return domain.requires_shipping(item.kind for item in self.items)

    # What the status means is orders' rule: payments and generation read these, never the status list.
    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def is_payable(self) -> bool:
        # A claim's replacement is sent at no charge: nothing to pay, whatever its status; an
        # exchange's order only when its customer owes the difference.
        return (domain.is_payable(self.status) and self.imported_from is None
                and (self.replaces_order_id is None or self.amount_due > 0))

    @computed_field(description="What a payment of it charges: its total, less an exchange's credit")  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def amount_due(self) -> Decimal:
        return max(self.total_amount - self.exchange_credit, Decimal("0.00"))

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def is_paid(self) -> bool:
        return domain.is_paid(self.status)


class StorefrontOrders(BaseModel):
    """`GET /internal/storefronts/{slug}/orders`: identity asks before deleting a storefront or
    changing its currency."""

    orders: int
    # Orders still waiting for their money (pending or awaiting payment).
    unpaid: int


class InternalEditRead(_Read):
    """An order edit as payments charges it: what it leaves due, whether it waits for that payment
    (`awaiting_payment`), and its order."""

    id: uuid.UUID
    version: int
    status: str
    amount_due: Money
    currency: str
    expires_at: datetime | None = None
    order: InternalOrderRead
