"""Exchanges (Medusa 2.x exchanges, Saleor's "replace" on a return): some of a delivered order's
units come back for other goods instead of money.

An exchange is kept with the returns and claims (`kind: exchange`): its lines' units are held as a
return's are (under the order's row lock, never in two), it is received as a return is
(`Returns.receive`), and its new items go out as an order of their own
(`exchange_orders.place_exchange_order`). The money: the lines coming back are credited what the
customer paid for them (a returned line's share, `return_rules.returned_line_amount`), the new
items cost what the one pricing function says at the order's storefront, currency and tax; the
customer pays the difference through a payment link before the new items ship, or the shop
refunds it once the lines are back (payments, once per exchange id), or nothing moves.

Staff open an exchange approved at once (its order placed in the same transaction); a customer,
where they may open returns, requests one, which staff approve (`Returns.approve`) or reject.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.orders import ExchangeRequested
from atelier_common.service import UseCase
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.errors import OrderNotFound, OrderNotReturnable
from atelier_orders.models import OrderReturnLine
from atelier_orders.queries import OrderQueries
from atelier_orders.returns import exchange_orders
from atelier_orders.returns import rules as return_rules
from atelier_orders.returns.service import ReturnPicture, Returns, _contract_line, _units
from atelier_orders.rows import OrderDetails
from atelier_orders.schemas.returns import ExchangeCreate
from atelier_orders.service._shared import order_id_of
from atelier_orders.service.reading import reader_of

log = logging.getLogger("atelier.orders.exchanges")


class Exchanges(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.returns = Returns(session, context)

    async def preview(self, order_ref: str, data: ExchangeCreate, viewer: Principal, *,
                      staff: bool) -> dict[str, Any]:
        """The exchange as it would be: the lines coming back with their credit, the new items
        priced, the difference and who pays it. Nothing is written; the units are checked against
        what is left to return when the exchange is opened."""
        order_id = order_id_of(order_ref)
        queries = OrderQueries(self.session)
        order = await (queries.get(order_id) if staff else
                       queries.get(order_id, owner_id=viewer.owner_id, reader=reader_of(viewer)))
        if order is None:
            raise OrderNotFound()
        if problem := return_rules.return_problem(order.status):
            raise OrderNotReturnable(problem, details={"status": order.status})
        items = {item.id: item for item in order.items}
        lines = []
        for n, asked in enumerate(data.items):
            item = items.get(asked.order_item_id)
            if item is None or not return_rules.is_returnable_kind(item.kind):
                continue  # reported when opened, with what is left of each line
            lines.append(OrderReturnLine(return_id=order.id, item_id=item.id, position=n, product_id=item.product_id,
                                         variant_id=item.variant_id, sku=item.sku, name=item.name,
                                         quantity=min(asked.quantity, item.quantity)))
        new_items, total = await exchange_orders.price_new_items(self.session, self.context, order, data.new_items)
        return _preview(order, lines, new_items, total)

    async def open(self, order_ref: str, data: ExchangeCreate, viewer: Principal, *, staff: bool) -> ReturnPicture:
        """An exchange of `data.items` for `data.new_items`: the customer's request (`requested`,
        for staff to approve), or staff's, approved at once (its order placed; audited as
        `exchange.open`). Under the order's lock, as a return is opened."""
        # Priced before the order's lock is taken: catalog is asked over the network.
        found = await OrderQueries(self.session).get(order_id_of(order_ref)) if staff else \
            await OrderQueries(self.session).get(order_id_of(order_ref), owner_id=viewer.owner_id,
                                                 reader=reader_of(viewer))
        if found is None:
            raise OrderNotFound()
        if problem := return_rules.return_problem(found.status):
            raise OrderNotReturnable(problem, details={"status": found.status})
        priced = await exchange_orders.price_new_items(self.session, self.context, found, data.new_items)
        picture, order, asked = await self.returns._open(order_ref, data, viewer, staff=staff, exchange=priced)
        ret = picture.ret
        new_items = priced[0]
        settlement = return_rules.Settlement(credit=ret.credit_amount or Decimal("0.00"), new_items_total=priced[1])
        credit, total = settlement.credit, settlement.new_items_total
        placed = None
        if staff:
            picture = await self.returns.approve_locked(ret, order, viewer, audited=False)
            placed = await OrderQueries(self.session).get(picture.ret.replacement_order_id) \
                if picture.ret.replacement_order_id else None
        await outbox.add(self.session, ExchangeRequested(
            storefront=order.storefront, return_id=ret.id, number=ret.number, order_id=order.id,
            order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id, reason=ret.reason,
            opened_by=ret.opened_by, lines_back=[_contract_line(line) for line in picture.lines],
            new_items=exchange_orders.contract_items(new_items),
            exchange_order_id=placed.id if placed else None,
            exchange_order_number=placed.order_number if placed else None, credit=credit, new_items_total=total,
            difference=settlement.difference, currency=order.currency))
        if staff:
            await audit.record(self.session, viewer, "exchange.open", "order", order.id, after={
                "return_id": str(ret.id), "number": ret.number, "lines": {str(k): v for k, v in asked.items()},
                "new_items": [{"product_id": i["product_id"], "variant_id": i["variant_id"], "quantity": i["quantity"]}
                              for i in new_items],
                "credit": str(credit), "new_items_total": str(total), "difference": str(settlement.difference),
                "exchange_order_id": str(placed.id) if placed else None}, reason=data.reason)
        else:
            picture = await self.returns.get(str(ret.id))
        log.info("exchange %s of order %s opened: difference %s", ret.number, order.order_number,
                 settlement.difference)
        return picture


def _preview(order: OrderDetails, lines: list[OrderReturnLine], new_items: list[dict[str, Any]],
             total: Decimal) -> dict[str, Any]:
    back = [{"order_item_id": line.item_id, "product_id": line.product_id, "variant_id": line.variant_id,
             "sku": line.sku, "name": line.name, "quantity": line.quantity,
             "amount": return_rules.returned_line_amount(_units(line, order))} for line in lines]
    settlement = return_rules.Settlement(credit=return_rules.exchange_credit(_units(line, order) for line in lines),
                                         new_items_total=total)
    return {"order_id": order.id, "order_number": order.order_number, "currency": order.currency,
            "lines_back": back, "new_items": new_items, "credit": settlement.credit, "new_items_total": total,
            "difference": settlement.difference, "amount_due": settlement.amount_due, "refund": settlement.refund}
