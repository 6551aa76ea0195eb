"""Reads that only answer the API (eShop's `Application/Queries`, cosmicpython's `views.py`): no
use case decides on them, so they lock nothing and live apart from `repository.py`'s locks and
writes."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart.repository import read_with_lines
from atelier_cart.rows import CartWithLines


class CartQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_owner(self, owner_id: uuid.UUID, storefront: str) -> CartWithLines | None:
        """The owner's cart on `storefront` with its lines and their kinds, as orders reads it:
        one statement, its snapshot keeping the cart and its lines consistent."""
        return await read_with_lines(self.session, owner_id, storefront)
