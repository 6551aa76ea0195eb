"""Settings of the orders service: `ATELIER_ORDERS_<FIELD>`, falling back to `ATELIER_<FIELD>`."""

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from atelier_common.contracts.catalog import TAX_INCLUSIVE_KINDS, ProductKind
from atelier_common.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_ORDERS_")
    service_name: ClassVar[str] = "orders"

    # Added on the lines of tax-exclusive kinds, rounded half-up to cents (S1: 9%; S3 wrote 10%).
    tax_rate: Annotated[Decimal, Field(ge=0, le=1)] = Decimal("0.09")
    # Kinds whose prices already include tax (issue #11: the price shown is the price charged);
    # by default the digital goods. Must match cart's setting of the same name.
    tax_inclusive_kinds: frozenset[ProductKind] = frozenset(ProductKind(k) for k in TAX_INCLUSIVE_KINDS)
    # Added once per order when a line is shipped (goods, printed books), in the order's currency.
    shipping_cost: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal("5.00")
    # New numbers drawn when a random order number is already taken, before giving up.
    order_number_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    # Refuse an order up front when catalog's stock figure cannot cover it (catalog still reserves
    # atomically on order.placed; this only spares the customer an order that will be rejected).
    check_stock_on_place: bool = True
