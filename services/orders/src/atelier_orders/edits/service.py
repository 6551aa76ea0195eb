"""Order edits (Medusa's order edits, Saleor's editing of unconfirmed orders): staff lower the
quantities of an order that has not shipped, or remove lines, see the order re-priced first
(`preview`), then confirm it (`confirm`).

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
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.orders import OrderEdited, OrderEditLine
from atelier_common.service import UseCase
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.drafts.service import MANUAL_KIND
from atelier_orders.edits import rules as edit_rules
from atelier_orders.errors import InvalidEditLine, OrderEditUnsupported, OrderNotEditable, OrderNotFound
from atelier_orders.models import Order, OrderEdit, OrderItem, OrderReturn, utcnow
from atelier_orders.pricing import destinations
from atelier_orders.promotions import rules as promotion_rules
from atelier_orders.promotions.repository import PromotionRepository
from atelier_orders.promotions.service import frozen_discounts
from atelier_orders.queries import OrderQueries
from atelier_orders.repository import OrderRepository, ReturnRepository
from atelier_orders.rows import OrderDetails
from atelier_orders.schemas.edits import OrderEditCreate
from atelier_orders.service._shared import order_id_of, record_status, reload
from atelier_orders.service.payment_records import PaymentRecords
from atelier_orders.service.placing import LineRequest, PlacementService

log = logging.getLogger("atelier.orders.edits")


@dataclass(frozen=True)
class AddedLine:
    """A catalog line the edit adds: its item as the rules read it (quantity 0 before), and what it sells."""

    item: edit_rules.EditItem
    variant_id: uuid.UUID | None
    sku: str
    name: str


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

    @property
    def paid(self) -> bool:
        return self.order.status in edit_rules.PAID

    def changes(self) -> list[dict[str, Any]]:
        return [{"order_item_id": str(item.id), "sku": item.sku, "name": item.name, "old_quantity": item.quantity,
                 "new_quantity": self.asked[item.id]}
                for item in self.order.items if self.asked.get(item.id, item.quantity) != item.quantity]

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
                "refund": self.refund, "amount_due": edit_rules.amount_due(
                    self.order.total_amount, priced.total, paid=self.paid), "promotions_lost": self.lost}


async def edit_refunds(session: AsyncSession, order_id: uuid.UUID) -> tuple[Decimal, Decimal]:
    """What the order's edits asked payments to refund: in all, and not confirmed yet. An edit lowers
    the order's total, so what the order was charged is its total plus the first."""
    row = (await session.execute(select(
        func.coalesce(func.sum(OrderEdit.refund_amount), 0),
        func.coalesce(func.sum(case((col(OrderEdit.refunded_at).is_(None), OrderEdit.refund_amount), else_=0)), 0))
        .where(col(OrderEdit.order_id) == order_id))).one()
    return Decimal(row[0]), Decimal(row[1])


def _adding_refused(units: dict[str, int]) -> OrderEditUnsupported:
    # Adding units waits for their reservation by catalog and the charge of the difference.
    return OrderEditUnsupported("An edit that adds units can be previewed, not confirmed yet: the extra units "
                                "must be reserved and the difference charged first",
                                details={"reason": "quantity_increase", "changes": units})


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
        return (await self._plan(order, data, confirming=False)).read()

    async def confirm(self, order_ref: str, data: OrderEditCreate, staff: Principal) -> dict[str, Any]:
        """The edit written under the order's row lock: its lines and totals, a version with what
        changed, who, why and the totals, a history entry, the audit row (`order.edit`) and
        `order.edited` (stock back, refund), all in this transaction."""
        order_id = order_id_of(order_ref)
        await ReturnRepository(self.session).hold(order_id)
        locked = await self.orders.lock(order_id)
        if locked is None:
            raise OrderNotFound()
        plan = await self._plan(await reload(self.session, order_id), data, confirming=True)
        order, priced = plan.order, plan.repriced.priced
        now = utcnow()
        await self._write_lines(plan)
        await self.session.execute(update(Order).where(col(Order.id) == order.id).values(
            subtotal=priced.subtotal, tax_amount=priced.tax_amount, shipping_cost=priced.shipping_cost,
            discount=priced.discount, total_amount=priced.total, tax_included=priced.tax_included,
            shipping_discount=priced.shipping.discount if priced.shipping else Decimal("0.00"),
            shipping_tax=priced.shipping_tax,
            discounts=frozen_discounts(plan.repriced.quote)).execution_options(synchronize_session=False))
        changes = plan.changes()
        edit = OrderEdit(order_id=order.id, version=plan.version, staff_id=staff.user_id, reason=data.reason,
                         changes=changes, currency=order.currency, old_total=order.total_amount,
                         new_total=priced.total, refund_amount=plan.refund, created_at=now)
        self.session.add(edit)
        await self.session.flush()
        items = {str(item.id): item for item in order.items}
        await outbox.add(self.session, OrderEdited(
            storefront=order.storefront, edit_id=edit.id, edit_version=edit.version, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=data.reason,
            old_total=order.total_amount, new_total=priced.total, refund=plan.refund, currency=order.currency,
            lines=[OrderEditLine(order_item_id=item.id, product_id=item.product_id, variant_id=item.variant_id,
                                 sku=item.sku, old_quantity=c["old_quantity"], new_quantity=c["new_quantity"])
                   for c in changes for item in (items[c["order_item_id"]],)]))
        what = "; ".join(f"{c['sku']} {c['old_quantity']} → {c['new_quantity']}" for c in changes)
        money = (f"total {domain.money_text(order.total_amount, order.currency)} → "
                 f"{domain.money_text(priced.total, order.currency)}")
        refund = f"; refund of {domain.money_text(plan.refund, order.currency)}" if plan.refund > 0 else ""
        await record_status(self.session, locked, OrderStatus(locked.status), actor=Actor.STAFF,
                            actor_id=staff.user_id,
                            note=f"Edit v{edit.version}: {what}; {money}{refund} ({data.reason})"[:1000])
        await audit.record(self.session, staff, "order.edit", "order", order.id,
                           before={"version": edit.version - 1, "total": str(order.total_amount)},
                           after={"version": edit.version, "edit_id": str(edit.id), "total": str(priced.total),
                                  "refund": str(plan.refund), "changes": changes}, reason=data.reason)
        log.info("order %s edited to v%s: %s", order.order_number, edit.version, money)
        return {**plan.read(), "edit": edit}

    async def history(self, order_ref: str) -> Sequence[OrderEdit]:
        """The order's versions, oldest first (an order never edited: none)."""
        order = await OrderQueries(self.session).get(order_id_of(order_ref))
        if order is None:
            raise OrderNotFound()
        stmt = select(OrderEdit).where(col(OrderEdit.order_id) == order.id).order_by(col(OrderEdit.version))
        return list((await self.session.execute(stmt)).scalars())

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

    async def _plan(self, order: OrderDetails, data: OrderEditCreate, *, confirming: bool) -> EditPlan:
        if problem := edit_rules.edit_problem(order.status):
            raise OrderNotEditable(problem, details={"status": order.status})
        # A draft's manual discount has no promotion to judge it again by.
        if any(d.get("kind") == MANUAL_KIND for d in order.discounts):
            raise OrderEditUnsupported("An order with a manual discount cannot be edited yet",
                                       details={"reason": "manual_discount"})
        if not data.changes and not data.additions:
            raise InvalidEditLine("Nothing changes", details={"fields": {"changes": [
                "Give a line another quantity, 0 to remove it, or add a line"]}})
        if confirming and data.additions:
            raise _adding_refused({f"addition {i}": a.quantity for i, a in enumerate(data.additions)})
        asked: dict[uuid.UUID, int] = {}
        for change in data.changes:
            if change.order_item_id in asked:
                raise InvalidEditLine("A line is named twice", details={
                    "fields": {"changes": [f"Order item {change.order_item_id} is named twice"]}})
            asked[change.order_item_id] = change.quantity
        promotions = await self._promotions(order)
        items = await self._items(order, promotions)
        added = await self._added(order, data, promotions, start=max((i.position for i in items), default=0) + 1)
        items += [a.item for a in added]
        asked |= {a.item.id: quantity for a, quantity in zip(added, (x.quantity for x in data.additions),
                                                              strict=True)}
        if invalid := edit_rules.change_problems(items, asked):
            raise InvalidEditLine(details={"fields": {"changes": list(invalid.values())}, "changes": invalid})
        if confirming and (more := edit_rules.added_units(items, asked)):
            raise _adding_refused(more)
        code = next((d.get("code") for d in order.discounts if d.get("code")), None)
        ships = any(item.kind in domain.SHIPPED_KINDS for item in order.items)
        shipping = edit_rules.Shipping(cost=order.shipping_cost + order.shipping_discount if ships else None,
                                       taxed=order.shipping_tax > 0, inclusive=order.shipping_tax_inclusive)
        repriced = edit_rules.reprice(items, asked, promotions=promotions, code=code,
                                      standard_rate=order.tax_rate or Decimal("0"), shipping=shipping,
                                      now=order.created_at)
        if confirming and repriced.priced.total > order.total_amount:
            raise OrderEditUnsupported("The edit would raise the order's total (a promotion no longer applies); "
                                       "charging the difference is not supported yet", details={
                                           "reason": "total_increase", "old_total": str(order.total_amount),
                                           "new_total": str(repriced.priced.total)})
        paid = order.status in edit_rules.PAID
        refund = edit_rules.refund_of(order.total_amount, repriced.priced.total, paid=paid,
                                      refundable=await self._refundable(order) if paid else Decimal("0"))
        version = int((await self.session.execute(select(func.coalesce(func.max(OrderEdit.version), 0)).where(
            col(OrderEdit.order_id) == order.id))).scalar_one()) + 1
        by_id = {p.id: p for p in promotions}
        lost = [{"promotion_id": pid, "name": by_id[pid].name, "code": by_id[pid].code} for pid in repriced.lost]
        return EditPlan(order=order, asked=asked, repriced=repriced, version=version, refund=refund, lost=lost,
                        added=tuple(added))

    async def _added(self, order: OrderDetails, data: OrderEditCreate,
                     promotions: Sequence[promotion_rules.PromotionTerms], *, start: int) -> list[AddedLine]:
        """The catalog lines `data` adds, priced as placing prices a line (catalog's lookup, at list
        prices: the order keeps no customer group) and taxed at the order's destination by their
        tax class. Goods from stock only, each once, and not one the order has (raise that line)."""
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
             for a in data.additions], storefront)
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
                    variant_id=line.variant_id, sku=line.sku, name=line.product.name)
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
