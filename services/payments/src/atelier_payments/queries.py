"""Reads that only answer the API (eShop's `Application/Queries`, cosmicpython's `views.py`): no
use case decides on them, so they lock nothing and live apart from `repository.py`'s locks and
writes. Ownership is the caller's filter, passed in: another owner's entry is simply not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.counting import CountEstimates, capped_count
from atelier_common.filters import Filters, where_given
from atelier_payments.models import LedgerEntry, Payment, Subscription
from atelier_payments.rows import PaymentRow
from atelier_payments.schemas import StaffLedgerQuery

_PAYMENT = table_of(Payment)
# Finance's ledger counts exactly up to this many entries by default (`PaymentsSettings.exact_count_limit`).
EXACT_COUNT_LIMIT = 1_000
# Finance's ledger search (`StaffLedgerQuery`'s fields).
_LEDGER_FILTERS: Filters = {
    "customer": lambda v: col(LedgerEntry.owner_id) == v, "storefront": lambda v: col(LedgerEntry.storefront) == v,
    "kind": lambda v: col(LedgerEntry.kind) == v, "created_after": lambda v: col(LedgerEntry.created_at) >= v,
    "created_before": lambda v: col(LedgerEntry.created_at) < v}
_OF_ORDER = (sa_select(_PAYMENT).where(_PAYMENT.c.order_id == bindparam("order"))
             .order_by(_PAYMENT.c.created_at, _PAYMENT.c.id))


class PaymentQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_order(self, order_id: uuid.UUID) -> list[PaymentRow]:
        """Every payment of an order, oldest first."""
        result = await self.session.execute(_OF_ORDER, {"order": order_id})
        return [PaymentRow(**row) for row in result.mappings()]

    async def ledger_page(self, owner_id: uuid.UUID, *, limit: int, offset: int) -> tuple[int, Sequence[LedgerEntry]]:
        """An owner's ledger entries, newest first, and how many there are."""
        owned = col(LedgerEntry.owner_id) == owner_id
        count = (await self.session.exec(select(func.count()).select_from(LedgerEntry).where(owned))).one()
        stmt = (select(LedgerEntry).where(owned)
                .order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc()).limit(limit).offset(offset))
        return count, (await self.session.exec(stmt)).all()

    async def ledger_search(self, query: StaffLedgerQuery, *, limit: int, offset: int,
                            exact_count_limit: int = EXACT_COUNT_LIMIT, estimates: CountEstimates | None = None,
                            storefronts: frozenset[str] | None = None) -> tuple[int, bool, Sequence[LedgerEntry]]:
        """Every owner's entries (finance), newest first, narrowed by `query`: (count, whether
        it is an estimate, the page). The count is exact up to `exact_count_limit` entries, past it
        the planner's estimate, kept in `estimates` for the same filters. `storefronts`: only
        theirs (an API key's scope)."""
        stmt = where_given(select(LedgerEntry), _LEDGER_FILTERS, query)
        if storefronts is not None:
            stmt = stmt.where(col(LedgerEntry.storefront).in_(sorted(storefronts)))
        count, estimated = await capped_count(self.session, stmt, exact_count_limit, estimates=estimates,
                                              key=("ledger", query.model_dump_json(),
                                                   ",".join(sorted(storefronts)) if storefronts is not None else "*"))
        rows = await self.session.exec(stmt.order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
                                       .limit(limit).offset(offset))
        return count, estimated, rows.all()

    async def subscriptions_page(self, *, user_id: uuid.UUID | None, status: str | None, limit: int,
                                 offset: int, storefronts: frozenset[str] | None = None
                                 ) -> tuple[int, Sequence[Subscription]]:
        """Every user's plan, newest change first, by user and status (and only `storefronts`' when given)."""
        stmt = select(Subscription)
        if storefronts is not None:
            stmt = stmt.where(col(Subscription.storefront).in_(sorted(storefronts)))
        if user_id is not None:
            stmt = stmt.where(col(Subscription.user_id) == user_id)
        if status is not None:
            stmt = stmt.where(col(Subscription.status) == status)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        rows = await self.session.exec(stmt.order_by(col(Subscription.updated_at).desc(), col(Subscription.id))
                                       .limit(limit).offset(offset))
        return count, rows.all()
