"""Reads that only answer the API (eShop's `Application/Queries`, cosmicpython's `views.py`): an
owner's addresses as a page, and one address (the owner's, or orders' snapshot while it places an
order). No use case decides on them, so they lock nothing and live apart from `repository.py`'s
locks and writes. Every statement is filtered by owner: another owner's address is simply not found.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import Statement
from atelier_identity.models import Address, User
from atelier_identity.rows import AddressRow

# `AddressRow`'s fields are the table's columns in order (tests/unit/test_rows.py): `SELECT address` reads rows.
_ADDRESS = table_of(Address)
_OWNED = _ADDRESS.c.owner_id == bindparam("owner_id")
_USER = table_of(User)
# Orders' read while it places an order (the checkout's path): the address, and its owner's tax
# number beside it (an anonymous owner has no account: NULL), in one statement.
_ONE = Statement(sa_select(_ADDRESS, _USER.c.tax_number.label("owner_tax_number"))
                 .select_from(_ADDRESS.outerjoin(_USER, _USER.c.id == _ADDRESS.c.owner_id))
                 .where(_ADDRESS.c.id == bindparam("address_id"), _OWNED))
_COUNT = sa_select(func.count()).select_from(_ADDRESS).where(_OWNED)
_PAGE = (sa_select(_ADDRESS).where(_OWNED)
         .order_by(_ADDRESS.c.is_primary.desc(), _ADDRESS.c.created_at, _ADDRESS.c.id)
         .limit(bindparam("limit")).offset(bindparam("offset")))


class AddressQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def one(self, address_id: uuid.UUID, owner_id: uuid.UUID) -> tuple[AddressRow, str | None] | None:
        """The owner's address and the owner's tax number (None: none given, or an anonymous owner)."""
        rows = await _ONE.rows(self.session, {"address_id": address_id, "owner_id": owner_id})
        if not rows:
            return None
        *address, tax_number = rows[0]
        return AddressRow(**dict(zip(_ONE.keys[:-1], address, strict=True))), tax_number

    async def page(self, owner_id: uuid.UUID, *, limit: int, offset: int) -> tuple[int, list[AddressRow]]:
        """How many addresses the owner has, and a page of them: the primary first, then oldest first."""
        count = (await self.session.execute(_COUNT, {"owner_id": owner_id})).scalar_one()
        rows = await self.session.execute(_PAGE, {"owner_id": owner_id, "limit": limit, "offset": offset})
        return count, [AddressRow(**row) for row in rows.mappings()]
