"""Order edits (Medusa's order edits, Saleor's editing of unconfirmed orders): staff change the
quantities of an order that has not shipped, remove lines or add catalog lines, see the order
re-priced first (`preview`), then confirm it (`confirm`).

A confirmation runs under the order's row lock (`OrderRepository.lock`), the lock shipping and
every status change take: an edit racing `mark shipped` either edits an order not shipped yet
(and the shipment ships the edited order) or finds it shipped and changes nothing (409
`ORDER_NOT_EDITABLE`). Two edits of one order take the lock in turn, so their versions follow
each other (the unique `(order_id, version)` backs it) and the second prices the order the first
left, its refund capped by what the first has not taken.

What the edit gives back travels as `order.edited` (outbox, same transaction): catalog puts the
units removed back on the shelf once (its inbox drops a redelivery), payments refunds `refund`
once per edit id and its `payment.refunded` names the edit (`return_id`), which makes orders
issue the credit note as for any refund and mark the edit refunded here.

An edit that adds units to an unpaid order is a saga with catalog: kept `pending`, it asks for
the units (`order.edit_requested`); catalog's `stock.edit_reserved` applies it under the row lock
if the order still awaits its payment (else it is refused and `order.edit_refused` gives the
units back), and `stock.edit_rejected` refuses it. One edit waits at a time.

An edit of a paid (or processing) order that raises its total is charged the difference: once
catalog holds the units it adds (the same saga), the edit waits for its payment
(`awaiting_payment`, `order.edit_awaiting_payment`: identity mails the customer a link that pays
exactly `amount_due` as a supplementary payment of the order). Payments' `order.edit_paid` applies
it under the row lock and issues its supplementary invoice; an edit not paid by `expires_at`, or
whose order shipped or was cancelled meanwhile, is refused: `order.edit_refused` makes catalog give
the units back and payments cancel (or give back) that edit's payment. A mixed edit nets out: the
difference of the totals is either refunded or charged, never both.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox, payment_links
from atelier_common.auth import Principal
from atelier_common.contracts.catalog import StockLine
from atelier_common.contracts.orders import (
    OrderEditAwaitingPayment,
    OrderEditChange,
    OrderEdited,
    OrderEditLine,
    OrderEditRefused,
    OrderEditRequested,
    OrderEditUnits,
)
from atelier_common.service import UseCase
from atelier_common.storefronts import Storefront, UnknownStorefront
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.drafts.service import MANUAL_KIND
from atelier_orders.edits import rules as edit_rules
from atelier_orders.errors import InvalidEditLine, OrderEditUnsupported, OrderNotEditable, OrderNotFound, OrdersError
from atelier_orders.invoices.service import Invoicing
from atelier_orders.models import Order, OrderEdit, OrderItem, OrderReturn, utcnow
from atelier_orders.pricing import destinations
from atelier_orders.promotions import rules as promotion_rules
from atelier_orders.promotions.repository import PromotionRepository
from atelier_orders.promotions.service import frozen_discounts
from atelier_orders.queries import OrderQueries
from atelier_orders.repository import OrderRepository, ReturnRepository
from atelier_orders.rows import LockedOrder, OrderDetails
from atelier_orders.schemas.edits import CustomerEditCreate, OrderEditCreate
from atelier_orders.service._shared import order_id_of, record_status, reload
from atelier_orders.service.payment_records import PaymentRecords
from atelier_orders.service.placing import LineRequest, PlacementService
from atelier_orders.service.reading import reader_of

log = logging.getLogger("atelier.orders.edits")


@dataclass(frozen=True)
class AddedLine:
    """A catalog line the edit adds: its item as the rules read it (quantity 0 before; its id is the
    order line's once applied), what it sells and how many."""

    item: edit_rules.EditItem
    variant_id: uuid.UUID | None
    sku: str
    name: str
    quantity: int
    variant_name: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def change(self) -> dict[str, Any]:
        """The line as a pending edit keeps it (`OrderEdit.changes`): priced when confirmed."""
        item = self.item
        return {"order_item_id": None, "product_id": str(item.product_id),
                "variant_id": str(self.variant_id) if self.variant_id else None, "sku": self.sku, "name": self.name,
                "old_quantity": 0, "new_quantity": self.quantity, "kind": item.kind, "unit_price": str(item.unit_price),
                "tax_rate": str(item.tax_rate), "tax_inclusive": item.tax_inclusive,
                "category_id": str(item.category_id) if item.category_id else None,
                "variant_name": self.variant_name, "attributes": self.attributes}

    @classmethod
    def of(cls, change: dict[str, Any], position: int) -> AddedLine:
        """A line a pending edit keeps (`change`), to apply it at `position`."""
        return cls(item=edit_rules.EditItem(
            id=uuid.uuid4(), position=position, product_id=uuid.UUID(change["product_id"]), kind=change["kind"],
            quantity=0, unit_price=Decimal(change["unit_price"]), tax_rate=Decimal(change["tax_rate"]),
            tax_inclusive=bool(change["tax_inclusive"]),
            category_id=uuid.UUID(change["category_id"]) if change.get("category_id") else None),
            variant_id=uuid.UUID(change["variant_id"]) if change.get("variant_id") else None, sku=change["sku"],
            name=change["name"], quantity=int(change["new_quantity"]), variant_name=change.get("variant_name"),
            attributes=dict(change.get("attributes") or {}))


@dataclass(frozen=True)
class EditPlan:
    """An edit priced: the order before, the lines after, and the money."""

    order: OrderDetails
    asked: dict[uuid.UUID, int]
    repriced: edit_rules.Repriced
    version: int
    refund: Decimal
    lost: list[dict[str, Any]]
    added: tuple[AddedLine, ...] = ()
    # The units the edit adds, by line (an order item's id, or an added line's): none, it applies at once.
    more: dict[str, int] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.order.status in edit_rules.PAID

    @property
    def due(self) -> Decimal:
        """What the edit leaves the customer owing (a paid order's total raised)."""
        return edit_rules.amount_due(self.order.total_amount, self.repriced.priced.total, paid=self.paid)

    def changes(self) -> list[dict[str, Any]]:
        return [{"order_item_id": str(item.id), "product_id": str(item.product_id),
                 "variant_id": str(item.variant_id) if item.variant_id else None, "sku": item.sku, "name": item.name,
                 "old_quantity": item.quantity, "new_quantity": self.asked[item.id]}
                for item in self.order.items if self.asked.get(item.id, item.quantity) != item.quantity
                ] + [added.change() for added in self.added]

    def read(self) -> dict[str, Any]:
        priced = self.repriced.priced
        new = dict(zip((i.id for i in self.repriced.lines), zip(self.repriced.quantities, priced.lines, strict=True),
                       strict=True))
        rows: list[tuple[uuid.UUID | None, uuid.UUID, uuid.UUID, uuid.UUID | None, str, str, int, Decimal]] = [
            (item.id, item.id, item.product_id, item.variant_id, item.sku, item.name, item.quantity,
             item.unit_price) for item in self.order.items]
        rows += [(None, a.item.id, a.item.product_id, a.variant_id, a.sku, a.name, 0, a.item.unit_price)
                 for a in self.added]
        lines = []
        for order_item_id, key, product_id, variant_id, sku, name, old_quantity, unit_price in rows:
            quantity, charge = new.get(key, (0, None))
            lines.append({"order_item_id": order_item_id, "product_id": product_id, "variant_id": variant_id,
                          "sku": sku, "name": name, "old_quantity": old_quantity,
                          "new_quantity": quantity, "unit_price": unit_price,
                          "line_total": charge.amount if charge else Decimal("0.00"),
                          "discount_amount": charge.discount if charge else Decimal("0.00"),
                          "tax_amount": charge.tax if charge else Decimal("0.00")})
        return {"order_id": self.order.id, "order_number": self.order.order_number, "status": self.order.status,
                "version": self.version, "currency": self.order.currency, "lines": lines,
                "subtotal": priced.subtotal, "discount": priced.discount, "shipping_cost": priced.shipping_cost,
                "tax_amount": priced.tax_amount, "tax_included": priced.tax_included, "total": priced.total,
                "old_total": self.order.total_amount, "difference": priced.total - self.order.total_amount,
                "refund": self.refund, "amount_due": self.due, "promotions_lost": self.lost}


async def edit_refunds(session: AsyncSession, order_id: uuid.UUID) -> tuple[Decimal, Decimal]:
    """What the order's edits asked payments to refund: in all, and not confirmed yet. What the order
    was charged (its own payment and its edits' supplementary ones) is its total plus the first."""
    row = (await session.execute(select(
        func.coalesce(func.sum(OrderEdit.refund_amount), 0),
        func.coalesce(func.sum(case((col(OrderEdit.refunded_at).is_(None), OrderEdit.refund_amount), else_=0)), 0))
        .where(col(OrderEdit.order_id) == order_id))).one()
    return Decimal(row[0]), Decimal(row[1])


def _what(changes: Sequence[dict[str, Any]]) -> str:
    return "; ".join(f"{c['sku']} {c['old_quantity']} → {c['new_quantity']}" for c in changes)


def _units(changes: Sequence[dict[str, Any]]) -> list[OrderEditUnits]:
    """The units an edit adds, by product and variant (a line raised, or added)."""
    units: dict[tuple[str, str | None], int] = {}
    for c in changes:
        if (more := int(c["new_quantity"]) - int(c["old_quantity"])) > 0:
            key = (c["product_id"], c.get("variant_id"))
            units[key] = units.get(key, 0) + more
    return [OrderEditUnits(product_id=uuid.UUID(p), variant_id=uuid.UUID(v) if v else None, quantity=q)
            for (p, v), q in units.items()]


class OrderEdits(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.orders = OrderRepository(session)

    async def preview(self, order_ref: str, data: OrderEditCreate) -> dict[str, Any]:
        """The order as `data` would make it, and the refund; nothing is written. The same checks
        as a confirmation, so a preview that answers is one a confirmation accepts (unless the
        order moved meanwhile)."""
        order = await OrderQueries(self.session).get(order_id_of(order_ref))
        if order is None:
            raise OrderNotFound()
        return (await self._plan(order, data)).read()

    async def confirm(self, order_ref: str, data: OrderEditCreate, staff: Principal) -> dict[str, Any]:
        """The edit written under the order's row lock, with the audit row (`order.edit`). One that
        only takes units away applies at once (`_apply`); one that adds units waits for catalog to
        hold them (`_request`: `pending`); one that raises a paid order's total without adding units
        (a promotion lost) waits for its payment at once (`_await_payment`). One edit waits at a time."""
        order_id = order_id_of(order_ref)
        await ReturnRepository(self.session).hold(order_id)
        locked = await self.orders.lock(order_id)
        if locked is None:
            raise OrderNotFound()
        await self._none_waiting(order_id)
        plan = await self._plan(await reload(self.session, order_id), data)
        if plan.more:
            edit = await self._request(plan, locked, reason=data.reason, staff_id=staff.user_id)
        elif plan.due > 0:
            edit = await self._await_payment(plan, locked, reason=data.reason, staff_id=staff.user_id)
        else:
            edit = await self._apply(plan, locked, reason=data.reason, staff_id=staff.user_id)
        await audit.record(self.session, staff, "order.edit", "order", order_id,
                           before={"version": edit.version - 1, "total": str(plan.order.total_amount)},
                           after={"version": edit.version, "edit_id": str(edit.id), "status": edit.status,
                                  "total": str(plan.repriced.priced.total), "refund": str(plan.refund),
                                  "amount_due": str(edit.amount_due), "changes": edit.changes}, reason=data.reason)
        return {**plan.read(), "edit": await self._read(edit, locked.storefront)}

    async def customer_preview(self, order_ref: str, data: CustomerEditCreate, viewer: Principal) -> dict[str, Any]:
        """A customer's edit of their own order, as `preview` answers it; another's order is 404."""
        order = await OrderQueries(self.session).get(order_id_of(order_ref), owner_id=viewer.owner_id,
                                                     reader=reader_of(viewer))
        if order is None:
            raise OrderNotFound()
        return (await self._customer_plan(order, data)).read()

    async def customer_confirm(self, order_ref: str, data: CustomerEditCreate, viewer: Principal) -> dict[str, Any]:
        """A customer's edit of their own order, under its row lock: only lowering or removing lines
        of an order awaiting its payment or paid (the storefront's `customer_order_edits`), so it
        applies at once (refunded the difference when paid), as a staff edit would, with the
        customer named in the history and no audit row (staff's actions are audited)."""
        order_id = order_id_of(order_ref)
        await ReturnRepository(self.session).hold(order_id)
        locked = await self.orders.lock(order_id, owner_id=viewer.owner_id)
        if locked is None:
            raise OrderNotFound()
        await self._none_waiting(order_id)
        plan = await self._customer_plan(await reload(self.session, order_id), data)
        edit = await self._apply(plan, locked, reason=data.reason, staff_id=None, customer_id=viewer.user_id)
        return {**plan.read(), "edit": await self._read(edit, locked.storefront)}

    async def _customer_plan(self, order: OrderDetails, data: CustomerEditCreate) -> EditPlan:
        try:
            allowed = bool((await self.context.storefronts.get(order.storefront)).policies.customer_order_edits)
        except UnknownStorefront:  # deleted since: its policy is gone with it
            allowed = False
        if problem := edit_rules.customer_edit_problem(order.status, allowed=allowed):
            reason, message = problem
            raise OrderNotEditable(message, details={"status": order.status, "reason": reason})
        asked = {c.order_item_id: c.quantity for c in data.changes}
        if raised := edit_rules.customer_raises(await self._items(order, ()), asked):
            raise InvalidEditLine(details={"fields": {"changes": list(raised.values())}, "changes": raised})
        return await self._plan(order, OrderEditCreate(changes=data.changes, reason=data.reason))

    async def stock_held(self, order_id: uuid.UUID, edit_id: uuid.UUID) -> None:
        """`stock.edit_reserved`: catalog holds the units the pending edit adds. Re-priced on the order
        as it is now (the same function; the added lines at the prices they were confirmed at), it
        applies if the order still awaits its payment (that payment charges the new total), or if
        it is paid or processing and the total does not rise (a mixed edit that nets out to a
        refund); a paid order whose total rises waits for the difference (`_await_payment`). Refused
        otherwise (cancelled, expired or shipped meanwhile), and catalog gives the units back
        (`order.edit_refused`). Once: a redelivery finds the edit no longer pending."""
        await ReturnRepository(self.session).hold(order_id)
        locked = await self.orders.lock(order_id)
        edit = await self._pending(order_id) if locked is not None else None
        if locked is None or edit is None or edit.id != edit_id:
            log.debug("stock.edit_reserved for edit %s of order %s: no such pending edit", edit_id, order_id)
            return
        order = await reload(self.session, order_id)
        if order.status != OrderStatus.AWAITING_PAYMENT and order.status not in edit_rules.PAID:
            await self._refuse(edit, locked, f"the order is {order.status} now", give_back=True)
            return
        try:
            plan = await self._replan(order, edit)
        except OrdersError as exc:  # the order changed so that the edit no longer fits it
            await self._refuse(edit, locked, exc.message, give_back=True)
            return
        if plan.due > 0:
            await self._await_payment(plan, locked, reason=edit.reason, staff_id=edit.staff_id, edit=edit)
            return
        await self._apply(plan, locked, reason=edit.reason, staff_id=edit.staff_id, edit=edit)

    async def edit_paid(self, order_id: uuid.UUID, edit_id: uuid.UUID, *, payment_id: uuid.UUID, amount: Decimal,
                        currency: str, provider: str) -> None:
        """`order.edit_paid`: the customer paid what the edit left due. Under the order's row lock,
        the edit waiting for it applies (re-priced on the order as it is: it must cost what was
        paid), the payment is recorded as the order's, and the supplementary invoice is issued.
        If the edit no longer waits (expired, refused) nothing changes here: payments gave (or gives)
        that money back on `order.edit_refused`. If the order shipped, was cancelled, or changed so
        that the edit costs another amount, the edit is refused now (and so given back). Once: a
        redelivery finds the edit applied."""
        await ReturnRepository(self.session).hold(order_id)
        locked = await self.orders.lock(order_id)
        edit = await self._edit(order_id, edit_id) if locked is not None else None
        if locked is None or edit is None or edit.status != "awaiting_payment":
            log.info("order.edit_paid for edit %s of order %s, which waits for no payment", edit_id, order_id)
            return
        order = await reload(self.session, order_id)
        if order.status not in edit_rules.PAID:
            await self._refuse(edit, locked, f"the order is {order.status} now; the payment is given back",
                               give_back=True, actor=Actor.PAYMENTS)
            return
        try:
            plan = await self._replan(order, edit)
        except OrdersError as exc:
            await self._refuse(edit, locked, f"{exc.message}; the payment is given back", give_back=True, actor=Actor.PAYMENTS)
            return
        if plan.due != amount or currency != order.currency:
            await self._refuse(edit, locked, f"the order changed: the edit costs {plan.due} now, "
                                             f"{amount} {currency} was paid; the payment is given back", give_back=True, actor=Actor.PAYMENTS)
            return
        edit.payment_id, edit.paid_at = payment_id, utcnow()
        await self._apply(plan, locked, reason=edit.reason, staff_id=edit.staff_id, edit=edit, paid=amount)
        await PaymentRecords(self.session, self.context).record(order_id, "payment", payment_id, amount=amount,
                                                                currency=currency, provider=provider)
        await Invoicing(self.session, self.context).issue_supplementary(locked, before=order, edit=edit)

    async def expire_waiting(self, now: datetime, limit: int) -> int:
        """Edits whose payment did not come by their deadline, refused (`order.edit_refused`: catalog
        gives the units back, payments closes the edit's payment page): how many. Each under its
        order's row lock, so a payment settling at that moment either applies the edit first or
        finds it refused (and is given back)."""
        stmt = (select(col(OrderEdit.order_id), col(OrderEdit.id)).where(
            col(OrderEdit.status) == "awaiting_payment", col(OrderEdit.expires_at) <= now)
            .order_by(col(OrderEdit.expires_at)).limit(limit))
        done = 0
        for order_id, edit_id in (await self.session.execute(stmt)).all():
            locked = await self.orders.lock(order_id)
            edit = await self._edit(order_id, edit_id) if locked is not None else None
            if locked is None or edit is None or edit.status != "awaiting_payment":
                continue
            await self._refuse(edit, locked, "its payment did not come in time", give_back=True, actor=Actor.SYSTEM)
            done += 1
        return done

    async def refuse_waiting(self, locked: LockedOrder, why: str) -> None:
        """The order (locked by the caller) shipped or was cancelled: an edit waiting for its payment
        will not apply (the units go back; its payment is closed, or given back if it came). One
        waiting for its stock is refused when catalog answers (`stock_held` finds the order moved on)."""
        for edit in await self._waiting(locked.id):
            if edit.status == "awaiting_payment":
                await self._refuse(edit, locked, why, give_back=True, actor=Actor.STAFF)

    async def stock_refused(self, order_id: uuid.UUID, edit_id: uuid.UUID, reason: str,
                            lines: Sequence[StockLine]) -> None:
        """`stock.edit_rejected`: catalog could not hold the units added; the edit is refused and the
        order stays as it was, with the reason in its history. Once."""
        locked = await self.orders.lock(order_id)
        edit = await self._pending(order_id) if locked is not None else None
        if locked is None or edit is None or edit.id != edit_id:
            return
        skus = {(c.get("product_id"), c.get("variant_id")): c["sku"] for c in edit.changes}
        short = ", ".join(f"{skus.get((str(line.product_id), str(line.variant_id) if line.variant_id else None))}"
                          f" {line.requested} asked, {line.available} available" for line in lines)
        await self._refuse(edit, locked, f"catalog could not hold the units added ({reason}"
                                         f"{': ' + short if short else ''})", give_back=False)

    async def history(self, order_ref: str) -> list[dict[str, Any]]:
        """The order's versions, oldest first (an order never edited: none); one waiting for its
        payment with its link."""
        order = await OrderQueries(self.session).get(order_id_of(order_ref))
        if order is None:
            raise OrderNotFound()
        stmt = select(OrderEdit).where(col(OrderEdit.order_id) == order.id).order_by(col(OrderEdit.version))
        return [await self._read(edit, order.storefront) for edit in (await self.session.execute(stmt)).scalars()]

    async def internal(self, order_id: uuid.UUID, edit_id: uuid.UUID) -> dict[str, Any]:
        """An edit as payments charges it (orders' internal API): its status and what it leaves due,
        with the order's internal read."""
        edit = await self._edit(order_id, edit_id)
        if edit is None:
            raise OrderNotFound()
        return {"id": edit.id, "version": edit.version, "status": edit.status, "amount_due": edit.amount_due,
                "currency": edit.currency, "expires_at": edit.expires_at}

    async def refunded(self, order_id: uuid.UUID, edit_id: uuid.UUID, *, refund_id: uuid.UUID | None) -> bool:
        """`payment.refunded` naming `edit_id` as its return: the edit is marked refunded, once.
        False when no edit of the order has that id (a return's refund, then)."""
        stmt = (update(OrderEdit).where(col(OrderEdit.id) == edit_id, col(OrderEdit.order_id) == order_id,
                                        col(OrderEdit.refunded_at).is_(None))
                .values(refund_id=refund_id or uuid.uuid4(), refunded_at=utcnow())
                .execution_options(synchronize_session=False))
        if (await self.session.execute(stmt)).rowcount:  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount; the type says Result
            return True
        found = await self.session.execute(select(col(OrderEdit.id)).where(col(OrderEdit.id) == edit_id))
        return found.first() is not None

    # -- shared --------------------------------------------------------------------------------------

    async def _pending(self, order_id: uuid.UUID) -> OrderEdit | None:
        stmt = select(OrderEdit).where(col(OrderEdit.order_id) == order_id, col(OrderEdit.status) == "pending")
        return (await self.session.execute(stmt)).scalars().first()

    async def _waiting(self, order_id: uuid.UUID) -> list[OrderEdit]:
        """The order's edit waiting for its stock or its payment (one at most)."""
        stmt = select(OrderEdit).where(col(OrderEdit.order_id) == order_id,
                                       col(OrderEdit.status).in_(("pending", "awaiting_payment")))
        return list((await self.session.execute(stmt)).scalars())

    async def _none_waiting(self, order_id: uuid.UUID) -> None:
        for waiting in await self._waiting(order_id):
            what = "its stock" if waiting.status == "pending" else "its payment"
            raise OrderEditUnsupported(f"Edit v{waiting.version} of this order waits for {what}; edit again once "
                                       "it is applied or refused", details={"reason": "edit_pending",
                                                                            "edit_id": str(waiting.id),
                                                                            "status": waiting.status})

    async def _edit(self, order_id: uuid.UUID, edit_id: uuid.UUID) -> OrderEdit | None:
        stmt = select(OrderEdit).where(col(OrderEdit.order_id) == order_id, col(OrderEdit.id) == edit_id)
        return (await self.session.execute(stmt)).scalars().first()

    async def _read(self, edit: OrderEdit, storefront: str) -> dict[str, Any]:
        """An edit as its readers see it; one waiting for its payment with the link that pays it."""
        read = {name: getattr(edit, name) for name in OrderEdit.model_fields}
        read["payment_url"] = None
        if edit.status == "awaiting_payment" and edit.expires_at is not None:
            try:
                found = await self.context.storefronts.get(storefront)
            except UnknownStorefront:  # deleted since: no page to link to
                return read
            read["payment_url"] = edit_payment_url(self.context.settings.service_token, found, edit.order_id,
                                                   edit.id, edit.expires_at)
        return read

    async def _await_payment(self, plan: EditPlan, locked: LockedOrder, *, reason: str, staff_id: uuid.UUID | None,
                             edit: OrderEdit | None = None) -> OrderEdit:
        """An edit of a paid order that raises its total, its units held (or none added): kept
        `awaiting_payment` with what it leaves due and until when, the order unchanged, and
        `order.edit_awaiting_payment` for identity to mail the customer the link that pays it."""
        order, now = plan.order, utcnow()
        expires_at = now + timedelta(hours=self.context.settings.edit_payment_hours)
        if edit is None:
            edit = OrderEdit(order_id=order.id, version=plan.version, staff_id=staff_id, reason=reason,
                             changes=plan.changes(), currency=order.currency, old_total=order.total_amount,
                             new_total=plan.repriced.priced.total, refund_amount=Decimal("0.00"), created_at=now)
            self.session.add(edit)
        edit.status, edit.old_total, edit.new_total = "awaiting_payment", order.total_amount, plan.repriced.priced.total
        edit.amount_due, edit.expires_at = plan.due, expires_at
        await self.session.flush()
        storefront = await self.context.storefronts.get(order.storefront)
        await outbox.add(self.session, OrderEditAwaitingPayment(
            storefront=order.storefront, edit_id=edit.id, edit_version=edit.version, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, email=order.email,
            reason=edit.reason, old_total=edit.old_total, new_total=edit.new_total, amount_due=edit.amount_due,
            currency=order.currency, lines=[OrderEditChange(
                order_item_id=c["order_item_id"], product_id=c["product_id"], variant_id=c.get("variant_id"),
                sku=c["sku"], name=c.get("name"), old_quantity=c["old_quantity"], new_quantity=c["new_quantity"])
                for c in edit.changes],
            payment_url=edit_payment_url(self.context.settings.service_token, storefront, order.id, edit.id,
                                         expires_at), expires_at=expires_at))
        await record_status(self.session, locked, OrderStatus(locked.status),
                            actor=Actor.CATALOG if plan.more else Actor.STAFF,
                            actor_id=None if plan.more else staff_id,
                            note=f"Edit v{edit.version} waits for its payment of "
                                 f"{domain.money_text(edit.amount_due, order.currency)}: {_what(edit.changes)}; total "
                                 f"{domain.money_text(order.total_amount, order.currency)} → "
                                 f"{domain.money_text(edit.new_total, order.currency)} ({edit.reason})"[:1000])
        log.info("order %s: edit v%s waits for its payment of %s", order.order_number, edit.version, edit.amount_due)
        return edit

    async def _request(self, plan: EditPlan, locked: LockedOrder, *, reason: str,
                       staff_id: uuid.UUID | None) -> OrderEdit:
        """An edit that adds units, kept `pending` with what it asks (the lines added with their
        price), and `order.edit_requested` for catalog to hold the units; the order is unchanged."""
        order = plan.order
        edit = OrderEdit(order_id=order.id, version=plan.version, staff_id=staff_id, reason=reason,
                         changes=plan.changes(), currency=order.currency, old_total=order.total_amount,
                         new_total=plan.repriced.priced.total, refund_amount=Decimal("0.00"), status="pending",
                         created_at=utcnow())
        self.session.add(edit)
        await self.session.flush()
        await outbox.add(self.session, OrderEditRequested(
            edit_id=edit.id, edit_version=edit.version, order_id=order.id, order_number=order.order_number,
            lines=_units(edit.changes)))
        await record_status(self.session, locked, OrderStatus(locked.status), actor=Actor.STAFF, actor_id=staff_id,
                            note=f"Edit v{edit.version} waits for stock: {_what(edit.changes)}; total "
                                 f"{domain.money_text(order.total_amount, order.currency)} → "
                                 f"{domain.money_text(edit.new_total, order.currency)} ({reason})"[:1000])
        log.info("order %s: edit v%s waits for stock", order.order_number, edit.version)
        return edit

    async def _apply(self, plan: EditPlan, locked: LockedOrder, *, reason: str, staff_id: uuid.UUID | None,
                     edit: OrderEdit | None = None, paid: Decimal = Decimal("0.00"),
                     customer_id: uuid.UUID | None = None) -> OrderEdit:
        """The edit written: the lines (added ones inserted) and totals, the version (a pending
        `edit` applied), a history entry and `order.edited` (stock back, refund), in this transaction."""
        order, priced = plan.order, plan.repriced.priced
        await self._write_lines(plan)
        await self.session.execute(update(Order).where(col(Order.id) == order.id).values(
            subtotal=priced.subtotal, tax_amount=priced.tax_amount, shipping_cost=priced.shipping_cost,
            discount=priced.discount, total_amount=priced.total, tax_included=priced.tax_included,
            shipping_discount=priced.shipping.discount if priced.shipping else Decimal("0.00"),
            shipping_tax=priced.shipping_tax,
            discounts=frozen_discounts(plan.repriced.quote)).execution_options(synchronize_session=False))
        changes = plan.changes()
        for change, added in zip(changes[len(changes) - len(plan.added):], plan.added, strict=True):
            change["order_item_id"] = str(added.item.id)
        if edit is None:
            edit = OrderEdit(order_id=order.id, version=plan.version, staff_id=staff_id, reason=reason,
                             changes=changes, currency=order.currency, old_total=order.total_amount,
                             new_total=priced.total, refund_amount=plan.refund, created_at=utcnow())
            self.session.add(edit)
        else:
            edit.changes, edit.old_total, edit.new_total, edit.status = (changes, order.total_amount, priced.total,
                                                                          "applied")
            edit.refund_amount = plan.refund
        await self.session.flush()
        await outbox.add(self.session, OrderEdited(
            storefront=order.storefront, edit_id=edit.id, edit_version=edit.version, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=reason,
            old_total=order.total_amount, new_total=priced.total, refund=plan.refund, currency=order.currency,
            email=order.email, paid=paid, lines=[OrderEditLine(order_item_id=c["order_item_id"], product_id=c["product_id"],
                                 variant_id=c["variant_id"], sku=c["sku"], old_quantity=c["old_quantity"],
                                 new_quantity=c["new_quantity"]) for c in changes]))
        money = (f"total {domain.money_text(order.total_amount, order.currency)} → "
                 f"{domain.money_text(priced.total, order.currency)}")
        refund = f"; refund of {domain.money_text(plan.refund, order.currency)}" if plan.refund > 0 else ""
        if paid > 0:
            refund = f"; {domain.money_text(paid, order.currency)} paid"
        # Applied on catalog's (or payments') answer: it moved it; the staff member (or customer) asked.
        actor, actor_id = ((Actor.PAYMENTS, None) if paid > 0 else (Actor.CATALOG, None) if plan.more
                           else (Actor.CUSTOMER, customer_id) if customer_id is not None else (Actor.STAFF, staff_id))
        await record_status(self.session, locked, OrderStatus(locked.status), actor=actor, actor_id=actor_id,
                            note=f"Edit v{edit.version}: {_what(changes)}; {money}{refund} ({reason})"[:1000])
        log.info("order %s edited to v%s: %s", order.order_number, edit.version, money)
        return edit

    async def _refuse(self, edit: OrderEdit, locked: LockedOrder, why: str, *, give_back: bool,
                      actor: Actor = Actor.CATALOG) -> None:
        """A pending edit that will not apply: kept `refused` with `why`, noted in the order's
        history; the units catalog held for it go back when it held them (`give_back`)."""
        edit.status, edit.note = "refused", why[:500]
        await self.session.flush()
        if give_back:
            await outbox.add(self.session, OrderEditRefused(
                edit_id=edit.id, edit_version=edit.version, order_id=edit.order_id,
                order_number=locked.order_number, lines=_units(edit.changes)))
        await record_status(self.session, locked, OrderStatus(locked.status), actor=actor,
                            note=f"Edit v{edit.version} refused: {why}"[:1000])
        log.info("order %s: edit v%s refused: %s", locked.order_number, edit.version, why)

    async def _replan(self, order: OrderDetails, edit: OrderEdit) -> EditPlan:
        """A pending edit priced on the order as it is now."""
        promotions = await self._promotions(order)
        items = await self._items(order, promotions)
        start = max((i.position for i in items), default=0) + 1
        asked = {uuid.UUID(c["order_item_id"]): int(c["new_quantity"]) for c in edit.changes if c["order_item_id"]}
        added = [AddedLine.of(c, start + n) for n, c in enumerate(c for c in edit.changes if not c["order_item_id"])]
        return await self._price(order, asked, added, promotions, items, version=edit.version)

    async def _plan(self, order: OrderDetails, data: OrderEditCreate) -> EditPlan:
        if problem := edit_rules.edit_problem(order.status):
            raise OrderNotEditable(problem, details={"status": order.status})
        # A draft's manual discount has no promotion to judge it again by.
        if any(d.get("kind") == MANUAL_KIND for d in order.discounts):
            raise OrderEditUnsupported("An order with a manual discount cannot be edited yet",
                                       details={"reason": "manual_discount"})
        if not data.changes and not data.additions:
            raise InvalidEditLine("Nothing changes", details={"fields": {"changes": [
                "Give a line another quantity, 0 to remove it, or add a line"]}})
        asked: dict[uuid.UUID, int] = {}
        for change in data.changes:
            if change.order_item_id in asked:
                raise InvalidEditLine("A line is named twice", details={
                    "fields": {"changes": [f"Order item {change.order_item_id} is named twice"]}})
            asked[change.order_item_id] = change.quantity
        promotions = await self._promotions(order)
        items = await self._items(order, promotions)
        added = await self._added(order, data, promotions, start=max((i.position for i in items), default=0) + 1)
        return await self._price(order, asked, added, promotions, items)

    async def _price(self, order: OrderDetails, asked: dict[uuid.UUID, int], added: Sequence[AddedLine],
                     promotions: Sequence[promotion_rules.PromotionTerms], items: list[edit_rules.EditItem], *,
                     version: int | None = None) -> EditPlan:
        items = [*items, *(a.item for a in added)]
        asked = {**asked, **{a.item.id: a.quantity for a in added}}
        if invalid := edit_rules.change_problems(items, asked):
            raise InvalidEditLine(details={"fields": {"changes": list(invalid.values())}, "changes": invalid})
        paid = order.status in edit_rules.PAID
        more = edit_rules.added_units(items, asked)
        code = next((d.get("code") for d in order.discounts if d.get("code")), None)
        ships = any(item.kind in domain.SHIPPED_KINDS for item in order.items)
        shipping = edit_rules.Shipping(cost=order.shipping_cost + order.shipping_discount if ships else None,
                                       taxed=order.shipping_tax > 0, inclusive=order.shipping_tax_inclusive)
        repriced = edit_rules.reprice(items, asked, promotions=promotions, code=code,
                                      standard_rate=order.tax_rate or Decimal("0"), shipping=shipping,
                                      now=order.created_at)
        refund = edit_rules.refund_of(order.total_amount, repriced.priced.total, paid=paid,
                                      refundable=await self._refundable(order) if paid else Decimal("0"))
        if version is None:
            version = int((await self.session.execute(select(func.coalesce(func.max(OrderEdit.version), 0)).where(
                col(OrderEdit.order_id) == order.id))).scalar_one()) + 1
        by_id = {p.id: p for p in promotions}
        lost = [{"promotion_id": pid, "name": by_id[pid].name, "code": by_id[pid].code} for pid in repriced.lost]
        return EditPlan(order=order, asked=asked, repriced=repriced, version=version, refund=refund, lost=lost,
                        added=tuple(added), more=more)

    async def _added(self, order: OrderDetails, data: OrderEditCreate,
                     promotions: Sequence[promotion_rules.PromotionTerms], *, start: int) -> list[AddedLine]:
        """The catalog lines `data` adds, priced as placing prices a line (catalog's lookup, at what
        the customer group the order was priced at pays: `Order.customer_group`, never the request's)
        and taxed at the order's destination by their tax class. Goods from stock only, each once,
        and not one the order has (raise that line)."""
        if not data.additions:
            return []
        have = {(item.product_id, item.variant_id) for item in order.items}
        asked = [(a.product_id, a.variant_id) for a in data.additions]
        problems = [f"{product_id}/{variant_id or '-'}: the order has this line; raise its quantity instead"
                    for product_id, variant_id in asked if (product_id, variant_id) in have]
        if len(set(asked)) != len(asked):
            problems.append("A product (or variant) is added twice")
        if problems:
            raise InvalidEditLine(details={"fields": {"additions": problems}})
        storefront = await self.context.storefronts.get(order.storefront)
        priced = await PlacementService(self.session, self.context).priced_lines(
            [LineRequest(quantity=a.quantity, product_id=a.product_id, variant_id=a.variant_id)
             for a in data.additions], storefront, order.customer_group, locale=order.locale)
        if kinds := [f"{line.sku}: a {line.product.kind} is not goods from stock" for line in priced
                     if not edit_rules.is_editable_kind(line.product.kind)]:
            raise InvalidEditLine(details={"fields": {"additions": kinds}})
        address = order.shipping_address or {}
        tax = destinations.shipping_quote(
            storefront, country=address.get("country"), region=address.get("state"),
            lines=((line.product.kind, line.unit_price * line.request.quantity, line.request.quantity,
                    line.attributes) for line in priced),
            tax_inclusive_kinds=self.context.settings.tax_inclusive_kinds,
            shipping_cost=self.context.settings.shipping_cost).tax
        categories = {line.product.id: line.product.category_id for line in priced} if any(
            p.category_ids for p in promotions) else {}
        return [AddedLine(item=edit_rules.EditItem(
                    id=uuid.uuid4(), position=start + n, product_id=line.product.id, kind=line.product.kind, quantity=0,
                    unit_price=line.unit_price, tax_rate=tax.rate_of(line.product.tax_class),
                    tax_inclusive=line.product.kind in tax.inclusive_kinds,
                    category_id=categories.get(line.product.id)),
                    variant_id=line.variant_id, sku=line.sku, name=line.product.name, quantity=line.request.quantity,
                    variant_name=line.variant_name, attributes=line.attributes)
                for n, line in enumerate(priced)]

    async def _promotions(self, order: OrderDetails) -> list[promotion_rules.PromotionTerms]:
        """The promotions the order was given, as they read now (one deleted since: no longer given)."""
        repository = PromotionRepository(self.session)
        found = []
        for discount in order.discounts:
            promotion_id = domain.parse_uuid(str(discount.get("promotion_id") or ""))
            if promotion_id is not None and (terms := await repository.read(promotion_id)) is not None:
                found.append(terms)
        return found

    async def _items(self, order: OrderDetails,
                     promotions: Sequence[promotion_rules.PromotionTerms]) -> list[edit_rules.EditItem]:
        categories: dict[uuid.UUID, uuid.UUID | None] = {}
        if any(p.category_ids for p in promotions):
            # Only promotions of categories need them; the rows keep no category.
            products = await self.context.clients.lookup_products(
                ids={item.product_id for item in order.items}, storefront=order.storefront)
            categories = {p.id: p.category_id for p in products}
        return [edit_rules.EditItem(id=item.id, position=item.position, product_id=item.product_id, kind=item.kind,
                                    quantity=item.quantity, unit_price=item.unit_price, tax_rate=item.tax_rate,
                                    tax_inclusive=item.tax_inclusive, category_id=categories.get(item.product_id))
                for item in order.items]

    async def _refundable(self, order: OrderDetails) -> Decimal:
        """What the order's payment has left to give back, as orders knows it: what was paid, less
        the refunds payments announced and those asked for that it has not confirmed yet (edits,
        received returns). Payments checks again under its own lock (it alone knows every refund)."""
        records = await PaymentRecords(self.session, self.context).of_order(order.id)
        paid = sum((r.amount or Decimal("0") for r in records if r.kind == "payment"), Decimal("0"))
        refunded = sum((r.amount or Decimal("0") for r in records if r.kind == "refund"), Decimal("0"))
        _, waiting = await edit_refunds(self.session, order.id)
        returns = await self.session.execute(select(func.coalesce(func.sum(OrderReturn.amount), 0)).where(
            col(OrderReturn.order_id) == order.id, col(OrderReturn.status) == "received",
            col(OrderReturn.refund_id).is_(None)))
        return paid - refunded - waiting - Decimal(returns.scalar_one())

    async def _write_lines(self, plan: EditPlan) -> None:
        """Each kept line's new quantity and its charge as re-priced (discounts and tax shift with
        the promotions judged again); removed lines go (their versions keep what they were)."""
        kept = dict(zip((i.id for i in plan.repriced.lines), zip(plan.repriced.quantities, plan.repriced.priced.lines,
                                                                 strict=True), strict=True))
        for item in plan.order.items:
            if item.id not in kept:
                await self.session.execute(delete(OrderItem).where(col(OrderItem.id) == item.id)
                                           .execution_options(synchronize_session=False))
                continue
            quantity, charge = kept[item.id]
            await self.session.execute(update(OrderItem).where(col(OrderItem.id) == item.id).values(
                quantity=quantity, line_total=charge.amount, discount_amount=charge.discount, tax_amount=charge.tax)
                .execution_options(synchronize_session=False))
        for added in plan.added:
            quantity, charge = kept[added.item.id]
            self.session.add(OrderItem(
                id=added.item.id, order_id=plan.order.id, position=added.item.position,
                product_id=added.item.product_id, variant_id=added.variant_id, sku=added.sku, name=added.name,
                variant_name=added.variant_name, kind=added.item.kind, quantity=quantity,
                unit_price=added.item.unit_price, line_total=charge.amount, discount_amount=charge.discount,
                tax_rate=added.item.tax_rate, tax_amount=charge.tax, tax_inclusive=added.item.tax_inclusive,
                attributes=added.attributes))


def edit_payment_url(secret: str, storefront: Storefront, order_id: uuid.UUID, edit_id: uuid.UUID,
                     expires_at: datetime) -> str:
    """The storefront's page that pays what the edit `edit_id` left due (`pay_edit`), its token
    signed for the edit (`atelier_common.payment_links`): it pays that edit's difference only."""
    return storefront.link("pay_edit", order_id=str(order_id), edit_id=str(edit_id),
                           token=payment_links.sign(secret, edit_id, expires_at))
