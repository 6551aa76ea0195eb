"""Returns: a customer or staff opens one on a delivered order's shipped lines, staff receive
it (which lines go back on sale, whether shipping is refunded), payments refunds the amount orders
computed, and catalog restocks the resaleable lines.

Every change of a return happens under its order's row lock (`OrderRepository.lock`), the lock
the status changes and `payment.refunded` take too, so an order's returns are decided one at a
time: two returns opened at once cannot take the same unit, and the amount a return asks for sees
every refund orders knows of. Status moves are guarded UPDATEs besides (`ReturnRepository.move`):
a return received twice asks for its refund once (the second call is 409 `RETURN_NOT_OPEN`).

The refund travels as `return.received` (outbox, same transaction); payments refunds it once per
return id and never more than remains of the payment, and its `payment.refunded` names the
return. That event may be heard before or after orders marks the return received (events of an
order arrive in any order): heard first, the refund is kept on the return, which is refunded as
soon as it is received.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import ORDER_READERS, Principal
from atelier_common.contracts.orders import ReturnLine, ReturnReceived, ReturnRejected, ReturnRequested
from atelier_common.service import UseCase
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.errors import (
    InvalidReturnLine,
    OrderNotFound,
    OrderNotReturnable,
    ReturnNotFound,
    ReturnNotOpen,
    ReturnQuantityExceeded,
)
from atelier_orders.models import OrderReturn, OrderReturnLine, utcnow
from atelier_orders.queries import OrderQueries
from atelier_orders.repository import OrderRepository, ReturnRepository
from atelier_orders.returns import rules as return_rules
from atelier_orders.returns.rules import ReturnStatus
from atelier_orders.rows import LockedOrder, OrderDetails
from atelier_orders.schemas import ReturnCreate, ReturnReceive, StaffReturnQuery
from atelier_orders.service._shared import order_id_of, record_status, reload, transition
from atelier_orders.service.payment_records import PaymentRecords
from atelier_orders.service.reading import reader_of

log = logging.getLogger("atelier.orders.returns")
R = ReturnStatus


@dataclass(frozen=True)
class ReturnPicture:
    """A return with its lines, as the API shows it (`schemas.ReturnRead`)."""

    ret: OrderReturn
    lines: Sequence[OrderReturnLine]

    def read(self) -> dict[str, object]:
        return {**self.ret.model_dump(), "items": [
            {**line.model_dump(exclude={"item_id", "restock"}), "order_item_id": line.item_id,
             "resaleable": line.restock} for line in self.lines]}


def _return_id_of(ref: str) -> uuid.UUID:
    return_id = domain.parse_uuid(ref)
    if return_id is None:
        raise ReturnNotFound()
    return return_id


class Returns(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.orders = OrderRepository(session)
        self.returns = ReturnRepository(session)

    # -- opening -------------------------------------------------------------------------------------

    async def open(self, order_ref: str, data: ReturnCreate, viewer: Principal, *,
                   staff: bool = False) -> ReturnPicture:
        """A return of `data.lines` of a delivered order: the customer's own order, or any order
        when `staff` (the route checked the role; audited then). Settled under the order's lock:
        no unit is ever in two returns that were not rejected."""
        order_id = order_id_of(order_ref)
        await self.returns.hold(order_id)
        order = await self.orders.lock(order_id, owner_id=None if staff else viewer.owner_id)
        if order is None:
            raise OrderNotFound()
        if problem := return_rules.return_problem(order.status):
            raise OrderNotReturnable(problem, details={"status": order.status})
        details = await reload(self.session, order.id)
        asked: dict[uuid.UUID, int] = {}
        for line in data.items:
            asked[line.order_item_id] = asked.get(line.order_item_id, 0) + line.quantity
        returnable = return_rules.returnable_quantities(
            ((i.id, i.kind, i.quantity) for i in details.items),
            await self.returns.units_by_item(order.id, return_rules.RETURN_HOLDS))
        if problems := return_rules.quantity_problems(asked, returnable):
            unknown = {k: v for k, v in problems.items() if uuid.UUID(k) not in returnable}
            if unknown:
                raise InvalidReturnLine(details={"fields": {"items": list(unknown.values())}, "items": unknown})
            raise ReturnQuantityExceeded(details={"items": problems,
                                                  "returnable": {str(k): v for k, v in returnable.items()}})
        now = utcnow()
        ret = OrderReturn(number=return_rules.new_return_number(now.date()), order_id=order.id,
                          order_number=order.order_number, storefront=order.storefront, status=R.REQUESTED,
                          reason=data.reason, opened_by=Actor.STAFF if staff else Actor.CUSTOMER,
                          staff_id=viewer.user_id if staff else None, currency=order.currency, created_at=now,
                          updated_at=now)
        items = {i.id: i for i in details.items}
        lines = [OrderReturnLine(return_id=ret.id, item_id=item_id, position=position,
                                 product_id=items[item_id].product_id, variant_id=items[item_id].variant_id,
                                 sku=items[item_id].sku, name=items[item_id].name, quantity=quantity)
                 for position, (item_id, quantity) in enumerate(asked.items())]
        await self.returns.insert(ret, lines)
        await outbox.add(self.session, ReturnRequested(
            storefront=order.storefront, return_id=ret.id, number=ret.number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=ret.reason,
            opened_by=ret.opened_by, items=[_contract_line(line) for line in lines]))
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF if staff else
                            Actor.CUSTOMER, actor_id=viewer.user_id if staff else None,
                            note=f"Return {ret.number} requested: {data.reason}"[:1000])
        if staff:
            await audit.record(self.session, viewer, "return.open", "order", order.id,
                               after={"return_id": str(ret.id), "number": ret.number,
                                      "lines": {str(k): v for k, v in asked.items()}}, reason=data.reason)
        log.info("return %s requested for order %s", ret.number, order.order_number)
        return ReturnPicture(ret, lines)

    # -- staff: receive or reject --------------------------------------------------------------------

    async def approve(self, return_ref: str, staff: Principal) -> ReturnPicture:
        """Staff accept a requested return before the parcel comes (optional: receive takes a
        requested return too). Once: a return no longer requested is 409 `RETURN_NOT_OPEN`."""
        ret, order = await self._lock(return_ref)
        now = utcnow()
        if not await self.returns.move(ret.id, (R.REQUESTED,), {"status": R.APPROVED, "staff_id": staff.user_id,
                                                                "updated_at": now}):
            raise ReturnNotOpen(details={"status": ret.status})
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF, actor_id=staff.user_id,
                            note=f"Return {ret.number} approved")
        await audit.record(self.session, staff, "return.approve", "order", order.id,
                           before={"return_id": str(ret.id), "status": ret.status},
                           after={"status": R.APPROVED.value})
        return await self._picture(ret.id)

    async def receive(self, return_ref: str, data: ReturnReceive, staff: Principal) -> ReturnPicture:
        """Staff have the parcel: `data.items` names the units received of each line (at most those
        requested) and whether they are resaleable (back in stock). The refund covers the received
        units (`return_rules.return_amount`) and is asked for through `return.received`; units not
        received leave the return and may be returned again. Once: a return neither requested nor
        approved is 409 `RETURN_NOT_OPEN` and nothing changes."""
        ret, order = await self._lock(return_ref)
        if ret.status not in (R.REQUESTED, R.APPROVED):
            raise ReturnNotOpen(details={"status": ret.status})
        all_lines = list(await self.returns.lines_of([ret.id]))
        by_item = {line.item_id: line for line in all_lines}
        restock: dict[uuid.UUID, bool] = {}
        received: dict[uuid.UUID, int] = {}
        for choice in data.items:
            line = by_item.get(choice.order_item_id)
            if line is None:
                raise InvalidReturnLine("Not a line of this return", details={
                    "fields": {"items": [f"Order item {choice.order_item_id} is not in this return"]}})
            received[line.id] = received.get(line.id, 0) + choice.quantity
            restock[line.id] = choice.resaleable
            if received[line.id] > line.quantity:
                raise InvalidReturnLine("More units received than requested", details={
                    "fields": {"items": [f"Order item {line.item_id}: {line.quantity} requested"]}})
        by_line = {line.id: line for line in all_lines}
        lines = [line for line in all_lines if line.id in received]
        for line in lines:
            line.quantity = received[line.id]
        details = await reload(self.session, order.id)
        others = [r for r in await self.returns.of_order(order.id) if r.id != ret.id]
        amounts = {line.id: return_rules.returned_line_amount(_units(line, details)) for line in lines}
        amount = return_rules.return_amount(
            [_units(line, details) for line in lines], shipping_charged=details.shipping_charged,
            refund_shipping=data.refund_shipping,
            shipping_refunded=any(r.refund_shipping for r in others if r.status in (R.RECEIVED, R.REFUNDED)),
            refundable=await self._refundable(details, others))
        now = utcnow()
        settled = ret.refund_id is not None or amount == 0  # refunded already (heard first), or nothing to pay
        if not await self.returns.move(ret.id, (R.REQUESTED, R.APPROVED), {
                "status": R.REFUNDED if settled else R.RECEIVED, "amount": amount, "received_at": now,
                "refund_shipping": data.refund_shipping, "staff_id": staff.user_id, "updated_at": now,
                **({"refunded_at": ret.refunded_at or now} if settled else {})}):
            raise ReturnNotOpen(details={"status": ret.status})  # pragma: no cover - the order's lock serialises
        for line in all_lines:
            if line.id in received:
                await self.returns.settle_line(line.id, quantity=received[line.id], restock=restock[line.id],
                                               amount=amounts[line.id])
            else:
                await self.returns.drop_line(line.id)
        picture = await self._picture(ret.id)
        await outbox.add(self.session, ReturnReceived(
            storefront=order.storefront, return_id=ret.id, number=ret.number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=ret.reason,
            amount=amount, currency=ret.currency, refund_shipping=data.refund_shipping,
            items=[_contract_line(line) for line in picture.lines]))
        money = domain.money_text(amount, ret.currency)
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF,
                            actor_id=staff.user_id, note=f"Return {ret.number} received; refund of {money}")
        await audit.record(self.session, staff, "return.receive", "order", order.id,
                           before={"return_id": str(ret.id), "status": ret.status},
                           after={"status": picture.ret.status, "amount": str(amount),
                                  "refund_shipping": data.refund_shipping,
                                  "received": {str(by_line[k].item_id): v for k, v in received.items()},
                                  "resaleable": {str(by_line[k].item_id): v for k, v in restock.items()}})
        if settled:
            await self._maybe_returned(order)
        log.info("return %s of order %s received: %s", ret.number, order.order_number, money)
        return picture

    async def reject(self, return_ref: str, reason: str | None, staff: Principal) -> ReturnPicture:
        """Staff refuse a return not received yet: its units may be returned again, nothing moves."""
        ret, order = await self._lock(return_ref)
        now = utcnow()
        if not await self.returns.move(ret.id, (R.REQUESTED, R.APPROVED), {"status": R.REJECTED, "note": reason,
                                                             "staff_id": staff.user_id, "updated_at": now}):
            raise ReturnNotOpen(details={"status": ret.status})
        await outbox.add(self.session, ReturnRejected(
            storefront=order.storefront, return_id=ret.id, number=ret.number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=reason))
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF, actor_id=staff.user_id,
                            note=f"Return {ret.number} rejected" + (f": {reason}" if reason else ""))
        await audit.record(self.session, staff, "return.reject", "order", order.id,
                           before={"return_id": str(ret.id), "status": ret.status},
                           after={"status": R.REJECTED.value}, reason=reason)
        return await self._picture(ret.id)

    # -- what payments reports -----------------------------------------------------------------------

    async def refunded(self, order_id: uuid.UUID, return_id: uuid.UUID, *, refund_id: uuid.UUID | None,
                       amount: Decimal) -> None:
        """`payment.refunded` of a return's refund: recorded on the return once; a received
        return is refunded now, a return not received yet when staff receive it. The order is
        `returned` once every shipped unit is in refunded returns."""
        order = await self.orders.lock(order_id)
        if order is None:
            return
        ret = await self.returns.get(return_id)
        if ret is None or ret.order_id != order.id:
            log.warning("payment.refunded names return %s, not one of order %s; ignored", return_id, order_id)
            return
        now = utcnow()
        values = {"refund_id": refund_id or uuid.uuid4(), "refunded_amount": amount, "refunded_at": now,
                  "updated_at": now}
        received = ret.status == R.RECEIVED
        if received:
            values["status"] = R.REFUNDED
        if not await self.returns.record_refund(ret.id, values):
            return
        if received:
            await self._maybe_returned(order)

    # -- reading -------------------------------------------------------------------------------------

    async def of_order(self, order_ref: str, viewer: Principal) -> list[ReturnPicture]:
        """The returns of one of the viewer's orders (order readers: any order's), oldest first."""
        order_id = order_id_of(order_ref)
        queries = OrderQueries(self.session)
        if viewer.has_role(*ORDER_READERS):
            order = await queries.get(order_id)
        else:
            order = await queries.get(order_id, owner_id=viewer.owner_id, reader=reader_of(viewer))
        if order is None:
            raise OrderNotFound()
        returns = await self.returns.of_order(order.id)
        return await self._pictures(returns)

    async def get(self, return_ref: str) -> ReturnPicture:
        return await self._picture(_return_id_of(return_ref))

    async def search(self, query: StaffReturnQuery, *, limit: int, offset: int) -> tuple[int, list[ReturnPicture]]:
        count, returns = await self.returns.search(
            status=query.status.value if query.status else None, storefront=query.storefront,
            order_id=query.order_id, number=query.number, limit=limit, offset=offset)
        return count, await self._pictures(returns)

    # -- shared --------------------------------------------------------------------------------------

    async def _lock(self, return_ref: str) -> tuple[OrderReturn, LockedOrder]:
        """The return and its order, the order's row locked (the return read again under it)."""
        found = await self.returns.get(_return_id_of(return_ref))
        if found is None:
            raise ReturnNotFound()
        await self.returns.hold(found.order_id)
        order = await self.orders.lock(found.order_id)
        ret = await self.returns.get(found.id)
        if order is None or ret is None:  # pragma: no cover - the order's deletion cascades
            raise ReturnNotFound()
        return ret, order

    async def _refundable(self, order: OrderDetails, others: Sequence[OrderReturn]) -> Decimal:
        """What the order's payment has left to give back, as orders knows it: its total less the
        refunds payments announced and the refunds other received returns asked for and wait for.
        Payments checks again under its own lock (it alone knows every refund)."""
        records = await PaymentRecords(self.session, self.context).of_order(order.id)
        refunded = sum((r.amount or Decimal("0") for r in records if r.kind == "refund"), Decimal("0"))
        waiting = sum((r.amount or Decimal("0") for r in others if r.status == R.RECEIVED and r.refund_id is None),
                      Decimal("0"))
        return order.total_amount - refunded - waiting

    async def _maybe_returned(self, order: LockedOrder) -> None:
        """delivered → returned once every shipped unit is in a refunded return."""
        if order.status != OrderStatus.DELIVERED:
            return
        details = await reload(self.session, order.id)
        left = return_rules.returnable_quantities(((i.id, i.kind, i.quantity) for i in details.items),
                                            await self.returns.units_by_item(order.id, {R.REFUNDED}))
        if return_rules.everything_returned(left):
            await transition(self.session, order, OrderStatus.RETURNED, actor=Actor.SYSTEM,
                             note="Every shipped unit returned and refunded")

    async def _picture(self, return_id: uuid.UUID) -> ReturnPicture:
        ret = await self.returns.get(return_id)
        if ret is None:
            raise ReturnNotFound()
        return ReturnPicture(ret, await self.returns.lines_of([ret.id]))

    async def _pictures(self, returns: Sequence[OrderReturn]) -> list[ReturnPicture]:
        lines = await self.returns.lines_of([r.id for r in returns])
        return [ReturnPicture(r, [line for line in lines if line.return_id == r.id]) for r in returns]


def _contract_line(line: OrderReturnLine) -> ReturnLine:
    return ReturnLine(order_item_id=line.item_id, product_id=line.product_id, variant_id=line.variant_id,
                      sku=line.sku, quantity=line.quantity, resaleable=bool(line.restock))


def _units(line: OrderReturnLine, order: OrderDetails) -> return_rules.ReturnedUnits:
    """The returned units of an order line, with what the line was charged (its rows' adjustments)."""
    item = next(i for i in order.items if i.id == line.item_id)
    charged = item.line_total - item.discount_amount + (Decimal("0") if item.tax_inclusive else item.tax_amount)
    return return_rules.ReturnedUnits(line_charged=charged, line_quantity=item.quantity, quantity=line.quantity)
