"""The cart's discount code and what it saves.

Orders owns the promotions and their one rule (`atelier_orders.promotions.rules`); the cart asks
it (`POST /internal/promotions/quote`) with its lines and code whenever it shows a cart with
lines that may save something, so the discount shown is the one placing the order charges.
Chosen over evaluating a copy of the promotions here: the rule needs the uses left, the
customer's own uses and the products' categories, which only orders (and catalog) have; a copy
would show discounts the order then refuses.

What the cart does keep (`cart_promotion_window`, from `promotion.changed`) is only when each
automatic promotion runs: a cart without a code on a storefront with no live automatic promotion
can save nothing, and is shown without asking (most carts, and the add-to-cart hot path). Whether
a window runs now is orders' rule, in the cart's SQL once (`live_window`), held to the cases orders'
rule is held to (`atelier_testing.promotion_windows`).
The code is kept as the customer typed it (trimmed by `PromotionCodeApply`) and never compared
here: orders matches it (`promotions.rules.code_key`), whatever its case.
Orders unreachable: the cart shows no discount rather than fail (the order decides anyway).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, bindparam, delete, exists, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart.checkout import OWNER_SHIPPING, SHIPPING, ShippingChoice
from atelier_cart.errors import refusal_of
from atelier_cart.models import CartPromotionCode, PromotionWindow, utcnow
from atelier_cart.rows import CartLine
from atelier_common.columns import table_of
from atelier_common.contracts.orders import (
    CartShippingQuote,
    Discount,
    PromotionChanged,
    PromotionQuote,
    QuotedLine,
)
from atelier_common.db import Statement, dialect_insert
from atelier_common.errors import ServiceUnavailable
from atelier_common.internal import InternalApi, error_code

log = logging.getLogger("atelier.cart.promotions")


@dataclass(frozen=True)
class CartDiscount:
    """What the cart's lines save now: the promotions applied, each with what it saved."""

    code: str | None = None
    discount: Decimal = Decimal("0")
    free_shipping: bool = False
    discounts: Sequence[Discount] = field(default_factory=tuple)
    code_problem: dict[str, str] | None = None
    # Orders' pricing of the lines with what they save (the discount lowers the taxed base);
    # None: not asked, the cart's own totals stand.
    tax_amount: Decimal | None = None
    tax_included: Decimal | None = None
    total: Decimal | None = None
    # Each line's discount and tax, as orders priced them (empty: not asked).
    lines: Sequence[QuotedLine] = ()
    # Where the cart ships, priced by orders (None: no shipping choice).
    shipping: CartShippingQuote | None = None


@dataclass(frozen=True)
class CartPricing:
    """What decides whether orders must price a cart: its code, a live automatic promotion on its
    storefront, its shipping choice."""

    code: str | None
    live: bool
    shipping: ShippingChoice | None

    @property
    def needs_orders(self) -> bool:
        return self.code is not None or self.live or self.shipping is not None


class OrdersClient:
    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def quote(self, storefront: str, owner_id: uuid.UUID, user_id: uuid.UUID | None, code: str | None,
                    lines: Sequence[CartLine], *, strict: bool = False, shipping: ShippingChoice | None = None,
                    strict_shipping: bool = False, client_ip: str | None = None,
                    group: str | None = None, locale: str | None = None) -> CartDiscount:
        """What the lines save and, sent to `shipping`, what their order charges, for a customer of
        `group` (their customer group on `storefront`: promotions may be for some groups). `strict`: a
        code that does not apply is orders' 4xx (a wrong one counted against the caller and
        `client_ip`); `strict_shipping`: so is a destination or method that does not do. `locale`:
        the caller's language, which orders names the promotions and shipping methods in."""
        body: dict[str, Any] = {
            "storefront": storefront, "owner_id": str(owner_id), "user_id": str(user_id) if user_id else None,
            "customer_group": group, "code": code, "strict": strict, "client_ip": client_ip, "locale": locale,
            "shipping": shipping.quote_body(strict=strict_shipping) if shipping is not None else None,
            "lines": [{"product_id": str(line.product_id), "variant_id": str(line.variant_id) if line.variant_id
                       else None, "unit_price": str(line.unit_price), "quantity": line.quantity,
                       # A line whose product the read-model lost is taxed like goods: never under-charged.
                       "kind": line.kind or "physical", "tax_class": line.tax_class or "standard"}
                      for line in lines if line.quantity > 0]}
        response = await self.internal.call("orders", "POST", "/internal/promotions/quote", json=body)
        if 400 <= response.status_code < 500 and (strict or strict_shipping):
            # Orders' own refusal of the code or the destination, passed on as it said it.
            payload = response.json().get("error", {}) if response.content else {}
            raise refusal_of(error_code(response), payload)
        if response.status_code != 200:
            log.error("orders answered %s to a promotion quote: %s", response.status_code, response.text[:300])
            raise ServiceUnavailable("orders is unavailable")
        try:
            quote = PromotionQuote.model_validate_json(response.content)
        except (ValidationError, ValueError) as exc:
            log.error("orders sent an unreadable quote: %s", exc)
            raise ServiceUnavailable("orders gave an unexpected answer") from exc
        return CartDiscount(code=code, discount=quote.discount_total, free_shipping=quote.free_shipping,
                            discounts=tuple(quote.discounts), code_problem=quote.code_problem,
                            tax_amount=quote.tax_amount, tax_included=quote.tax_included, total=quote.total,
                            lines=tuple(quote.lines), shipping=quote.shipping)


# The owner's code on a storefront, read (orders' read of the cart) and removed (an order took it).
_CODES = table_of(CartPromotionCode)
_OWNER_CODE = and_(_CODES.c.owner_id == bindparam("owner"), _CODES.c.storefront == bindparam("storefront_slug"))
_CODE = Statement(sa_select(_CODES.c.code).where(_OWNER_CODE))
_REMOVE_CODE = Statement(delete(_CODES).where(_OWNER_CODE))


_WINDOWS = table_of(PromotionWindow).c


def live_window(now: ColumnElement[datetime]) -> ColumnElement[bool]:
    """Whether a kept window's promotion runs at `now`, the cart's one statement of it: orders'
    rule (`PromotionTerms.live`: active, started or without a start, not ended or without an end,
    the start included and the end excluded), which the cart cannot import. `now` a bound
    `UtcDateTime`, so SQLite compares it as it stores the windows. tests/repository/test_live_now.py
    holds it to the cases orders' rule is held to (`atelier_testing.promotion_windows`)."""
    return and_(_WINDOWS.is_active.is_(True),
                or_(_WINDOWS.starts_at.is_(None), _WINDOWS.starts_at <= now),
                or_(_WINDOWS.ends_at.is_(None), _WINDOWS.ends_at > now))


def _state() -> Statement:
    """`PromotionCodes.state`'s one statement, built once: the code, whether an automatic
    promotion runs (`live_window`), and the cart's shipping choice (`checkout.py`), if any."""
    now = bindparam("now", type_=_WINDOWS.starts_at.type)
    code = sa_select(_CODES.c.code).where(_OWNER_CODE).scalar_subquery()
    live = exists().where(_WINDOWS.storefront == bindparam("storefront_slug"), _WINDOWS.automatic.is_(True),
                          live_window(now))
    one = sa_select(literal(1).label("one")).subquery()
    return Statement(sa_select(code, live, SHIPPING.c.address_id, SHIPPING.c.country, SHIPPING.c.region,
                               SHIPPING.c.method_id).select_from(one.outerjoin(SHIPPING, OWNER_SHIPPING)))


_STATE = _state()


class PromotionCodes:
    """The code of an owner's cart on a storefront: one row, or none."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, owner_id: uuid.UUID, storefront: str) -> str | None:
        rows = await _CODE.rows(self.session, {"owner": owner_id, "storefront_slug": storefront})
        return rows[0][0] if rows else None

    async def state(self, owner_id: uuid.UUID, storefront: str, now: datetime) -> CartPricing:
        """The owner's code there, whether the storefront has a live automatic promotion now, and
        where the cart ships, in one round trip: the cart asks orders for a quote only when one
        of them is there."""
        [(code, live, address_id, country, region, method_id)] = await _STATE.rows(
            self.session, {"owner": owner_id, "storefront_slug": storefront, "now": now})
        shipping = None if address_id is None and country is None else ShippingChoice(
            address_id=address_id, country=country, region=region, method_id=method_id)
        return CartPricing(code=code, live=bool(live), shipping=shipping)

    async def put(self, owner_id: uuid.UUID, storefront: str, code: str) -> None:
        stmt = dialect_insert(self.session)(CartPromotionCode).values(owner_id=owner_id, storefront=storefront, code=code,
                                                applied_at=utcnow())
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["owner_id", "storefront"], set_={"code": code, "applied_at": stmt.excluded.applied_at}))

    async def remove(self, owner_id: uuid.UUID, storefront: str) -> None:
        await _REMOVE_CODE.execute(self.session, {"owner": owner_id, "storefront_slug": storefront})


class PromotionWindows:
    """The cart's copy of when orders' promotions run (`cart_promotion_window`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def apply(self, event: PromotionChanged) -> None:
        """Keep the event's terms unless newer ones are kept already (a redelivered or late
        event): one statement, so two deliveries racing cannot roll the row back."""
        stmt = dialect_insert(self.session)(PromotionWindow).values(
            promotion_id=event.promotion_id, storefront=event.storefront, automatic=event.code is None,
            is_active=event.is_active, starts_at=event.starts_at, ends_at=event.ends_at, updated_at=event.updated_at)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["promotion_id"],
            set_={name: stmt.excluded[name] for name in ("storefront", "automatic", "is_active", "starts_at",
                                                          "ends_at", "updated_at")},
            where=col(PromotionWindow.updated_at) < stmt.excluded.updated_at))
