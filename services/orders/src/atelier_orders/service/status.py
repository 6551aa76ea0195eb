"""Moving an order through its statuses: the customer's cancel, staff changes, and what catalog
and payments report.

Every method locks the order row first (`OrderRepository.lock`), so two changes of one order never
both start from the same old status, then moves it through `_shared.transition`, the one guarded
move: a request asking for an illegal move is refused (409), an event asking for one is noted in
the history and not applied (the inbox already drops exact redeliveries).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.catalog import StockSource
from atelier_common.contracts.orders import OrderCancelled
from atelier_common.money import quantize
from atelier_common.service import UseCase
from atelier_common.versions import check_version
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.edits.service import OrderEdits
from atelier_orders.errors import InvalidStatusTransition, OrderNotCancellable, OrderNotFound, TrackingNumberRequired
from atelier_orders.invoices.service import Invoicing
from atelier_orders.models import utcnow
from atelier_orders.repository import OrderRepository
from atelier_orders.returns import claims
from atelier_orders.rows import LockedOrder, OrderDetails
from atelier_orders.schemas import OrderStatusUpdate
from atelier_orders.service._shared import (
    log_order,
    order_id_of,
    record_status,
    reload,
    ships_with_tracking,
    transition,
)

log = logging.getLogger("atelier.orders.status")
S = OrderStatus


class StatusService(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.orders = OrderRepository(session)
        self.invoicing = Invoicing(session, context)

    # -- customers and staff -----------------------------------------------------------------------

    async def cancel(self, order_ref: str, *, owner_id: uuid.UUID, reason: str | None = None) -> OrderDetails:
        order = await self.orders.lock(order_id_of(order_ref), owner_id=owner_id)
        if order is None:
            raise OrderNotFound()
        await self._cancel(order, note=reason or "Cancelled by the customer", reason=reason, actor=Actor.CUSTOMER)
        return await reload(self.session, order.id)

    async def set_status(self, order_ref: str, data: OrderStatusUpdate, *, staff_id: uuid.UUID | None,
                         staff: Principal | None = None, if_match: str | None = None) -> OrderDetails:
        """Staff move any order along the allowed transitions; cancelling follows the cancel rules.
        With `staff`, the change is in the audit log, in this transaction. A form read at
        another version of the order (`expected_version` or `If-Match`) is refused (409)."""
        order = await self.orders.lock(order_id_of(order_ref))
        if order is None:
            raise OrderNotFound()
        check_version(data.expected_version or if_match, domain.order_version(order.updated_at, order.status),
                      {"id": str(order.id), "status": order.status, "tracking_number": order.tracking_number})
        before = {"status": order.status, "tracking_number": order.tracking_number}
        if data.status == S.CANCELLED:
            await self._cancel(order, note=data.note or "Cancelled by staff", reason=data.note, actor=Actor.STAFF,
                               actor_id=staff_id)
        else:
            if await self._untracked_shipment(order, data):
                raise TrackingNumberRequired(details={"fields": {"tracking_number": ["Required to ship"]}})
            tracking = order.tracking_number
            if data.tracking_number is not None:
                order.tracking_number = data.tracking_number
            try:
                await transition(self.session, order, data.status, note=data.note or _default_note(data.status),
                                 actor=Actor.STAFF, actor_id=staff_id)
            except InvalidStatusTransition:
                order.tracking_number = tracking
                raise
            if data.status == S.PAID:  # money staff saw arrive (a bank transfer): invoiced like any payment
                await self.invoicing.issue(order)
            if data.status not in (S.PAID, S.PROCESSING):  # shipped (or further): an edit waiting is too late
                await OrderEdits(self.session, self.context).refuse_waiting(order, f"the order is {data.status}")
        if staff is not None:
            await audit.record(self.session, staff, "order.status_change", "order", order.id, before=before,
                               after={"status": order.status, "tracking_number": order.tracking_number},
                               reason=data.note)
        return await reload(self.session, order.id)

    async def _untracked_shipment(self, order: LockedOrder, data: OrderStatusUpdate) -> bool:
        """A legal move to `shipped` with no tracking number, where the storefront ships with one (an
        illegal move is refused as such by `transition`)."""
        if data.status != S.SHIPPED or data.tracking_number or order.tracking_number:
            return False
        if domain.transition_problem(order.status, S.SHIPPED, digital_only=not order.ships, by_staff=True):
            return False
        return await ships_with_tracking(self.context, order.storefront)

    # -- what other services report ----------------------------------------------------------------

    async def mark_stock_reserved(self, order_id: uuid.UUID, sources: Sequence[StockSource] = ()) -> None:
        order = await self._lock_known(order_id, "stock.reserved")
        if order is None:
            return
        if sources:  # where each line ships from, whatever the status now (staff pack from it)
            await self.orders.set_ships_from(domain.ships_from(await self.orders.items_of(order.id), sources))
        if order.status != S.PENDING.value:
            # Payment overtook catalog (common: both run at once), or the order was cancelled and
            # catalog releases what it holds when it hears that. Nothing to move, nothing to note.
            log.debug("order %s: stock.reserved arrived in %s, nothing to do", order.id, order.status)
            return
        if order.replaces_order_id is not None and order.amount_due > 0:
            # An exchange's order whose customer owes the difference: it waits for that payment
            # (its payment link), as any order awaits its own.
            await transition(self.session, order, S.AWAITING_PAYMENT,
                             note=f"Stock reserved; {domain.money_text(order.amount_due, order.currency)} due for the "
                                  "exchange", actor=Actor.CATALOG)
            return
        if order.replaces_order_id is not None:
            # A claim's replacement, or an exchange's order the credit pays in full: nothing to pay,
            # so it is ready to ship now. A replacement is not a sale: no invoice (the goods were
            # invoiced with the order it replaces); an exchange's new items are.
            exchange = order.total_amount > 0
            await transition(self.session, order, S.PAID, note="Exchange paid by its credit: stock held" if exchange
                             else "Replacement at no charge: stock held", actor=Actor.CATALOG)
            if exchange:
                await self.invoicing.issue(order)
            return
        await transition(self.session, order, S.AWAITING_PAYMENT, note="Stock reserved", actor=Actor.CATALOG)

    async def reject(self, order_id: uuid.UUID, reason: str) -> None:
        """Catalog could not hold the stock: the order is refused, or cancelled and refunded if paid."""
        order = await self._lock_known(order_id, "stock.rejected")
        if order is None:
            return
        if order.status in (S.PAID, S.PROCESSING):
            await self._cancel(order, note=f"Stock refused after payment: {reason}",
                               reason=f"stock refused: {reason}", actor=Actor.CATALOG)
        elif await transition(self.session, order, S.REJECTED, note=f"Stock refused: {reason}", actor=Actor.CATALOG):
            if order.replaces_order_id is not None:
                await claims.replacement_refused(self.session, order, reason)

    async def mark_paid(self, order_id: uuid.UUID, *, amount: Decimal, currency: str) -> None:
        order = await self._lock_known(order_id, "order.paid")
        if order is None or order.paid_at is not None:
            return  # a second confirmation of the same money changes nothing
        note = "Payment confirmed"
        if quantize(amount) != quantize(order.amount_due) or currency != order.currency:
            totals = domain.money_text(order.amount_due, order.currency)
            note += f" ({domain.money_text(amount, currency)}; the order totals {totals})"
        if order.status in (S.CANCELLED, S.REJECTED):
            # The money arrived for an order that no longer exists: announce it again as a paid
            # cancellation so that payments gives the money back (it then confirms with a refund).
            order.paid_at = utcnow()
            await record_status(self.session, order, S(order.status), actor=Actor.PAYMENTS,
                                note=f"{note} after the order was {order.status}; refund requested")
            await outbox.add(self.session, OrderCancelled(order_id=order.id, owner_id=order.owner_id,
                                                          storefront=order.storefront, was_paid=True,
                                                          reason=f"paid after the order was {order.status}"))
        elif await transition(self.session, order, S.PAID, note=note, actor=Actor.PAYMENTS):
            log_order(self.session, order, "paid", amount, currency)
            if not order.ships:
                await transition(self.session, order, S.COMPLETED, note="Digital order fulfilled",
                                 actor=Actor.SYSTEM)
            # Last: its storefront's invoice counter stays locked from the number to the commit.
            await self.invoicing.issue(order)

    async def note_payment_failure(self, order_id: uuid.UUID, reason: str | None) -> None:
        order = await self._lock_known(order_id, "payment.failed")
        if order is not None:
            await record_status(self.session, order, S(order.status), actor=Actor.PAYMENTS,
                                note=f"Payment failed: {reason}" if reason else "Payment failed")

    async def mark_refunded(self, order_id: uuid.UUID, *, amount: Decimal, currency: str,
                            is_full: bool = True) -> None:
        order = await self._lock_known(order_id, "payment.refunded")
        if order is None or order.status == S.REFUNDED:
            return
        note = f"Refund of {domain.money_text(amount, currency)} confirmed"
        log_order(self.session, order, "refunded" if is_full else "partly refunded", amount, currency)
        if order.status in (S.CANCELLED, S.REJECTED) and is_full:
            await transition(self.session, order, S.REFUNDED, note=note, actor=Actor.PAYMENTS)
        else:
            # A refund made at the provider for a live order, or a partial refund (payment.refunded
            # with is_full false): recorded, the order is left as it is (only a cancellation releases
            # stock and stops fulfilment; only a full refund makes a cancelled order refunded).
            await record_status(self.session, order, S(order.status), note=note, actor=Actor.PAYMENTS)

    async def note_payment_returned(self, order_id: uuid.UUID, *, amount: Decimal, currency: str) -> None:
        """Money the order did not take (paid after its cancellation, or a second payment) came in
        and payments gave it back: the history says so; the order's status does not change."""
        order = await self._lock_known(order_id, "payment.returned")
        if order is None:
            return
        money = domain.money_text(amount, currency)
        if order.status in (S.CANCELLED, S.REJECTED, S.REFUNDED):
            after = "cancellation" if order.status != S.REJECTED else "rejection"
            note = f"Payment of {money} received after {after}; refunded"
        else:
            note = f"Second payment of {money} received; refunded"
        await record_status(self.session, order, S(order.status), note=note, actor=Actor.PAYMENTS)

    # -- shared ---------------------------------------------------------------------------------------

    async def _lock_known(self, order_id: uuid.UUID, event_type: str) -> LockedOrder | None:
        order = await self.orders.lock(order_id)
        if order is None:
            # Not an order of this platform's orders database: acknowledge, do not retry forever.
            log.warning("%s for unknown order %s ignored", event_type, order_id)
        return order

    async def _cancel(self, order: LockedOrder, *, note: str, reason: str | None, actor: Actor,
                      actor_id: uuid.UUID | None = None) -> None:
        if problem := domain.cancel_problem(order.status):
            raise OrderNotCancellable(problem, details={
                "status": order.status, "cancellable_from": sorted(s.value for s in domain.CANCELLABLE)})
        await transition(self.session, order, S.CANCELLED, note=note, actor=actor, actor_id=actor_id)
        await OrderEdits(self.session, self.context).refuse_waiting(order, "the order was cancelled")
        if order.replaces_order_id is not None:
            # An exchange's order cancelled before its lines came back: the exchange is off.
            await claims.exchange_order_cancelled(self.session, order, note)
        # Catalog releases the stock; payments refunds what was paid.
        await outbox.add(self.session, OrderCancelled(order_id=order.id, owner_id=order.owner_id,
                                                      storefront=order.storefront,
                                                      was_paid=order.paid_at is not None, reason=reason))


def _default_note(status: OrderStatus) -> str:
    return f"Status changed to {status.value} by staff"
