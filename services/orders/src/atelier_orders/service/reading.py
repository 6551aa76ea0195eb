"""Reading orders: a customer sees their own, staff and other services see any."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.auth import ORDER_READERS, Principal
from atelier_common.contracts.identity import Storefront
from atelier_common.errors import PermissionDenied
from atelier_common.service import UseCase
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.errors import InvalidOrdering, OrderNotFound
from atelier_orders.queries import OrderQueries
from atelier_orders.rows import OrderDetails, OrderSummaryRow
from atelier_orders.schemas import OrderQuery, StorefrontOrders
from atelier_orders.service._shared import order_id_of
from atelier_orders.service.payment_records import PaymentRecords


def reader_of(viewer: Principal) -> uuid.UUID | None:
    """An anonymous caller also reads the orders it placed before its identity was claimed (the
    automatic registration of a guest who paid): the same browser keeps seeing what it bought."""
    return None if viewer.is_authenticated else viewer.anon_id


class OrderService(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.orders = OrderQueries(session)

    async def get(self, order_ref: str, viewer: Principal) -> OrderDetails:
        # Order readers (support, finance, admin) see every order; anyone else finds only their
        # own (another's is a 404), a merchandiser included.
        every = viewer.has_role(*ORDER_READERS)
        order = await self.orders.get(order_id_of(order_ref), owner_id=None if every else viewer.owner_id,
                                      reader=reader_of(viewer))
        # An API key limited to some storefronts: another's order does not exist to it.
        if order is None or (every and not viewer.may_touch(order.storefront)):
            raise OrderNotFound()
        records = await PaymentRecords(self.session, self.context).of_order(order.id)
        order.refunded_amount = sum((r.amount or Decimal("0") for r in records if r.kind == "refund"), Decimal("0"))
        return order

    async def list(self, query: OrderQuery, viewer: Principal, storefront: Storefront, *, limit: int,
                   offset: int) -> tuple[int, Sequence[OrderSummaryRow]]:
        """A customer's orders on the request's storefront (each storefront is its own shop; an
        order of another storefront is still read by its id: `get`). Staff: `all` for every
        customer's, `storefront` for one storefront's (else the request's, or every one with `all`)."""
        ordering = domain.parse_ordering(query.ordering)
        if ordering is None:
            raise InvalidOrdering(details={"fields": {"ordering": [
                f"use {' or '.join(domain.ORDERING_FIELDS)}, with '-' for descending"]}})
        if query.all and not viewer.has_role(*ORDER_READERS):
            raise PermissionDenied("Only support or finance staff may list every customer's orders")
        if query.storefront is not None and not viewer.has_role(*ORDER_READERS):
            raise PermissionDenied("Only support or finance staff may list the orders of another storefront")
        shown = query.storefront or (None if query.all else storefront.slug)
        return await self.orders.list(owner_id=None if query.all else viewer.owner_id,
                                      status=query.status.value if query.status else None, ordering=ordering,
                                      limit=limit, offset=offset, reader=None if query.all else reader_of(viewer),
                                      storefront=shown, storefronts=viewer.storefronts)

    async def count_of_storefront(self, slug: str) -> StorefrontOrders:
        """How many orders `slug` has, and how many still wait for their money (`domain.PAYABLE`):
        identity asks before it deletes a storefront or changes its currency."""
        orders, unpaid = await self.orders.count_of_storefront(slug, domain.PAYABLE)
        return StorefrontOrders(orders=orders, unpaid=unpaid)

    async def get_for_service(self, order_ref: str) -> OrderDetails:
        order = await self.orders.get(order_id_of(order_ref))
        if order is None:
            raise OrderNotFound()
        return order
