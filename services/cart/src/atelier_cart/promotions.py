"""The cart's discount code and what it saves (#56).

Orders owns the promotions and their one rule (`atelier_orders.promotion_rules`); the cart asks
it (`POST /internal/promotions/quote`) with its lines and code whenever it shows a cart with
lines, so the discount shown is the one placing the order charges. Chosen over a copy of the
promotions kept from events: the rule needs the uses left, the customer's own uses and the
products' categories, which only orders (and catalog) have; a copy would show discounts the order
then refuses. The price: one internal call per cart read with lines (an empty cart asks nothing).
Orders unreachable: the cart shows no discount rather than fail (the order decides anyway).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart.errors import PromotionCodeInvalid, PromotionExhausted
from atelier_cart.models import CartPromotionCode, utcnow
from atelier_cart.rows import CartLine
from atelier_common.errors import ServiceUnavailable
from atelier_common.internal import InternalApi, error_code

log = logging.getLogger("atelier.cart.promotions")


class AppliedPromotion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    promotion_id: uuid.UUID
    code: str | None = None
    name: str
    kind: str
    amount: Decimal
    free_shipping: bool = False


class _Quote(BaseModel):
    model_config = ConfigDict(extra="ignore")

    discount_total: Decimal = Decimal("0")
    free_shipping: bool = False
    discounts: list[AppliedPromotion] = []
    code_problem: dict[str, str] | None = None


@dataclass(frozen=True)
class CartDiscount:
    """What the cart's lines save now: the promotions applied, each with what it saved."""

    code: str | None = None
    discount: Decimal = Decimal("0")
    free_shipping: bool = False
    discounts: Sequence[AppliedPromotion] = field(default_factory=tuple)
    code_problem: dict[str, str] | None = None


class OrdersClient:
    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def quote(self, storefront: str, owner_id: uuid.UUID, user_id: uuid.UUID | None, code: str | None,
                    lines: Sequence[CartLine], *, strict: bool = False) -> CartDiscount:
        body: dict[str, Any] = {
            "storefront": storefront, "owner_id": str(owner_id), "user_id": str(user_id) if user_id else None,
            "code": code, "strict": strict,
            "lines": [{"product_id": str(line.product_id), "variant_id": str(line.variant_id) if line.variant_id
                       else None, "unit_price": str(line.unit_price), "quantity": line.quantity}
                      for line in lines if line.quantity > 0]}
        response = await self.internal.call("orders", "POST", "/internal/promotions/quote", json=body)
        if 400 <= response.status_code < 500 and strict:
            # Orders' own refusal of the code, passed on as it said it.
            payload = response.json().get("error", {}) if response.content else {}
            refusal = PromotionExhausted if error_code(response) == PromotionExhausted.code else PromotionCodeInvalid
            raise refusal(payload.get("message"), details=payload.get("details") or {})
        if response.status_code != 200:
            log.error("orders answered %s to a promotion quote: %s", response.status_code, response.text[:300])
            raise ServiceUnavailable("orders is unavailable")
        try:
            quote = _Quote.model_validate_json(response.content)
        except (ValidationError, ValueError) as exc:
            log.error("orders sent an unreadable quote: %s", exc)
            raise ServiceUnavailable("orders gave an unexpected answer") from exc
        return CartDiscount(code=code, discount=quote.discount_total, free_shipping=quote.free_shipping,
                            discounts=tuple(quote.discounts), code_problem=quote.code_problem)


class PromotionCodes:
    """The code of an owner's cart on a storefront: one row, or none."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, owner_id: uuid.UUID, storefront: str) -> str | None:
        row = (await self.session.exec(select(CartPromotionCode.code).where(
            CartPromotionCode.owner_id == owner_id, CartPromotionCode.storefront == storefront))).first()
        return row

    async def put(self, owner_id: uuid.UUID, storefront: str, code: str) -> None:
        sqlite = self.session.bind is not None and self.session.bind.dialect.name == "sqlite"
        insert = sqlite_insert if sqlite else pg_insert
        stmt = insert(CartPromotionCode).values(owner_id=owner_id, storefront=storefront, code=code,
                                                applied_at=utcnow())
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["owner_id", "storefront"], set_={"code": code, "applied_at": stmt.excluded.applied_at}))

    async def remove(self, owner_id: uuid.UUID, storefront: str) -> None:
        await self.session.execute(delete(CartPromotionCode).where(
            col(CartPromotionCode.owner_id) == owner_id, col(CartPromotionCode.storefront) == storefront))
