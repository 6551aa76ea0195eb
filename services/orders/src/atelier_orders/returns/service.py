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
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import ORDER_READERS, Principal
from atelier_common.contracts.orders import (
    ExchangeCompleted,
    ReturnLine,
    ReturnReceived,
    ReturnRejected,
    ReturnRequested,
)
from atelier_common.service import UseCase
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.edits.service import edit_refunds
from atelier_orders.errors import (
    InvalidReturnLine,
    OrderNotFound,
    OrderNotReturnable,
    ReturnNotFound,
    ReturnNotOpen,
    ReturnQuantityExceeded,
)
from atelier_orders.invoices.service import Invoicing
from atelier_orders.models import OrderReturn, OrderReturnLine, utcnow
from atelier_orders.queries import OrderQueries
from atelier_orders.repository import OrderRepository, ReturnRepository
from atelier_orders.returns import claims, exchange_orders
from atelier_orders.returns import rules as return_rules
from atelier_orders.returns.rules import ClaimResolution, ReturnKind, ReturnStatus
from atelier_orders.rows import LockedOrder, OrderDetails
from atelier_orders.schemas import ClaimCreate, ReturnCreate, ReturnReceive, StaffReturnQuery
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

    payment_url: str | None = None

    def read(self) -> dict[str, object]:
        return {**self.ret.model_dump(exclude={"outgoing"}), "items": [
            {**line.model_dump(exclude={"item_id", "restock"}), "order_item_id": line.item_id,
             "resaleable": line.restock} for line in self.lines], "new_items": self.ret.outgoing or [],
            "payment_url": self.payment_url}


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
        picture, order, asked = await self._open(order_ref, data, viewer, staff=staff)
        if staff:
            await audit.record(self.session, viewer, "return.open", "order", order.id,
                               after={"return_id": str(picture.ret.id), "number": picture.ret.number,
                                      "lines": {str(k): v for k, v in asked.items()}}, reason=data.reason)
        log.info("return %s requested for order %s", picture.ret.number, order.order_number)
        return picture

    async def claim(self, order_ref: str, data: ClaimCreate, staff: Principal) -> ReturnPicture:
        """Staff settle damaged or missing units of a shipped or delivered order without a parcel:
        by a refund (their share of what was charged, through payments as a received return's,
        nothing restocked) or by a replacement (the same goods again as an order of its own, at no
        charge: `claims.place_replacement`). The units are held as a return's are: never claimed
        or returned twice. Audited as `claim.open`."""
        picture, order, asked = await self._open(order_ref, data, staff, staff=True, claim=data.resolution)
        ret = picture.ret
        replacement = None
        if data.resolution == ClaimResolution.REFUND:
            picture = await self._settle(ret, order, picture.lines,
                                         {line.id: (line.quantity, False) for line in picture.lines},
                                         refund_shipping=False, staff=staff)
        else:
            replacement = await claims.place_replacement(self.session, await reload(self.session, order.id),
                                                         picture.lines, ret, staff,
                                                         attempts=self.context.settings.order_number_attempts)
            now = utcnow()
            if not await self.returns.move(ret.id, (R.REQUESTED,), {
                    "status": R.REPLACED, "replacement_order_id": replacement.id, "staff_id": staff.user_id,
                    "received_at": now, "updated_at": now}):
                raise ReturnNotOpen(details={"status": ret.status})  # pragma: no cover - the order's lock serialises
            await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF,
                                actor_id=staff.user_id,
                                note=f"Claim {ret.number}: replacement {replacement.order_number} at no charge")
            picture = await self._picture(ret.id)
        await audit.record(self.session, staff, "claim.open", "order", order.id,
                           after={"return_id": str(ret.id), "number": ret.number, "resolution": data.resolution.value,
                                  "lines": {str(k): v for k, v in asked.items()},
                                  **({"amount": str(picture.ret.amount)} if replacement is None else
                                     {"replacement_order_id": str(replacement.id),
                                      "replacement_order_number": replacement.order_number})},
                           reason=data.reason)
        log.info("claim %s of order %s settled by %s", ret.number, order.order_number, data.resolution)
        return picture

    async def _open(self, order_ref: str, data: ReturnCreate, viewer: Principal, *, staff: bool,
                    claim: ClaimResolution | None = None,
                    exchange: tuple[list[dict[str, Any]], Decimal] | None = None,
                    ) -> tuple[ReturnPicture, LockedOrder, dict[uuid.UUID, int]]:
        """The part a return and a claim share: under the order's lock, the units asked checked
        against what is left of each shipped line, the row written, `return.requested` announced
        and noted in the order's history. `exchange`: an exchange's new items as priced and their
        total, kept with the credit of its lines."""
        order_id = order_id_of(order_ref)
        await self.returns.hold(order_id)
        order = await self.orders.lock(order_id, owner_id=None if staff else viewer.owner_id)
        if order is None:
            raise OrderNotFound()
        problem = return_rules.return_problem(order.status) if claim is None else \
            return_rules.claim_problem(order.status)
        if problem:
            raise OrderNotReturnable(problem, details={"status": order.status})
        details = await reload(self.session, order.id)
        asked: dict[uuid.UUID, int] = {}
        for line in data.items:
            asked[line.order_item_id] = asked.get(line.order_item_id, 0) + line.quantity
        if claim == ClaimResolution.REPLACE:
            kinds = {item.id: item.kind for item in details.items}
            if wrong := {str(k): "Only goods from stock are sent again; refund this line instead"
                         for k in asked if k in kinds and not return_rules.is_replaceable_kind(kinds[k])}:
                raise InvalidReturnLine("Not a line that can be replaced",
                                        details={"fields": {"items": list(wrong.values())}, "items": wrong})
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
        kind = ReturnKind.EXCHANGE if exchange is not None else ReturnKind.RETURN if claim is None else ReturnKind.CLAIM
        ret = OrderReturn(number=return_rules.new_return_number(now.date()), order_id=order.id,
                          order_number=order.order_number, storefront=order.storefront, status=R.REQUESTED,
                          kind=kind, resolution=claim,
                          reason=data.reason, opened_by=Actor.STAFF if staff else Actor.CUSTOMER,
                          staff_id=viewer.user_id if staff else None, currency=order.currency, created_at=now,
                          updated_at=now)
        items = {i.id: i for i in details.items}
        lines = [OrderReturnLine(return_id=ret.id, item_id=item_id, position=position,
                                 product_id=items[item_id].product_id, variant_id=items[item_id].variant_id,
                                 sku=items[item_id].sku, name=items[item_id].name, quantity=quantity)
                 for position, (item_id, quantity) in enumerate(asked.items())]
        if exchange is not None:
            ret.outgoing, ret.outgoing_total = exchange
            ret.credit_amount = return_rules.exchange_credit(_units(line, details) for line in lines)
        await self.returns.insert(ret, lines)
        await outbox.add(self.session, ReturnRequested(
            storefront=order.storefront, return_id=ret.id, number=ret.number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=ret.reason,
            opened_by=ret.opened_by, items=[_contract_line(line) for line in lines], kind=ret.kind,
            resolution=ret.resolution))
        what = "Exchange" if exchange is not None else "Return" if claim is None else "Claim"
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF if staff else
                            Actor.CUSTOMER, actor_id=viewer.user_id if staff else None,
                            note=f"{what} {ret.number} requested: {data.reason}"[:1000])
        return ReturnPicture(ret, lines), order, asked

    # -- staff: receive or reject --------------------------------------------------------------------

    async def approve(self, return_ref: str, staff: Principal) -> ReturnPicture:
        """Staff accept a requested return before the parcel comes (optional: receive takes a
        requested return too). Once: a return no longer requested is 409 `RETURN_NOT_OPEN`."""
        ret, order = await self._lock(return_ref)
        return await self.approve_locked(ret, order, staff)

    async def approve_locked(self, ret: OrderReturn, order: LockedOrder, staff: Principal, *,
                             audited: bool = True) -> ReturnPicture:
        """`approve` under the order's lock. An exchange approved has its new items' order placed
        (`exchange_orders.place_exchange_order`): catalog holds their stock, and what the customer
        owes gets its payment link (answered once, as `payment_url`)."""
        now = utcnow()
        exchange = ret.kind == ReturnKind.EXCHANGE
        placed = None
        if exchange and ret.status == R.REQUESTED:
            placed = await exchange_orders.place_exchange_order(
                self.session, await reload(self.session, order.id), ret, _settlement(ret), actor_id=staff.user_id,
                attempts=self.context.settings.order_number_attempts)
        if not await self.returns.move(ret.id, (R.REQUESTED,), {
                "status": R.APPROVED, "staff_id": staff.user_id, "updated_at": now,
                **({"replacement_order_id": placed.id} if placed else {})}):
            raise ReturnNotOpen(details={"status": ret.status})
        what = "Exchange" if exchange else "Return"
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF, actor_id=staff.user_id,
                            note=f"{what} {ret.number} approved" + (
                                f": new items go out as order {placed.order_number}" if placed else ""))
        if audited:  # staff's own exchange is approved as it is opened: its `exchange.open` row says so
            await audit.record(self.session, staff, f"{ret.kind}.approve", "order", order.id,
                               before={"return_id": str(ret.id), "status": ret.status},
                               after={"status": R.APPROVED.value, **({"exchange_order_id": str(placed.id)}
                                                                     if placed else {})})
        picture = await self._picture(ret.id)
        if placed is not None and (due := _settlement(ret).amount_due) > 0:
            url = await exchange_orders.send_payment_link(self.session, self.context, ret, placed, due, now)
            picture = ReturnPicture(picture.ret, picture.lines, payment_url=url)
        return picture

    async def receive(self, return_ref: str, data: ReturnReceive, staff: Principal) -> ReturnPicture:
        """Staff have the parcel: `data.items` names the units received of each line (at most those
        requested) and whether they are resaleable (back in stock). The refund covers the received
        units (`return_rules.return_amount`) and is asked for through `return.received`; units not
        received leave the return and may be returned again. Once: a return neither requested nor
        approved is 409 `RETURN_NOT_OPEN` and nothing changes."""
        ret, order = await self._lock(return_ref)
        exchange = ret.kind == ReturnKind.EXCHANGE
        # An exchange is received once approved (its new items' order placed).
        if ret.status not in ((R.APPROVED,) if exchange else (R.REQUESTED, R.APPROVED)):
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
        if exchange and (short := [f"Order item {line.item_id}: {line.quantity} to receive" for line in all_lines
                                   if received.get(line.id, 0) != line.quantity]):
            # The credit paid for the new items: every unit credited comes back.
            raise InvalidReturnLine("An exchange is received whole", details={"fields": {"items": short}})
        if exchange:
            return await self._settle_exchange(ret, order, all_lines, restock, staff=staff)
        return await self._settle(ret, order, all_lines, {k: (v, restock[k]) for k, v in received.items()},
                                  refund_shipping=data.refund_shipping, staff=staff)

    async def _settle_exchange(self, ret: OrderReturn, order: LockedOrder, lines: Sequence[OrderReturnLine],
                               restock: dict[uuid.UUID, bool], *, staff: Principal) -> ReturnPicture:
        """An exchange's lines came back: the credit note of those lines is issued (their share
        of what was charged, line by line), what the shop owes of the difference is refunded once
        (`return.received`, kind `exchange`: payments refunds it by the exchange's id, catalog
        restocks the resaleable lines), and `exchange.completed` says so. Once: the status moves by
        a guarded UPDATE under the order's lock."""
        details = await reload(self.session, order.id)
        others = [r for r in await self.returns.of_order(order.id) if r.id != ret.id]
        amounts = {line.id: return_rules.returned_line_amount(_units(line, details)) for line in lines}
        settlement = _settlement(ret)
        refund = return_rules.exchange_refund(settlement, refundable=await self._refundable(details, others))
        now = utcnow()
        settled = ret.refund_id is not None or refund == 0
        if not await self.returns.move(ret.id, (R.APPROVED,), {
                "status": R.REFUNDED if settled else R.RECEIVED, "amount": refund, "received_at": now,
                "staff_id": staff.user_id, "updated_at": now,
                **({"refunded_at": ret.refunded_at or now} if settled else {})}):
            raise ReturnNotOpen(details={"status": ret.status})  # pragma: no cover - the order's lock serialises
        for line in lines:
            await self.returns.settle_line(line.id, quantity=line.quantity, restock=restock[line.id],
                                           amount=amounts[line.id])
        picture = await self._picture(ret.id)
        await Invoicing(self.session, self.context).credit_exchange(
            order, return_id=ret.id, amount=settlement.credit, currency=ret.currency,
            lines=[{"order_item_id": str(line.item_id), "sku": line.sku, "name": line.name, "quantity": line.quantity,
                    "amount": str(amounts[line.id])} for line in lines], reason=f"Exchange {ret.number}")
        items = [_contract_line(line) for line in picture.lines]
        await outbox.add(self.session, ReturnReceived(
            storefront=order.storefront, return_id=ret.id, number=ret.number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=ret.reason,
            amount=refund, currency=ret.currency, refund_shipping=False, items=items, kind=ret.kind))
        # Read, not locked: a lock of the exchange's order is taken before its original's (its cancellation).
        exchange_order = await OrderQueries(self.session).get(ret.replacement_order_id) \
            if ret.replacement_order_id else None
        await outbox.add(self.session, ExchangeCompleted(
            storefront=order.storefront, return_id=ret.id, number=ret.number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=ret.reason,
            lines_back=items, exchange_order_id=ret.replacement_order_id,
            exchange_order_number=exchange_order.order_number if exchange_order else None,
            credit=settlement.credit, new_items_total=settlement.new_items_total, difference=settlement.difference,
            refund=refund, currency=ret.currency))
        money = domain.money_text(refund, ret.currency)
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF, actor_id=staff.user_id,
                            note=f"Exchange {ret.number} received: credit of "
                                 f"{domain.money_text(settlement.credit, ret.currency)}; refund of {money}")
        await audit.record(self.session, staff, "exchange.receive", "order", order.id,
                           before={"return_id": str(ret.id), "status": ret.status},
                           after={"status": picture.ret.status, "credit": str(settlement.credit),
                                  "refund": str(refund),
                                  "resaleable": {str(line.item_id): restock[line.id] for line in lines}})
        if settled:
            await self._maybe_returned(order)
        log.info("exchange %s of order %s received: refund %s", ret.number, order.order_number, money)
        return picture

    async def _settle(self, ret: OrderReturn, order: LockedOrder, all_lines: Sequence[OrderReturnLine],
                      received_lines: dict[uuid.UUID, tuple[int, bool]], *, refund_shipping: bool,
                      staff: Principal) -> ReturnPicture:
        """A return received, or a claim settled by a refund: of its lines (`all_lines`), those in
        `received_lines` (by return line id: units received, resaleable) are refunded through
        `return.received`; the others leave it."""
        received = {k: v for k, (v, _) in received_lines.items()}
        restock = {k: resaleable for k, (_, resaleable) in received_lines.items()}
        by_line = {line.id: line for line in all_lines}
        lines = [line for line in all_lines if line.id in received]
        for line in lines:
            line.quantity = received[line.id]
        details = await reload(self.session, order.id)
        others = [r for r in await self.returns.of_order(order.id) if r.id != ret.id]
        amounts = {line.id: return_rules.returned_line_amount(_units(line, details)) for line in lines}
        amount = return_rules.return_amount(
            [_units(line, details) for line in lines], shipping_charged=details.shipping_charged,
            refund_shipping=refund_shipping,
            shipping_refunded=any(r.refund_shipping for r in others if r.status in (R.RECEIVED, R.REFUNDED)),
            refundable=await self._refundable(details, others))
        now = utcnow()
        settled = ret.refund_id is not None or amount == 0  # refunded already (heard first), or nothing to pay
        if not await self.returns.move(ret.id, (R.REQUESTED, R.APPROVED), {
                "status": R.REFUNDED if settled else R.RECEIVED, "amount": amount, "received_at": now,
                "refund_shipping": refund_shipping, "staff_id": staff.user_id, "updated_at": now,
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
            amount=amount, currency=ret.currency, refund_shipping=refund_shipping,
            items=[_contract_line(line) for line in picture.lines], kind=ret.kind))
        money = domain.money_text(amount, ret.currency)
        claim = ret.kind == ReturnKind.CLAIM
        await record_status(self.session, order, OrderStatus(order.status), actor=Actor.STAFF,
                            actor_id=staff.user_id, note=f"Claim {ret.number} settled; refund of {money}" if claim
                            else f"Return {ret.number} received; refund of {money}")
        if not claim:  # a claim's refund is in its own `claim.open` entry
            await audit.record(self.session, staff, "return.receive", "order", order.id,
                               before={"return_id": str(ret.id), "status": ret.status},
                               after={"status": picture.ret.status, "amount": str(amount),
                                      "refund_shipping": refund_shipping,
                                      "received": {str(by_line[k].item_id): v for k, v in received.items()},
                                      "resaleable": {str(by_line[k].item_id): v for k, v in restock.items()}})
        if settled:
            await self._maybe_returned(order)
        log.info("%s %s of order %s settled: %s", ret.kind, ret.number, order.order_number, money)
        return picture

    async def reject(self, return_ref: str, reason: str | None, staff: Principal) -> ReturnPicture:
        """Staff refuse a return not received yet: its units may be returned again, nothing moves."""
        ret, order = await self._lock(return_ref)
        now = utcnow()
        # An approved exchange has its new items' order placed: it is settled by receiving the lines.
        open_statuses = (R.REQUESTED,) if ret.kind == ReturnKind.EXCHANGE else (R.REQUESTED, R.APPROVED)
        if not await self.returns.move(ret.id, open_statuses, {"status": R.REJECTED, "note": reason,
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
        """The returns of one of the viewer's orders (order readers: any order's of the storefronts
        they may touch), oldest first."""
        order_id = order_id_of(order_ref)
        queries = OrderQueries(self.session)
        if viewer.has_role(*ORDER_READERS):
            order = await queries.get(order_id)
        else:
            order = await queries.get(order_id, owner_id=viewer.owner_id, reader=reader_of(viewer))
        if order is None or not viewer.may_touch(order.storefront):
            raise OrderNotFound()
        returns = await self.returns.of_order(order.id)
        return await self._pictures(returns)

    async def get(self, return_ref: str) -> ReturnPicture:
        return await self._picture(_return_id_of(return_ref))

    async def search(self, query: StaffReturnQuery, *, limit: int, offset: int,
                     staff: Principal | None = None) -> tuple[int, list[ReturnPicture]]:
        """Every return the filters name, of the storefronts `staff`'s API key may touch."""
        count, returns = await self.returns.search(
            status=query.status.value if query.status else None, storefront=query.storefront,
            order_id=query.order_id, number=query.number, limit=limit, offset=offset,
            storefronts=None if staff is None else staff.storefronts)
        return count, await self._pictures(returns)

    async def check_scope(self, return_ref: str, staff: Principal) -> None:
        """404 `NOT_FOUND` (as an unknown return) for a return of a storefront `staff`'s API key may
        not touch. A caller without a scope (a person) costs no read."""
        if staff.storefronts is None:
            return
        found = await self.returns.get(_return_id_of(return_ref))
        if found is None or not staff.may_touch(found.storefront):
            raise ReturnNotFound()

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
        """What the order's payment has left to give back, as orders knows it: what it was charged
        (its total, plus what edits gave back) less the refunds payments announced and the refunds
        other received returns and edits asked for and wait for.
        Payments checks again under its own lock (it alone knows every refund)."""
        records = await PaymentRecords(self.session, self.context).of_order(order.id)
        refunded = sum((r.amount or Decimal("0") for r in records if r.kind == "refund"), Decimal("0"))
        waiting = sum((r.amount or Decimal("0") for r in others if r.status == R.RECEIVED and r.refund_id is None),
                      Decimal("0"))
        # An edit lowered the total by what it refunded: the charge is the total plus those refunds.
        edited, edit_waiting = await edit_refunds(self.session, order.id)
        return order.total_amount + edited - refunded - waiting - edit_waiting

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


def _settlement(ret: OrderReturn) -> return_rules.Settlement:
    """An exchange's money, as it was priced when opened."""
    return return_rules.Settlement(credit=ret.credit_amount or Decimal("0.00"),
                                   new_items_total=ret.outgoing_total or Decimal("0.00"))


def _units(line: OrderReturnLine, order: OrderDetails) -> return_rules.ReturnedUnits:
    """The returned units of an order line, with what the line was charged (its rows' adjustments)."""
    item = next(i for i in order.items if i.id == line.item_id)
    charged = item.line_total - item.discount_amount + (Decimal("0") if item.tax_inclusive else item.tax_amount)
    return return_rules.ReturnedUnits(line_charged=charged, line_quantity=item.quantity, quantity=line.quantity)
