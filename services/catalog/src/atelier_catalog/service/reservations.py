"""Stock held for orders: reserve at `order.placed` (every line or none), commit at `order.paid`,
release at `order.cancelled`, expire when never paid.

Every stock change is one guarded UPDATE (`stock_quantity >= :q`), never a read then a write,
and reservation rows change state through guarded UPDATEs too, so redelivered, reordered or
racing events cannot move the same units twice.

The three events of one order may arrive in any order, or at once on parallel consumers: each
handler first upserts and locks the order's `stock_order` row, which also keeps a payment or a
cancellation heard before the reservation (a later `reserve` then commits at once, or holds
nothing), so the outcome is the same in every order.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain, visibility
from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import ReservationStatus, StockNeed
from atelier_catalog.models import DEFAULT_LOCATION_ID, DEFAULT_LOCATION_NAME, Product, ProductVariant
from atelier_catalog.repository import (
    LocationRepository,
    Movement,
    OrderFacts,
    OwnerRepository,
    ProductFactsRepository,
    ProductRepository,
    PurchaseRepository,
    ReservationRepository,
    VariantFacts,
    product_facts,
    variant_facts,
)
from atelier_catalog.repository.locations import item_of
from atelier_catalog.repository.stock import MovedReservation
from atelier_catalog.service._shared import announce_low_stock, stock_changes
from atelier_common import outbox
from atelier_common.columns import utcnow
from atelier_common.contracts.catalog import (
    StockEditRejected,
    StockEditReserved,
    StockLine,
    StockRejected,
    StockReserved,
    StockSource,
)
from atelier_common.contracts.orders import OrderEditLine, OrderEditUnits, OrderLine, ReturnLine
from atelier_common.service import UseCase

log = logging.getLogger("atelier.catalog.reservations")

REJECTED_UNAVAILABLE = "unavailable"
REJECTED_INSUFFICIENT = "insufficient_stock"
# An edit of an order that holds nothing (cancelled, expired, released): nothing to add units to.
REJECTED_NOT_HELD = "not_held"
HELD = (ReservationStatus.RESERVED, ReservationStatus.COMMITTED)
Target = tuple[type[Product] | type[ProductVariant], uuid.UUID]


class Units(NamedTuple):
    """Units of a product or variant at one location (None: the default location's)."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int
    location_id: uuid.UUID | None


@dataclass(frozen=True)
class Taken:
    """One need's units taken: the item's row after its stock UPDATE, and how many at which
    locations (a line split across two locations has two)."""

    need: StockNeed
    row: Mapping[str, Any]
    splits: list[tuple[domain.Shelf, int]]

    def held(self) -> list[tuple[StockNeed, int, uuid.UUID | None]]:
        """`ReservationRepository.hold`'s lines: one per location, the total left after each."""
        left = int(self.row["stock_quantity"]) + self.need.quantity
        lines: list[tuple[StockNeed, int, uuid.UUID | None]] = []
        for shelf, units in self.splits:
            left -= units
            lines.append((StockNeed(self.need.product_id, self.need.variant_id, units), left, shelf.location_id))
        return lines


def _target(product_id: uuid.UUID, variant_id: uuid.UUID | None) -> Target:
    # A variant has its own stock; the product's count is for products sold without variants.
    return (ProductVariant, variant_id) if variant_id is not None else (Product, product_id)


class ReservationService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.ttl = timedelta(minutes=context.settings.reservation_ttl_minutes)
        self.products = ProductRepository(session)
        self.facts = ProductFactsRepository(session)
        self.reservations = ReservationRepository(session)
        self.purchases = PurchaseRepository(session)
        self.owners = OwnerRepository(session)
        self.locations = LocationRepository(session)

    async def reserve(self, order_id: uuid.UUID, order_number: str, lines: Sequence[OrderLine],
                      *, now: datetime | None = None, settled: bool = False, storefront: str | None = None,
                      country: str | None = None) -> bool:
        """Hold every line's stock, or none of it; announce the decision. Whether it was held.
        Units come from the locations that serve the order's `storefront` and destination
        `country` (`domain.serving_order`; unknown: every location), a line split across two
        when the first cannot fill it.
        Paid already (`order.paid` came first), or `settled` (nothing will be paid: a claim's
        replacement): the units are taken for good at once.

        Eight checkouts of one product queue on its stock row: everything that can be read is read
        before the first stock UPDATE takes that lock, and after it come only the writes (the
        reservation rows with their movements, then the events), so the lock is held briefly."""
        order = await self.reservations.lock_order(order_id, destination=(storefront, country))
        needs = domain.stock_needs(lines)
        # After the lock above, so that a concurrent placement of the same order is seen.
        facts = await self.facts.for_order(order_id, {n.product_id for n in needs},
                                           {n.variant_id for n in needs if n.variant_id is not None})
        if facts.held:
            return True  # the same order placed again (a re-sent event): it already holds its stock
        if order.cancelled_at is not None:
            return False  # cancelled before it reached us: nothing to hold, nobody waits for a decision
        paid = order.paid_at is not None or settled
        unavailable, counted = _check_sellable(needs, facts)
        if unavailable:
            await outbox.add(self.session, StockRejected(order_id=order_id, reason=REJECTED_UNAVAILABLE,
                                                         lines=unavailable))
            return False
        taken, short = await self._take_all(counted, storefront=storefront, country=country)
        if short:
            await outbox.add(self.session, StockRejected(order_id=order_id, reason=REJECTED_INSUFFICIENT,
                                                         lines=short))
            return False
        status = ReservationStatus.COMMITTED if paid else ReservationStatus.RESERVED
        moment = utcnow()
        await self.reservations.hold(
            order_id, [line for t in taken for line in t.held()], status=status,
            expires_at=(now or moment) + self.ttl, reason=f"{status.value} for order {order_number}", now=moment)
        if paid and order.paid_by is not None and (buyer := await self.owners.buyer(order.paid_by)) is not None:
            # The payment found no reservation to read its products from: its buyer's purchases.
            await self.purchases.record(buyer, (line.product_id for line in lines), order_id)
        # The rows the stock UPDATEs returned are the latest (they hold the locks); a product's
        # category and image are as read above.
        products = dict(facts.products)
        variants: dict[uuid.UUID, VariantFacts] = {}
        for t in taken:
            if t.need.variant_id is None:
                before = products[t.need.product_id]
                products[t.need.product_id] = product_facts(t.row, category_hidden=before.category_hidden,
                                                            image_url=before.image_url)
            else:
                variants[t.need.variant_id] = variant_facts(t.row)
        changes = stock_changes(products, variants, ((t.need.product_id, t.need.variant_id,
                                                      t.row["stock_quantity"] + t.need.quantity) for t in taken))
        # Added, not yet written: the events go out in one INSERT at commit.
        await outbox.add(self.session, StockReserved(order_id=order_id, sources=_sources(taken)))
        for event in changes:
            await outbox.add(self.session, event)
        await announce_low_stock(self.session, self.context.storefronts, changes, _moves(taken))
        return True

    async def commit(self, order_id: uuid.UUID, *, owner_id: uuid.UUID, lines: Sequence[OrderLine]) -> None:
        """The order is paid: its units stay taken for good, and its buyer may review them. Paid
        before its reservation (the events crossed): the payment is kept for `reserve`."""
        await self.reservations.lock_order(order_id, paid_by=owner_id)
        await self.reservations.move(order_id, from_statuses=(ReservationStatus.RESERVED,),
                                     to=ReservationStatus.COMMITTED)
        # A second statement, not one `IN (reserved, expired)`: a row the expiry sweep moves while
        # the first waits for its lock is skipped there and found here, and its units taken again.
        await self._reclaim_expired(order_id)
        product_ids = [line.product_id for line in lines]
        if not product_ids:
            product_ids = [r.product_id for r in await self.reservations.for_order(order_id)]
        # Lines may name things catalog does not sell (a book); purchases are of products only.
        # The buyer: the user who claimed an anonymous id meanwhile; nobody once erased.
        if (buyer := await self.owners.buyer(owner_id)) is not None:
            await self.purchases.record(buyer, product_ids, order_id)

    async def release(self, order_id: uuid.UUID) -> None:
        """The order is cancelled: reserved or committed units go back on the shelf, once.
        Cancelled before its reservation: kept, so that a late `reserve` holds nothing."""
        await self.reservations.lock_order(order_id, cancelled=True)
        rows = await self.reservations.move(
            order_id, from_statuses=(ReservationStatus.RESERVED, ReservationStatus.COMMITTED),
            to=ReservationStatus.RELEASED)
        await self._give_back(rows, reason="order cancelled")

    async def restock_return(self, number: str, lines: Sequence[ReturnLine], *,
                             order_id: uuid.UUID | None = None) -> None:
        """A received return: its `resaleable` lines of products that count stock go back on the
        shelf, at the locations the order's units came from (its rows in order, each at most what
        it took less what earlier returns gave back); units no row accounts for go to the default
        location. Once per event (the inbox); orders announces a return received once."""
        wanted = [line for line in lines if line.resaleable and line.quantity > 0]
        products = await self.facts.of({line.product_id for line in wanted})
        counted = [line for line in wanted if (product := products.get(line.product_id)) is not None
                   and domain.needs_stock(product.kind, product.track_inventory)]
        rows = list(await self.reservations.for_order(order_id)) if order_id is not None and counted else []
        back: list[Units] = []
        for line in counted:
            units = line.quantity
            for row in rows:
                if units <= 0:
                    break
                if row.product_id != line.product_id or row.variant_id != line.variant_id:
                    continue
                share = min(units, row.quantity - row.returned)
                if share > 0 and await self.reservations.mark_returned(row.id, share):
                    row.returned += share
                    back.append(Units(row.product_id, row.variant_id, share, row.location_id))
                    units -= share
            if units > 0:
                back.append(Units(line.product_id, line.variant_id, units, None))
        await self._give_back(back, reason=f"return {number}")

    async def release_edited(self, order_id: uuid.UUID, order_number: str, version: int,
                             lines: Sequence[OrderEditLine]) -> None:
        """An order edit removed units: those the order still holds (reserved or committed) go back
        on the shelf, and its reservation rows hold that many fewer, so that a later cancellation
        or expiry gives back only the rest. Once per event (the inbox); under the order's lock,
        like its reserve, commit and release. Units already released or expired stay as they are."""
        await self.reservations.lock_order(order_id)
        await self._shrink(order_id, [StockNeed(product_id=line.product_id, variant_id=line.variant_id,
                                                quantity=line.old_quantity - line.new_quantity) for line in lines],
                           reason=f"order {order_number} edit v{version}")

    async def reserve_edit(self, order_id: uuid.UUID, order_number: str, edit_id: uuid.UUID, version: int,
                           lines: Sequence[OrderEditUnits]) -> bool:
        """An order edit adds units: hold them all for the order, or none, and answer
        `stock.edit_reserved` or `stock.edit_rejected`. Under the order's lock, like its reserve,
        commit, release and expiry: an order cancelled or expired before holds nothing to add to
        (rejected). The rows join the order's, in its state and with its deadline, so that a
        payment commits them, and a cancellation or expiry gives them back with the rest. Once per
        event (the inbox)."""
        order = await self.reservations.lock_order(order_id)
        rows = await self.reservations.for_order(order_id)
        held = [row for row in rows if row.status in HELD]
        if order.cancelled_at is not None or not held:
            await outbox.add(self.session, StockEditRejected(order_id=order_id, edit_id=edit_id,
                                                             reason=REJECTED_NOT_HELD))
            return False
        needs = domain.stock_needs(lines)
        facts = await self.facts.for_order(order_id, {n.product_id for n in needs},
                                           {n.variant_id for n in needs if n.variant_id is not None})
        unavailable, counted = _check_sellable(needs, facts)
        if unavailable:
            await outbox.add(self.session, StockEditRejected(order_id=order_id, edit_id=edit_id,
                                                             reason=REJECTED_UNAVAILABLE, lines=unavailable))
            return False
        # From the locations serving the order's destination, as its placement (an order from
        # before locations: every location).
        taken, short = await self._take_all(counted, storefront=order.storefront, country=order.ship_country)
        if short:
            await outbox.add(self.session, StockEditRejected(order_id=order_id, edit_id=edit_id,
                                                             reason=REJECTED_INSUFFICIENT, lines=short))
            return False
        status = ReservationStatus.COMMITTED if order.paid_at is not None else ReservationStatus.RESERVED
        moment = utcnow()
        await self.reservations.hold(
            order_id, [line for t in taken for line in t.held()], status=status,
            expires_at=min(row.expires_at for row in held), now=moment, first_line=max(r.line_no for r in rows) + 1,
            reason=f"{status.value} for order {order_number} edit v{version}")
        await outbox.add(self.session, StockEditReserved(order_id=order_id, edit_id=edit_id))
        products = await self.facts.of({t.need.product_id for t in taken})
        variants = await self.facts.variants({t.need.variant_id for t in taken if t.need.variant_id is not None})
        changes = stock_changes(products, variants, ((t.need.product_id, t.need.variant_id,
                                                      t.row["stock_quantity"] + t.need.quantity) for t in taken))
        for event in changes:
            await outbox.add(self.session, event)
        await announce_low_stock(self.session, self.context.storefronts, changes, _moves(taken))
        return True

    async def release_refused_edit(self, order_id: uuid.UUID, order_number: str, version: int,
                                   lines: Sequence[OrderEditUnits]) -> None:
        """An edit whose units were held could not apply: those the order still holds go back
        (a cancellation or an expiry may have given them back already), once per event."""
        await self.reservations.lock_order(order_id)
        await self._shrink(order_id, [StockNeed(product_id=line.product_id, variant_id=line.variant_id,
                                                quantity=line.quantity) for line in lines],
                           reason=f"order {order_number} edit v{version} refused")

    async def _take_all(self, counted: Sequence[StockNeed], *, storefront: str | None, country: str | None
                        ) -> tuple[list[Taken], list[StockLine]]:
        """Take every need's units, or none: (what was taken, the lines short of stock). Each need
        first takes the item's total (its row lock, which every change of the item queues on), then
        its units from the locations that serve the order, in their order. With a line short, what
        was taken is given back at once: the same transaction still holds those rows' locks, so no
        one else has seen the units gone."""
        taken: list[Taken] = []
        short: list[StockLine] = []
        for need in counted:
            model, row_id = _target(need.product_id, need.variant_id)
            item = item_of(need.product_id, need.variant_id)
            row = await self.products.change_stock(model, row_id, -need.quantity)
            shelves = domain.serving_order(await self.locations.shelves(item, lock=row is not None),
                                           storefront=storefront, country=country)
            splits = domain.split_need(need.quantity, shelves) if row is not None else None
            if row is not None and splits is not None and await self._take_at(need, splits):
                taken.append(Taken(need, row, splits))
                continue
            if row is not None:  # the total was there, but not at the locations that reach the order
                await self.products.add_stock(model, row_id, need.quantity)
            short.append(StockLine(product_id=need.product_id, variant_id=need.variant_id,
                                   requested=need.quantity, available=sum(shelf.quantity for shelf in shelves)))
        if short:
            for t in taken:
                await self.products.add_stock(*_target(t.need.product_id, t.need.variant_id), t.need.quantity)
                for shelf, units in t.splits:
                    await self.locations.change(shelf.location_id, t.need.product_id, t.need.variant_id, units)
            taken = []
        return taken, short

    async def _take_at(self, need: StockNeed, splits: Sequence[tuple[domain.Shelf, int]]) -> bool:
        """Each location's guarded UPDATE; under the item's lock they hold, but were one to find too
        few, what this need took is put back and it counts as short."""
        done: list[tuple[domain.Shelf, int]] = []
        for shelf, units in splits:
            if await self.locations.change(shelf.location_id, need.product_id, need.variant_id, -units) is None:
                for back, n in done:
                    await self.locations.change(back.location_id, need.product_id, need.variant_id, n)
                return False
            done.append((shelf, units))
        return True

    async def _shrink(self, order_id: uuid.UUID, needs: Sequence[StockNeed], *, reason: str) -> None:
        """`needs`' units off the order's held rows (the latest first: an edit's own), back on the
        shelf they came from."""
        rows = [row for row in reversed(await self.reservations.for_order(order_id)) if row.status in HELD]
        left = {row.id: row.quantity for row in rows}
        back: list[Units] = []
        for need in needs:
            units = need.quantity
            for row in rows:
                if units <= 0:
                    break
                if row.product_id != need.product_id or row.variant_id != need.variant_id or left[row.id] <= 0:
                    continue
                taken = min(units, left[row.id])
                await self.reservations.shrink(row.id, taken)
                left[row.id] -= taken
                units -= taken
                back.append(Units(row.product_id, row.variant_id, taken, row.location_id))
        await self._give_back(back, reason=reason)

    async def expire_due(self, *, now: datetime | None = None, limit: int = 100) -> int:
        """Release the reservations of orders left unpaid past their deadline; how many orders."""
        now = now or utcnow()
        order_ids = await self.reservations.orders_due(now, limit=limit)
        for order_id in order_ids:
            rows = await self.reservations.move(order_id, from_statuses=(ReservationStatus.RESERVED,),
                                                to=ReservationStatus.EXPIRED, expired_before=now)
            await self._give_back(rows, reason="reservation expired")
        return len(order_ids)

    async def _reclaim_expired(self, order_id: uuid.UUID) -> None:
        """Paid after its reservation expired: take the units again if they are still there.
        If they are gone the payment stays and staff resolve it; never go below zero."""
        rows = await self.reservations.move(order_id, from_statuses=(ReservationStatus.EXPIRED,),
                                            to=ReservationStatus.COMMITTED)
        moved: list[tuple[Any, int]] = []
        moves: list[domain.LocationMove] = []
        described = await self._describe(rows)
        for row in rows:
            model, row_id = _target(row.product_id, row.variant_id)
            after = await self.products.add_stock(model, row_id, -row.quantity)
            left = None
            if after is not None:
                left = await self.locations.change(row.location_id, row.product_id, row.variant_id, -row.quantity)
                if left is None:
                    await self.products.add_stock(model, row_id, row.quantity)  # its location has none left
                    after = None
            if after is None or left is None:
                log.warning("order %s paid after its reservation expired and stock ran out "
                            "(product %s, variant %s, %s units)", order_id, row.product_id, row.variant_id,
                            row.quantity)
                await self.reservations.set_status(row.id, ReservationStatus.EXPIRED)
                continue
            moved.append((row, after))
            moves.append(_move(row, described, before=left + row.quantity, after=left))
        await self._record_and_announce(moved, sign=-1, reason="reserved again: paid after expiry", moves=moves)

    async def _give_back(self, rows: Sequence[Units] | Sequence[MovedReservation], *, reason: str) -> None:
        """Each row's units back at the location they came from (one staff deleted since: the
        default location)."""
        described = await self._describe(rows)
        moved: list[tuple[Any, int]] = []
        moves: list[domain.LocationMove] = []
        for row in rows:
            model, row_id = _target(row.product_id, row.variant_id)
            after = await self.products.add_stock(model, row_id, row.quantity)
            if after is None:  # the product or variant is gone (deleted rows cascade); nothing to return
                continue
            location = row.location_id if row.location_id in described else None
            units = Units(row.product_id, row.variant_id, row.quantity, location)
            now = await self.locations.change(location, row.product_id, row.variant_id, row.quantity) or 0
            moved.append((units, after))
            moves.append(_move(units, described, before=now - row.quantity, after=now))
        await self._record_and_announce(moved, sign=1, reason=reason, moves=moves)

    async def _describe(self, rows: Sequence[Units] | Sequence[MovedReservation]) -> dict[uuid.UUID, tuple[str, str]]:
        """The (name, storefront) of the locations rows name that still exist, the default's always."""
        return {DEFAULT_LOCATION_ID: (DEFAULT_LOCATION_NAME, "")} | await self.locations.describe(
            {row.location_id for row in rows if row.location_id is not None})

    async def _record_and_announce(self, moved: Sequence[tuple[Any, int]], *, sign: int, reason: str,
                                   moves: Sequence[domain.LocationMove] = ()) -> None:
        """The stock movements of reservation rows whose units moved (`sign` 1: back on the shelf),
        then `catalog.product_changed` for each product (or variant): carts check stock against
        their read-model."""
        if not moved:
            return
        now = utcnow()
        await self.products.insert_movements([Movement(
            product_id=row.product_id, variant_id=row.variant_id, delta=sign * row.quantity, quantity_after=after,
            reason=reason, created_at=now, location_id=row.location_id) for row, after in moved])
        changed = [(row.product_id, row.variant_id, after - sign * row.quantity) for row, after in moved]
        products = await self.facts.of({product_id for product_id, _, _ in changed})
        variants = await self.facts.variants({variant_id for _, variant_id, _ in changed if variant_id is not None})
        changes = stock_changes(products, variants, changed)
        for event in changes:
            await outbox.add(self.session, event)
        await announce_low_stock(self.session, self.context.storefronts, changes, moves)


def _moves(taken: Sequence[Taken]) -> list[domain.LocationMove]:
    """Each location's units before and after the order took some (low-stock alerts)."""
    return [domain.LocationMove(shelf.location_id, shelf.name, shelf.storefront, t.need.product_id, t.need.variant_id,
                                before=shelf.quantity, after=shelf.quantity - units)
            for t in taken for shelf, units in t.splits]


def _move(row: Units | MovedReservation, described: Mapping[uuid.UUID, tuple[str, str]], *, before: int,
          after: int) -> domain.LocationMove:
    location = row.location_id if row.location_id is not None and row.location_id in described else DEFAULT_LOCATION_ID
    name, storefront = described[location]
    return domain.LocationMove(location, name, storefront, row.product_id, row.variant_id, before=before, after=after)


def _sources(taken: Sequence[Taken]) -> list[StockSource]:
    """Where each line's units come from, for `stock.reserved` (orders shows where a line ships from)."""
    return [StockSource(product_id=t.need.product_id, variant_id=t.need.variant_id, location_id=shelf.location_id,
                        location=shelf.name, quantity=units) for t in taken for shelf, units in t.splits]


def _check_sellable(needs: Sequence[StockNeed], facts: OrderFacts) -> tuple[list[StockLine], list[StockNeed]]:
    """The lines that cannot be sold at all (unknown or not on sale: `atelier_catalog.visibility`),
    and those that count stock."""
    unavailable: list[StockLine] = []
    counted: list[StockNeed] = []
    for need in needs:
        product = facts.products.get(need.product_id)
        variant = None
        if product is not None and need.variant_id is not None:
            variant = facts.variants.get(need.variant_id)
            if variant is not None and variant.product_id != product.id:
                variant = None  # a variant of another product
        on_sale = product is not None and visibility.product_sellable(product, category_hidden=product.category_hidden)
        if not on_sale or (need.variant_id is not None
                           and (variant is None or not visibility.variant_sellable(variant, product_on_sale=on_sale))):
            unavailable.append(StockLine(product_id=need.product_id, variant_id=need.variant_id,
                                         requested=need.quantity, available=0))
        elif product is not None and domain.needs_stock(product.kind, product.track_inventory):
            counted.append(need)
    return unavailable, counted
