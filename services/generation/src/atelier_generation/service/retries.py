"""Retry allowances of a book's items, retry packs, and what a paid order means for a book.

An item's allowance is the book's base (the print tier of its latest paid print order, or the
free base) plus the packs applied to it. A retry-pack line of a paid order is recorded once per
(order, product), from `order.paid` or, when the buyer applies it before that event arrives,
from orders' own record; it is applied to one item once (a guarded UPDATE), automatically when
the order line named its target.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.auth import Principal
from atelier_common.contracts.catalog import ProductKind, retries_granted
from atelier_common.contracts.payments import OrderPaid
from atelier_common.service import UseCase
from atelier_generation import domain
from atelier_generation.context import GenerationContext
from atelier_generation.domain import ContentType
from atelier_generation.errors import ItemNotFound, PackNotApplicable, PackNotYours
from atelier_generation.models import BookItem, RetryPack
from atelier_generation.repository import BookItemRepository, BookRepository, OwnerRepository, RetryPackRepository
from atelier_generation.schemas import RetriesRead, RetryAllowanceRead
from atelier_generation.service._shared import utcnow
from atelier_generation.service.books import BookService

log = logging.getLogger("atelier.generation.retries")


class RetryService(UseCase[GenerationContext]):
    def __init__(self, session: AsyncSession, context: GenerationContext) -> None:
        super().__init__(session, context)
        self.books = BookService(session, context)
        self.items = BookItemRepository(session)
        self.packs = RetryPackRepository(session)

    async def allowances(self, principal: Principal, book_id: uuid.UUID) -> RetriesRead:
        book = await self.books.book(principal, book_id)
        items = await self.items.all_of_book(book.id)
        return RetriesRead(book_id=book.id, results=[self.books.allowance(book, item) for item in items])

    async def apply(self, principal: Principal, content_type: ContentType, content_id: uuid.UUID,
                    order_id: uuid.UUID) -> RetryAllowanceRead:
        """Add a paid, unused retry pack of the caller's order to one of the caller's items."""
        found = await self.items.get_for_owner(content_id, principal.owner_id, content_type)
        if found is None:
            raise ItemNotFound(f"{content_type.title()} not found")
        item, book = found
        now = utcnow()
        for pack in await self._paid_packs(principal, order_id):
            retries = await self.packs.apply(pack.order_id, pack.product_id, item.id, now)
            if retries is not None:
                await self.items.add_retries(item.id, retries, now)
                refreshed = await self.items.get_for_owner(item.id, principal.owner_id, content_type)
                return self.books.allowance(book, refreshed[0] if refreshed else item)
        raise PackNotApplicable("The retry pack of that order is already applied", details={"order_id": str(order_id)})

    async def _paid_packs(self, principal: Principal, order_id: uuid.UUID) -> Sequence[RetryPack]:
        packs = await self.packs.of_order(order_id)
        if packs:
            if any(pack.owner_id != principal.owner_id for pack in packs):
                raise PackNotYours(details={"order_id": str(order_id)})
            return packs
        # Not heard of yet: orders knows whether it is the caller's and paid (its event may be on the way).
        order = await self.context.clients.order(order_id)
        if order is None or principal.owner_id not in (order.owner_id, order.user_id):
            raise PackNotYours(details={"order_id": str(order_id)})
        if not order.is_paid:
            raise PackNotApplicable("The retry pack is not paid", details={"status": order.status})
        now = utcnow()
        for line in order.items:
            retries = retries_granted(line.attributes, line.quantity) if line.kind == ProductKind.RETRY_PACK else None
            if retries is not None:
                await self.packs.add_once(RetryPack(order_id=order.id, product_id=line.product_id,
                                                    owner_id=principal.owner_id, retries=retries,
                                                    target_type=line.content_type, target_id=line.content_id,
                                                    storefront=order.storefront, created_at=now))
        packs = await self.packs.of_order(order_id)
        if not packs:
            raise PackNotApplicable("That order holds no retry pack", details={"order_id": str(order_id)})
        return packs

    # -- order.paid ----------------------------------------------------------------------------

    async def order_paid(self, event: OrderPaid, occurred_at: datetime) -> None:
        """A paid print order sets its book's retry base; a paid retry pack is recorded, and applied
        to the item its line names. Each effect once, whatever the delivery order or count."""
        now = utcnow()
        # The user who claimed an anonymous buyer meanwhile; nobody once erased (as for credits).
        owner_id = await OwnerRepository(self.session).buyer(event.user_id or event.owner_id, now)
        if owner_id is None:
            return
        for line in event.lines:
            if line.kind == ProductKind.PRINT_TIER and line.book_id is not None:
                retries = domain.print_retries(line.attributes)
                if retries is None:
                    log.error("order %s: print tier %s has no usable max_retries_per_unit", event.order_id, line.sku)
                    continue
                await BookRepository(self.session).set_print_tier(line.book_id, tier=line.sku, retries=retries,
                                                                  order_id=event.order_id, paid_at=occurred_at, now=now)
            elif line.kind == ProductKind.RETRY_PACK:
                retries = retries_granted(line.attributes, line.quantity)
                if retries is None:
                    log.error("order %s: retry pack %s has no usable 'retries' attribute", event.order_id, line.sku)
                    continue
                await self.packs.add_once(RetryPack(order_id=event.order_id, product_id=line.product_id,
                                                    owner_id=owner_id, retries=retries, target_type=line.content_type,
                                                    target_id=line.content_id, storefront=event.storefront,
                                                    created_at=now))
                target = ContentType.__members__.get(line.content_type or "")
                if target is not None and line.content_id is not None:
                    await self._apply_to_target(event, line.product_id, target, line.content_id, now, owner_id)

    async def _apply_to_target(self, event: OrderPaid, product_id: uuid.UUID, content_type: ContentType,
                               content_id: uuid.UUID, now: datetime, buyer: uuid.UUID | None = None) -> None:
        item = await self._buyers_item(event, content_type, content_id, buyer)
        if item is None:
            # Checked when the order was placed; gone since (deleted): the pack waits to be applied by hand.
            log.warning("order %s: the retry pack's %s %s is gone", event.order_id, content_type, content_id)
            return
        retries = await self.packs.apply(event.order_id, product_id, item.id, now)
        if retries is not None:
            await self.items.add_retries(item.id, retries, now)

    async def _buyers_item(self, event: OrderPaid, content_type: ContentType, content_id: uuid.UUID,
                           buyer: uuid.UUID | None = None) -> BookItem | None:
        owners = (buyer, event.user_id, event.owner_id, event.anon_id)
        for owner_id in dict.fromkeys(o for o in owners if o is not None):
            found = await self.items.get_for_owner(content_id, owner_id, content_type)
            if found is not None:
                return found[0]
        return None
