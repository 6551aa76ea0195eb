"""Staff's view of orders: search across every customer, and the per-day report. Who
may call it is the route's `RequireRole`; this use case only reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import col

from atelier_common.auth import Principal
from atelier_common.reports import DayWindow, day_window
from atelier_common.service import UseCase
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.errors import InvalidPaidCursor, OrderNotFound
from atelier_orders.models import OrderEdit, utcnow
from atelier_orders.queries import OrderQueries
from atelier_orders.rows import OrderDetails, OrderSummaryRow, PaidOrderRow
from atelier_orders.schemas import StaffOrderQuery
from atelier_orders.service._shared import order_id_of, ships_with_tracking
from atelier_orders.service.payment_records import PaymentRecordLine, PaymentRecords


class StaffOrders(UseCase[OrdersContext]):
    async def search(self, query: StaffOrderQuery, *, limit: int, offset: int, staff: Principal | None = None,
                     ) -> tuple[int, bool, Sequence[OrderSummaryRow]]:
        """(count, whether it is an estimate, the page): see `OrderQueries.search`; only the
        storefronts `staff`'s API key may touch."""
        scope = None if staff is None or staff.storefronts is None else tuple(sorted(staff.storefronts))
        where = domain.StaffOrderFilter(
            email=query.email.lower() if query.email else None, number=query.number, customer=query.customer,
            status=query.status.value if query.status else None, storefront=query.storefront,
            created_after=query.created_after, created_before=query.created_before, storefronts=scope)
        return await OrderQueries(self.session).search(where, limit=limit, offset=offset,
                                                        exact_count_limit=self.context.settings.exact_count_limit,
                                                        estimates=self.context.estimates)

    async def paid_since(self, cursor: str | None, *, limit: int, storefront: str | None,
                         staff: Principal | None = None) -> tuple[list[PaidOrderRow], str | None]:
        """The paid orders' feed (an ERP's pull): every order once, in the order it was paid, past
        `cursor` (None: from the first); the page and the cursor after it (`cursor` again when
        nothing is new). Only orders paid `paid_feed_settle_seconds` ago or more: `paid_at` is set
        before its transaction commits, so a later cursor could pass one still committing."""
        after = None
        if cursor is not None:
            after = domain.PaidCursor.decode(cursor)
            if after is None:
                raise InvalidPaidCursor()
        scope = None if staff is None or staff.storefronts is None else tuple(sorted(staff.storefronts))
        settled = utcnow() - timedelta(seconds=self.context.settings.paid_feed_settle_seconds)
        rows = list(await OrderQueries(self.session).paid_since(after, settled_before=settled, limit=limit,
                                                                storefront=storefront, storefronts=scope))
        if rows:
            cursor = domain.PaidCursor(rows[-1].paid_at, rows[-1].id).encode()
        return rows, cursor

    async def daily(self, days: int, staff: Principal | None = None) -> tuple[DayWindow, list[domain.DailyOrders]]:
        """The last `days` days (UTC, today included) per day and storefront: orders placed,
        those of them that count as revenue (`domain.REVENUE`) and their total per currency; only
        the storefronts `staff`'s API key may touch."""
        window = day_window(days, utcnow())
        groups = await OrderQueries(self.session).daily_groups(window.start)
        if staff is not None:
            groups = [g for g in groups if staff.may_touch(g.storefront)]
        return window, domain.daily_orders(groups)

    async def check_scope(self, order_ref: str, staff: Principal) -> None:
        """404 `NOT_FOUND` (as an unknown order) for an order of a storefront `staff`'s API key may not touch: to
        it, that order does not exist. A caller without a scope (a person) costs no read."""
        if staff.storefronts is None:
            return
        storefront = await OrderQueries(self.session).storefront_of(order_id_of(order_ref))
        if storefront is None or not staff.may_touch(storefront):
            raise OrderNotFound()

    async def get(self, order_ref: str) -> StaffOrderPicture:
        order = await OrderQueries(self.session).get(order_id_of(order_ref))
        if order is None:
            raise OrderNotFound()
        money = await PaymentRecords(self.session, self.context).of_order(order.id)
        refunded = sum((r.amount or Decimal("0") for r in money if r.kind == "refund"), Decimal("0"))
        order.refunded_amount = refunded
        edits = (await self.session.execute(select(
            func.coalesce(func.max(OrderEdit.version), 0), func.coalesce(func.sum(OrderEdit.refund_amount), 0))
            .where(col(OrderEdit.order_id) == order.id, col(OrderEdit.status) == "applied"))).one()
        return StaffOrderPicture(
            order=order, version=domain.order_version(order.updated_at, order.status),
            payments=[r for r in money if r.kind in ("payment", "payment_failed")],
            refunds=[r for r in money if r.kind in ("refund", "returned")],
            allowed_transitions=domain.allowed_targets(
                order.status, digital_only=domain.is_digital_only(i.kind for i in order.items), by_staff=True),
            # Judged against what was charged before any edit gave some back (an edit lowers the total).
            refund_state=domain.refund_state(order.total_amount + Decimal(edits[1]), refunded),
            edit_version=int(edits[0]),
            tracking_number_required=await ships_with_tracking(self.context, order.storefront))


@dataclass(frozen=True)
class StaffOrderPicture:
    order: OrderDetails
    version: str
    payments: list[PaymentRecordLine]
    refunds: list[PaymentRecordLine]
    allowed_transitions: list[str]
    refund_state: str
    tracking_number_required: bool
    # How many times staff edited it (`order_edit`; 0: never).
    edit_version: int = 0
