"""Whose orders they are: an anonymous buyer who signs in, a user who leaves."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.service import UseCase
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.models import utcnow
from atelier_orders.promotions.repository import PromotionRepository
from atelier_orders.repository import InvoiceRepository, OrderRepository, OwnerRepository


class OwnershipService(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.orders = OrderRepository(session)
        self.owners = OwnerRepository(session)

    async def transfer_to_user(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> int:
        """The anonymous identity was claimed: its orders now belong to the user. A user erased
        before we heard of the claim: the orders moved are anonymised like the user's others."""
        erased_at = await self.owners.lock(user_id)
        moved = await self.orders.move_owner(anon_id, user_id, now=utcnow())
        if moved:
            await PromotionRepository(self.session).move_owner(anon_id, user_id)
        if erased_at is not None and moved:
            await self.anonymise_user(user_id)
        return moved

    async def anonymise_user(self, user_id: uuid.UUID) -> int:
        """The user is gone: orders and their invoices stay for the accounts, without anything that
        names the person. Remembered, so that a claim heard later anonymises what it moves."""
        await self.owners.lock(user_id, erased=True)
        orders = await self.orders.lock_all_of_user(user_id)
        now = utcnow()
        for order in orders:
            order.email = None
            order.shipping_address = domain.anonymised_address(order.shipping_address)
            order.billing_address = domain.anonymised_address(order.billing_address)
            # A sole trader's tax number names the person.
            order.buyer_tax_number = None
            order.updated_at = now
        await PromotionRepository(self.session).forget_emails([order.id for order in orders])
        for invoice in await InvoiceRepository(self.session).lock_invoices_of([order.id for order in orders]):
            invoice.email = None
            invoice.billing_address = domain.anonymised_address(invoice.billing_address)
            invoice.shipping_address = domain.anonymised_address(invoice.shipping_address)
            invoice.buyer_tax_number = None
        return len(orders)
