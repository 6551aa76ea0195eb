"""Settings of the orders service: `ATELIER_ORDERS_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from atelier_common.settings import PricingSettings


class OrdersSettings(PricingSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_ORDERS_")
    service_name: ClassVar[str] = "orders"

    # Added once per order when a line is shipped (goods, printed books), in the order's currency.
    shipping_cost: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal("5.00")
    # New numbers drawn when a random order number is already taken, before giving up.
    order_number_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    # Refuse an order up front when catalog's stock figure cannot cover it (catalog still reserves
    # atomically on order.placed; this only spares the customer an order that will be rejected).
    check_stock_on_place: bool = True
    # How long the payment link of a draft order staff sent pays it (docs/back-office.md#draft-orders).
    draft_payment_link_hours: int = Field(default=72, ge=1, le=24 * 30)
    # How long an edit of a paid order that left an amount due waits for it (its payment link, the
    # units catalog holds for it); then it is refused and the units go back (docs/back-office.md#order-edits).
    edit_payment_hours: int = Field(default=48, ge=1, le=24 * 30)
    # Staff's order search counts matches exactly up to this many; past it (PostgreSQL) the count
    # is the planner's estimate and the response carries `X-Count-Estimated: true`.
    exact_count_limit: int = Field(default=1_000, ge=1)
    # The paid orders' feed (`GET /staff/orders/paid`) shows an order this long after it was paid at
    # the earliest: longer than a payment's transaction takes to commit, so no cursor passes one.
    paid_feed_settle_seconds: float = Field(default=5.0, ge=0, le=300)
    # An estimated count is reused this long for the same filters (0: estimate on every page).
    count_estimate_seconds: float = Field(default=60.0, ge=0)
    # Wrong discount codes (docs/limits.md#discount-codes): per caller (a guest, a customer), past
    # it that caller waits whatever code it sends; per client address, past it a wrong code
    # answers 429 and a right one still applies.
    promotion_code_failures_per_caller: str = "10/15 minutes"
    promotion_code_failures_per_ip: str = "50/15 minutes"
