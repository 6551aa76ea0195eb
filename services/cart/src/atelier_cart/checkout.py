"""Where a cart ships and by which method (`cart_shipping`): the cart as the checkout.

The cart keeps only the choice; orders prices the cart for it (`OrdersClient.quote` with the
choice), by the one pricing function `POST /orders` charges by, and an order placed from the cart
without an address of its own ships there. A choice is the owner's on one storefront, like the
cart: it follows a guest who signs in (the address moved to the account with them) and goes with
an erased owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, update
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart.models import CartShipping, utcnow
from atelier_common.columns import table_of
from atelier_common.db import Statement, dialect_insert


@dataclass(frozen=True)
class ShippingChoice:
    """One of the owner's addresses, or a country (and region) to price by; the method (None: the
    destination's first, as `POST /orders` ships by)."""

    address_id: uuid.UUID | None = None
    country: str | None = None
    region: str | None = None
    method_id: uuid.UUID | None = None

    def quote_body(self, *, strict: bool = False) -> dict[str, Any]:
        return {"address_id": str(self.address_id) if self.address_id else None, "country": self.country,
                "region": self.region, "method_id": str(self.method_id) if self.method_id else None,
                "strict": strict}


SHIPPING = table_of(CartShipping)
OWNER_SHIPPING = and_(SHIPPING.c.owner_id == bindparam("owner"), SHIPPING.c.storefront == bindparam("storefront_slug"))
_REMOVE = Statement(delete(SHIPPING).where(OWNER_SHIPPING))
_FORGET = Statement(delete(SHIPPING).where(SHIPPING.c.owner_id == bindparam("owner")))


def _hand_over() -> Statement:
    """A guest's choices become the user's, on each storefront where the user has none."""
    mine: Any = SHIPPING.alias("mine")
    return Statement(update(SHIPPING).where(SHIPPING.c.owner_id == bindparam("anon"), ~exists().where(
        mine.c.owner_id == bindparam("user"), mine.c.storefront == SHIPPING.c.storefront))
        .values(owner_id=bindparam("user")))


_HAND_OVER = _hand_over()


class ShippingChoices:
    """The shipping choice of an owner's cart on a storefront: one row, or none (read with the
    cart's code: `PromotionCodes.state`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, owner_id: uuid.UUID, storefront: str, choice: ShippingChoice) -> None:
        values = {"address_id": choice.address_id, "country": choice.country, "region": choice.region,
                  "method_id": choice.method_id, "chosen_at": utcnow()}
        stmt = dialect_insert(self.session)(CartShipping).values(
            owner_id=owner_id, storefront=storefront, **values)
        await self.session.execute(stmt.on_conflict_do_update(
            index_elements=["owner_id", "storefront"], set_={name: stmt.excluded[name] for name in values}))

    async def remove(self, owner_id: uuid.UUID, storefront: str) -> None:
        await _REMOVE.execute(self.session, {"owner": owner_id, "storefront_slug": storefront})

    async def hand_over(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Sign-in: the guest's choices follow them where the user has none. One the user's own
        wins over stays with the guest's cart, and goes with it (housekeeping's orphan sweep)."""
        await _HAND_OVER.execute(self.session, {"anon": anon_id, "user": user_id})

    async def forget(self, owner_id: uuid.UUID) -> None:
        await _FORGET.execute(self.session, {"owner": owner_id})
