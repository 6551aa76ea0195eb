"""Cart use cases: view, add, change, remove, clear, merge on login; and the product read-model.

A cart is an owner's on one storefront (docs/storefronts.md): the request's storefront says
which cart, what may be added to it (`Storefront.offers`), its currency and its tax. Every
change to a cart's lines starts by locking the cart (`CartRepository.lock`, which reads its lines
after the lock), so two requests on one cart run one after the other: a parallel add can neither
lose an update nor create a second line. A cart and its lines are rows (`rows.py`), changed by the
repository's statements; the caller's unit of work commits.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart import domain
from atelier_cart.bootstrap import CartContext
from atelier_cart.checkout import ShippingChoice, ShippingChoices
from atelier_cart.clients import CatalogClient
from atelier_cart.domain import CartTax, ProductFacts, Totals
from atelier_cart.errors import (
    CartItemNotFound,
    CurrencyMismatch,
    InsufficientStock,
    NotPurchasable,
    ProductNotFound,
    QuantityLimit,
)
from atelier_cart.models import utcnow
from atelier_cart.promotions import CartDiscount, PromotionCodes
from atelier_cart.queries import CartQueries
from atelier_cart.repository import CartRepository, ClaimRepository, ProductRepository
from atelier_cart.rows import CartLine, CartRow, CartWithLines
from atelier_cart.schemas import CartItemCreate, CartItemUpdate, LinePrice
from atelier_common.contracts.catalog import ProductChanged, ProductKind, TaxClass, is_purchasable
from atelier_common.contracts.identity import Storefront
from atelier_common.contracts.orders import CartShippingQuote, Discount, OrderLine, QuotedLine
from atelier_common.errors import ServiceUnavailable, ValidationFailed
from atelier_common.service import UseCase

log = logging.getLogger("atelier.cart")


@dataclass(frozen=True)
class CartContents:
    """A cart with its lines and totals, as the API shows it."""

    id: uuid.UUID | None
    owner_id: uuid.UUID
    storefront: str
    currency: str
    items: Sequence[CartLine]
    totals: Totals
    # The code applied and what the promotions save now, and the money sent to the shipping
    # choice: orders' quote.
    promotion: CartDiscount = field(default_factory=CartDiscount)
    # Orders' read of the cart only: where it ships (the quote says it for everybody else).
    shipping_choice: ShippingChoice | None = None

    @property
    def shipping(self) -> CartShippingQuote | None:
        return self.promotion.shipping

    @property
    def priced_items(self) -> Sequence[object]:
        """The lines with their discount and tax as orders priced them; the lines as they are
        (those fields null) when it did not: no promotion applies and no destination is chosen
        (the add-to-cart path: nothing is copied)."""
        quoted: Sequence[QuotedLine] = self.promotion.lines
        if len(quoted) != len(self.items):
            return self.items
        return [{**vars(line), "discount": charge.discount, "tax_rate": charge.tax_rate,
                 "tax_amount": charge.tax_amount} for line, charge in zip(self.items, quoted, strict=True)]

    @property
    def shipping_address_id(self) -> uuid.UUID | None:
        return self.shipping_choice.address_id if self.shipping_choice else None

    @property
    def shipping_method_id(self) -> uuid.UUID | None:
        return self.shipping_choice.method_id if self.shipping_choice else None

    @property
    def discount_total(self) -> Decimal:
        return self.promotion.discount

    @property
    def promotion_code(self) -> str | None:
        return self.promotion.code

    @property
    def discounts(self) -> Sequence[Discount]:
        return self.promotion.discounts

    @property
    def promotion_code_problem(self) -> dict[str, str] | None:
        return self.promotion.code_problem

    @property
    def free_shipping(self) -> bool:
        return self.promotion.free_shipping

    @property
    def item_count(self) -> int:
        return self.totals.item_count

    @property
    def subtotal(self) -> Decimal:
        return self.totals.subtotal

    @property
    def tax_amount(self) -> Decimal:
        """On what the lines cost after their discount: orders' pricing when promotions apply."""
        return self.promotion.tax_amount if self.promotion.tax_amount is not None else self.totals.tax_amount

    @property
    def tax_included(self) -> Decimal:
        return self.promotion.tax_included if self.promotion.tax_included is not None else self.totals.tax_included

    @property
    def total(self) -> Decimal:
        """After the discount, with the tax on the discounted lines."""
        if self.promotion.total is not None:
            return self.promotion.total
        return self.totals.total - self.promotion.discount


class ProductReadModel:
    """What the cart knows of catalog's products: kept from events, filled from catalog on a miss."""

    def __init__(self, session: AsyncSession, catalog: CatalogClient | None = None) -> None:
        self.products = ProductRepository(session)
        self.catalog = catalog

    @staticmethod
    def needs(event: ProductChanged, context: CartContext | None = None) -> bool:
        """Whether the read model must hear `event` (`domain.stock_change_matters`, against the
        largest line limit of the storefronts this process knows: a storefront without a cap needs
        every stock); one it need not is acknowledged without a transaction (`inbox.Filtered`)."""
        limit = domain.MAX_LINE_QUANTITY
        if context is not None and context.storefronts is not None:
            limit = max(domain.line_limit(storefront) for storefront in context.storefronts.all())
        return domain.stock_change_matters(stock_only=event.stock_only, track_inventory=event.track_inventory,
                                           before=event.previous_stock_quantity, after=event.stock_quantity,
                                           limit=limit)

    async def apply_change(self, event: ProductChanged, *, occurred_at: datetime) -> None:
        """Store the event's facts unless newer ones are already stored (redelivered or late events)."""
        facts = ProductFacts(
            product_id=event.product_id, variant_id=event.variant_id, name=event.name,
            variant_name=event.variant_name, sku=event.sku, kind=event.kind, price=event.price,
            currency=event.currency, stock_quantity=event.stock_quantity, track_inventory=event.track_inventory,
            is_active=event.is_active, image_url=event.image_url, storefronts=tuple(event.storefronts),
            tax_class=event.tax_class)
        await self.products.upsert(facts, occurred_at)

    async def known(self, product_id: uuid.UUID, variant_id: uuid.UUID | None) -> ProductFacts | None:
        return await self.products.get(product_id, variant_id)

    async def sellable(self, product_id: uuid.UUID, variant_id: uuid.UUID | None,
                       storefront: Storefront) -> ProductFacts:
        """The product (or variant) if it can be put in a cart on `storefront`: known to catalog,
        active, and offered by that storefront (`domain.offered`)."""
        return await self.sellable_of(product_id, variant_id, await self.products.get(product_id, variant_id),
                                      storefront)

    async def sellable_of(self, product_id: uuid.UUID, variant_id: uuid.UUID | None,
                          product: ProductFacts | None, storefront: Storefront) -> ProductFacts:
        """`sellable`, given what the read-model holds of the product (`product`, None: nothing).
        A product another storefront sells is not found, like an unknown one."""
        if product is None and self.catalog is not None:
            # No event about it yet (e.g. created before the cart service first ran): ask catalog
            # once and keep the answer, dated now, so that only a newer event replaces it.
            fetched_at = utcnow()
            for facts in await self.catalog.product_facts(product_id) or ():
                await self.products.upsert(facts, fetched_at)
            product = await self.products.get(product_id, variant_id)
        if product is None or not product.is_active or not domain.offered(storefront, product):
            raise ProductNotFound(details={"product_id": str(product_id),
                                           "variant_id": str(variant_id) if variant_id else None})
        return product


class CartService(UseCase[CartContext]):
    def __init__(self, session: AsyncSession, context: CartContext) -> None:
        super().__init__(session, context)
        self.settings = context.settings
        self.carts = CartRepository(session)
        self.claims = ClaimRepository(session)
        self.products = ProductReadModel(session, context.catalog)
        self.codes = PromotionCodes(session)
        self.shipping = ShippingChoices(session)

    # -- the customer's cart -----------------------------------------------------------------

    async def view(self, owner_id: uuid.UUID, storefront: Storefront, *, anonymous: bool = False,
                   group: str | None = None, locale: str | None = None) -> CartContents:
        """The owner's cart on `storefront`; a first visit creates it (empty, in the storefront's
        currency), so its id stays the same. `anonymous`: the owner is an anonymous visitor (their
        cart may expire, see housekeeping). `group`, here and in every use case that answers the
        cart: the owner's customer group on `storefront` (the token's), which promotions for
        customer groups are judged by; `locale`: the caller's language, which orders names the
        promotions and shipping methods in."""
        # A guest's first request: plain rows, one statement on PostgreSQL (`get_or_create_with_lines`).
        cart = await self.carts.get_or_create_with_lines(owner_id, storefront.slug, storefront.currency,
                                                         anonymous=anonymous)
        return await self._promoted(self._read(cart, owner_id, storefront), anonymous, group, locale)

    async def add_item(self, owner_id: uuid.UUID, data: CartItemCreate, storefront: Storefront, *,
                       anonymous: bool = False, group: str | None = None,
                       locale: str | None = None) -> CartContents:
        """`group`: the caller's customer group: a new line is frozen at what that group pays
        (catalog's price lists, asked before the cart is locked); everybody else's at the product's price."""
        group_price = await self._group_price(data, storefront, group)
        # The busiest write: the cart locked with the product's facts in one statement, then its lines.
        cart, known = await self.carts.lock(owner_id, storefront.slug, utcnow(), create_in=storefront.currency,
                                            anonymous=anonymous, product=(data.product_id, data.variant_id))
        assert cart is not None  # created if missing
        product = await self.products.sellable_of(data.product_id, data.variant_id, known, storefront)
        if not is_purchasable(product.kind):
            raise NotPurchasable(f"A {product.kind} is not sold through the cart",
                                 details={"product_id": str(data.product_id), "kind": product.kind})
        items = cart.lines
        currency = domain.currency_after_add(storefront, cart.currency, bool(items), product.currency)
        if currency is None:
            raise CurrencyMismatch(details={
                "cart_currency": domain.expected_currency(storefront, cart.currency, bool(items)),
                "product_currency": product.currency})
        line = _find_line(items, data.product_id, data.variant_id)
        in_cart = line.quantity if line is not None else 0
        limit = _check_request(data.quantity, storefront)
        quantity = in_cart + data.quantity
        if not domain.within_line_limit(quantity, limit):
            # S1 sets the limit but not what an overflowing add does: refuse rather than cap silently.
            raise QuantityLimit(f"A cart line holds at most {limit} units",
                                details={"requested": quantity, "in_cart": in_cart, "maximum": limit})
        _check_stock(product, quantity)
        # Taken once the cart is locked, so a cart's lines are dated (and then read) in the order
        # their adds went through, and the new line is the newest one.
        now = utcnow()
        if line is not None:
            # The line keeps the price it was first added at (S1: prices frozen at add time).
            await self.carts.set_quantity(line, quantity, now)
        else:
            if cart.currency != currency:
                await self.carts.set_currency(cart, currency)  # an empty cart takes the line's
            line = CartLine(
                id=uuid.uuid4(), cart_id=cart.id, product_id=product.product_id, variant_id=product.variant_id,
                quantity=quantity, unit_price=product.price if group_price is None else group_price, name=domain.line_name(product.name, product.variant_name),
                sku=product.sku, image_url=product.image_url, kind=product.kind, tax_class=product.tax_class)
            await self.carts.insert_line(line, now)
            items.append(line)  # the newest line sorts last, as the lines are read
        # The cart is locked: the lines read above plus this change are the whole cart.
        kinds = {(item.product_id, item.variant_id): item.kind for item in items if item.kind is not None}
        return await self._promoted(CartContents(
            id=cart.id, owner_id=owner_id, storefront=storefront.slug, currency=cart.currency, items=items,
            totals=self._totals(items, kinds, storefront)), anonymous, group, locale)

    async def _group_price(self, data: CartItemCreate, storefront: Storefront, group: str | None) -> Decimal | None:
        if group is None or self.context.catalog is None:
            return None
        return await self.context.catalog.group_price(data.product_id, data.variant_id, storefront=storefront.slug,
                                                      group=group)

    async def change_quantity(self, owner_id: uuid.UUID, item_id: uuid.UUID, data: CartItemUpdate,
                              storefront: Storefront, *, anonymous: bool = False,
                              group: str | None = None, locale: str | None = None) -> CartContents:
        cart, line = await self._locked_line(owner_id, item_id, storefront, anonymous)
        # A line whose product its storefront stopped offering is treated like one whose product
        # went inactive: it stays until removed (or refused at checkout), and cannot be changed.
        product = await self.products.sellable(line.product_id, line.variant_id, storefront)
        _check_request(data.quantity, storefront)
        _check_stock(product, data.quantity)
        now = utcnow()
        await self.carts.set_quantity(line, data.quantity, now)
        await self.carts.touch(cart, now)
        return await self._promoted(self._read(cart, owner_id, storefront), anonymous, group, locale)

    async def remove_item(self, owner_id: uuid.UUID, item_id: uuid.UUID, storefront: Storefront, *,
                          anonymous: bool = False, group: str | None = None,
                       locale: str | None = None) -> CartContents:
        cart, line = await self._locked_line(owner_id, item_id, storefront, anonymous)
        await self.carts.delete_line(line)
        cart.lines.remove(line)
        await self.carts.touch(cart, utcnow())
        return await self._promoted(self._read(cart, owner_id, storefront), anonymous, group, locale)

    async def clear(self, owner_id: uuid.UUID, storefront: Storefront, *, anonymous: bool = False,
                    group: str | None = None, locale: str | None = None) -> CartContents:
        cart, _ = await self.carts.lock(owner_id, storefront.slug, utcnow(), create_in=storefront.currency,
                                        anonymous=anonymous, lines=False)
        assert cart is not None  # created if missing
        await self.carts.clear(cart.id)
        await self.carts.touch(cart, utcnow())
        return await self._promoted(self._read(cart, owner_id, storefront), anonymous, group, locale)

    # -- the discount code -------------------------------------------------------------

    async def apply_code(self, owner_id: uuid.UUID, code: str, storefront: Storefront, *,
                         anonymous: bool = False, client_ip: str | None = None,
                         group: str | None = None, locale: str | None = None) -> CartContents:
        """Apply a discount code to the cart (replacing the one applied): orders says whether it
        applies to these lines now; one that does not is its 4xx (400 PROMOTION_CODE_INVALID, 409
        PROMOTION_EXHAUSTED, 429 past the wrong codes orders allows the caller or `client_ip`)
        and changes nothing."""
        cart = await self.carts.get_or_create_with_lines(owner_id, storefront.slug, storefront.currency,
                                                         anonymous=anonymous)
        contents = self._read(cart, owner_id, storefront)
        discount = await self.context.orders.quote(storefront.slug, owner_id, None if anonymous else owner_id, code,
                                                   contents.items, strict=True, client_ip=client_ip, group=group,
                                                   locale=locale)
        await self.codes.put(owner_id, storefront.slug, code)
        return replace(contents, promotion=discount)

    async def remove_code(self, owner_id: uuid.UUID, storefront: Storefront, *,
                          anonymous: bool = False, group: str | None = None,
                       locale: str | None = None) -> CartContents:
        await self.codes.remove(owner_id, storefront.slug)
        return await self.view(owner_id, storefront, anonymous=anonymous, group=group, locale=locale)

    async def _promoted(self, contents: CartContents, anonymous: bool, group: str | None,
                        locale: str | None = None) -> CartContents:
        """The contents with the code applied, what the storefront's promotions save on them and,
        when the cart has a shipping choice, the order's money sent there (orders' quote; an
        empty cart shows none, and so does a cart when orders is unreachable)."""
        if not contents.items:
            return contents  # nothing to save on: neither the code nor orders is asked
        state = await self.codes.state(contents.owner_id, contents.storefront, utcnow())
        if not state.needs_orders:
            return contents  # no code, no automatic promotion there now, no destination: its own totals
        try:
            discount = await self.context.orders.quote(contents.storefront, contents.owner_id,
                                                       None if anonymous else contents.owner_id, state.code,
                                                       contents.items, shipping=state.shipping, group=group,
                                                       locale=locale)
        except ServiceUnavailable:
            log.warning("no quote for cart %s: orders is unavailable", contents.id)
            discount = CartDiscount(code=state.code)
        return replace(contents, promotion=discount)

    # -- where it ships (the cart as the checkout) ------------------------------------------

    async def choose_shipping(self, owner_id: uuid.UUID, choice: ShippingChoice, storefront: Storefront, *,
                              anonymous: bool = False, group: str | None = None,
                       locale: str | None = None) -> CartContents:
        """Ship the cart to one of the owner's addresses (another's: 404), or price it for a
        country and region, by a method the destination offers (none: its first). Orders prices
        the cart for it as `POST /orders` will charge; a destination or method that does not do is
        its 4xx and changes nothing."""
        cart = await self.carts.get_or_create_with_lines(owner_id, storefront.slug, storefront.currency,
                                                         anonymous=anonymous)
        contents = self._read(cart, owner_id, storefront)
        code = await self.codes.of(owner_id, storefront.slug)
        priced = await self.context.orders.quote(storefront.slug, owner_id, None if anonymous else owner_id, code,
                                                 contents.items, shipping=choice, strict_shipping=True, group=group,
                                                 locale=locale)
        await self.shipping.put(owner_id, storefront.slug, choice)
        return replace(contents, promotion=priced) if contents.items else contents

    async def remove_shipping(self, owner_id: uuid.UUID, storefront: Storefront, *,
                              anonymous: bool = False, group: str | None = None,
                       locale: str | None = None) -> CartContents:
        await self.shipping.remove(owner_id, storefront.slug)
        return await self.view(owner_id, storefront, anonymous=anonymous, group=group, locale=locale)

    # -- other services --------------------------------------------------------------------

    async def for_service(self, owner_id: uuid.UUID, storefront: Storefront) -> CartContents:
        """The owner's cart on `storefront` for orders, taxed as that storefront taxes; an owner
        without a cart there reads as an empty one (id null) in the storefront's currency."""
        cart = await CartQueries(self.session).of_owner(owner_id, storefront.slug)
        if cart is None:
            return CartContents(id=None, owner_id=owner_id, storefront=storefront.slug, currency=storefront.currency,
                                items=[], totals=self._totals([], {}, storefront))
        # Orders reads the code and the shipping choice and prices them itself: no quote asked here.
        state = await self.codes.state(owner_id, storefront.slug, utcnow())
        return replace(self._read(cart, owner_id, storefront), promotion=CartDiscount(code=state.code),
                       shipping_choice=state.shipping)

    async def reprice(self, owner_id: uuid.UUID, prices: Sequence[LinePrice],
                      storefront: Storefront) -> CartContents | None:
        """Orders refused the cart's order because catalog's price changed since the cart showed
        it: the lines of the owner's cart on `storefront` take the current prices, so the cart
        shows what the next order charges (the price frozen at add time holds until checkout).
        None: the owner has no cart there."""
        now = utcnow()
        cart, _ = await self.carts.lock(owner_id, storefront.slug, now)
        if cart is None:
            return None
        for price in prices:
            if (line := _find_line(cart.lines, price.product_id, price.variant_id)) is not None:
                await self.carts.set_price(line, price.unit_price, now)
        await self.carts.touch(cart, now)
        return self._read(cart, owner_id, storefront)

    async def merge_anonymous(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Login or registration with guest carts: on each storefront, the guest's cart joins the
        user's cart of that storefront and is gone (a guest cart on B never lands in the user's
        cart on A).

        Quantities of the same product and variant add up, capped at the storefront's line limit
        (`domain.line_limit`) and at the stock; a user
        without a cart on that storefront simply takes the guest cart over.
        """
        if anon_id == user_id:
            return
        # Remembered (and serialised with the guest's orders): see `clear_after_order`.
        await self.claims.lock(anon_id, claimed_by=user_id)
        if (await self.claims.lock(user_id)).erased_at is not None:
            await self.carts.delete_for_owner(anon_id)  # the user was erased before: nothing to keep
            await self.shipping.forget(anon_id)
            return
        await self.shipping.hand_over(anon_id, user_id)
        # Both owners' carts on every storefront, locked in one statement.
        guests, targets = list[CartRow](), dict[str, CartRow]()
        for cart in await self.carts.lock_rows([anon_id, user_id]):
            if cart.owner_id == anon_id:
                guests.append(cart)
            else:
                targets[cart.storefront] = cart
        for guest in guests:
            target = targets.get(guest.storefront)
            if target is None:
                if await self.carts.give_to(guest, user_id):
                    continue
                # The user's first cart there was created while we looked: merge into that one
                # instead (the guest cart stays locked and as it was: the failed hand-over rolled
                # back to a savepoint).
                mine, _ = await self.carts.lock(user_id, guest.storefront, utcnow(), create_in=guest.currency,
                                                lines=False)
                assert mine is not None  # created if missing
                target = CartRow(id=mine.id, owner_id=user_id, storefront=guest.storefront, currency=mine.currency)
            if await self._merge_lines(guest, target):
                await self.carts.delete_cart(guest.id)

    async def clear_after_order(self, owner_id: uuid.UUID, storefront: str, *, from_cart: bool,
                                order_id: uuid.UUID, lines: Sequence[OrderLine], anonymous: bool = False) -> None:
        """An order placed from the cart takes its lines out of it, once: each line loses the units
        ordered and goes when none are left, so what was added since the order stays (a line
        raised from 1 to 3 after an order of 1 keeps 2). An order of explicit items leaves the cart
        alone. The order's cart is the owner's on the order's storefront: their carts on other
        storefronts are not touched.

        A guest's order heard after the guest signed in (`identity.anonymous_claimed` came first):
        the guest's lines are in the user's cart of that storefront by now, so the order's lines
        are taken out of it and the user's own lines stay, as if the order had been heard first."""
        if not from_cart:
            return
        await self.codes.remove(owner_id, storefront)  # the order took the code
        ordered = domain.ordered_units((line.product_id, line.variant_id, line.quantity) for line in lines)
        # The owner locked first (serialised with a claim), then "once": the same order heard again
        # leaves alone the cart the owner has filled since. Each cart is locked before its lines
        # change, like an add (`CartRepository.take_out`): an add racing the order waits, or is waited for.
        claimed_by = (await self.claims.lock(owner_id)).claimed_by if anonymous else None
        if claimed_by is None:
            # The record of the order and the cart's lock: one statement on PostgreSQL.
            cart, _ = await self.carts.lock(owner_id, storefront, utcnow(), lines=False, cleared_order=order_id)
            if cart is not None:
                await self.carts.take_out(cart.id, ordered, utcnow())
            return
        if not await self.claims.first_clear(order_id):
            return
        # A guest cart the claim could not merge (another currency) is still the guest's, and the
        # order came from it; a merged one is in the user's cart. A claim merges a cart whole or not
        # at all, and a cart holds one currency: the ordered lines are in one of the two.
        for owner in (owner_id, claimed_by):
            cart, _ = await self.carts.lock(owner, storefront, utcnow(), lines=False)
            if cart is not None:
                await self.carts.take_out(cart.id, ordered, utcnow())

    async def forget_owner(self, user_id: uuid.UUID) -> None:
        """A deleted user's carts (on every storefront) go with them; remembered, so that a claim
        heard later keeps none."""
        await self.claims.lock(user_id, erased=True)
        await self.carts.delete_for_owner(user_id)
        await self.shipping.forget(user_id)

    # -- helpers -----------------------------------------------------------------------------

    async def _merge_lines(self, guest: CartRow, target: CartRow) -> bool:
        """Move the guest's lines into the user's cart (of the same storefront); False when they
        cannot be (another currency)."""
        guest_items = await self.carts.lines_of(guest.id)
        target_items = await self.carts.lines_of(target.id)
        if guest_items and not target_items:
            target.currency = guest.currency
        elif guest_items and guest.currency != target.currency:
            # One currency per cart: the user's cart keeps its own, and the guest cart stays as it
            # was, the anonymous visitor's (nothing chosen is thrown away; housekeeping removes it
            # once untouched for the anonymous retention).
            log.warning("guest cart %s in %s not merged into cart %s in %s", guest.id, guest.currency, target.id,
                        target.currency)
            return False
        now = utcnow()
        limit = self._line_limit_of(target.storefront)
        for item in guest_items:
            line = _find_line(target_items, item.product_id, item.variant_id)
            known = await self.products.known(item.product_id, item.variant_id)
            available = domain.available_stock(known.track_inventory, known.stock_quantity) if known else None
            quantity = domain.merged_quantity(item.quantity + (line.quantity if line else 0), available, limit)
            if quantity <= 0:  # no stock left to sell: dropped rather than kept at zero units
                await self.carts.delete_line(line or item)
            elif line is not None:
                # The user's line keeps its own frozen price; the guest line merges into it.
                await self.carts.set_quantity(line, quantity, now)
            else:
                await self.carts.move_line(item, target.id, quantity, now)
        await self.carts.touch(target, now)
        return True

    def _line_limit_of(self, slug: str) -> int:
        """The line limit of the storefront `slug`; the install's own when this process does not know it."""
        directory = self.context.storefronts
        storefront = directory.known(slug) if directory is not None else None
        return domain.line_limit(storefront) if storefront is not None else domain.MAX_LINE_QUANTITY

    async def _locked_line(self, owner_id: uuid.UUID, item_id: uuid.UUID, storefront: Storefront,
                           anonymous: bool) -> tuple[CartWithLines, CartLine]:
        """The owner's cart on `storefront`, locked, and its line `item_id`: a line of another
        cart (another owner's, or the owner's on another storefront) is not found."""
        cart, _ = await self.carts.lock(owner_id, storefront.slug, utcnow(), create_in=storefront.currency,
                                        anonymous=anonymous)
        assert cart is not None  # created if missing
        line = next((line for line in cart.lines if line.id == item_id), None)
        if line is None:
            raise CartItemNotFound()
        return cart, line

    def _read(self, cart: CartWithLines, owner_id: uuid.UUID, storefront: Storefront) -> CartContents:
        """The contents of a cart read with its lines' kinds."""
        kinds = {(line.product_id, line.variant_id): line.kind for line in cart.lines if line.kind is not None}
        return CartContents(id=cart.id, owner_id=owner_id, storefront=storefront.slug, currency=cart.currency,
                            items=cart.lines, totals=self._totals(cart.lines, kinds, storefront))

    def _totals(self, items: Sequence[CartLine], kinds: dict[tuple[uuid.UUID, uuid.UUID | None], str],
                storefront: Storefront) -> Totals:
        # A line whose product the read-model lost is taxed like goods, at the standard rate: never
        # under-charge tax.
        tax: CartTax = domain.cart_tax(storefront, self.settings.tax_inclusive_kinds)
        return domain.cart_totals(
            ((kinds.get((item.product_id, item.variant_id), ProductKind.PHYSICAL), item.unit_price, item.quantity,
              item.tax_class or TaxClass.STANDARD) for item in items),
            tax.rate, inclusive_kinds=tax.inclusive_kinds, class_rates=tax.class_rates)


def _find_line(items: Sequence[CartLine], product_id: uuid.UUID, variant_id: uuid.UUID | None) -> CartLine | None:
    return next((i for i in items if i.product_id == product_id and i.variant_id == variant_id), None)


def _check_request(quantity: int, storefront: Storefront) -> int:
    """The storefront's line limit; a request for more than it alone is refused as malformed input
    (400 VALIDATION_ERROR on `quantity`), as the request schema's own cap was before storefronts
    set their limits: the compatibility profiles answer it with their validation error."""
    limit = domain.line_limit(storefront)
    if quantity > limit:
        raise ValidationFailed(details={"fields": {"quantity": [f"Input should be less than or equal to {limit}"]}})
    return limit


def _check_stock(product: ProductFacts, quantity: int) -> None:
    available = domain.available_stock(product.track_inventory, product.stock_quantity)
    if not domain.has_stock_for(quantity, available):
        raise InsufficientStock(details={"requested": quantity, "available": available})
