"""Placing an order: lines from the cart or the request, priced by catalog, addresses snapshotted.

Nothing the client sends about money is read: the request models have no price field, and every
unit price, name, kind and attribute comes from catalog's internal lookup. Stock is reserved by
catalog when it hears `order.placed`; the order waits in `pending` until it answers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.catalog import ProductKind, is_purchasable
from atelier_common.contracts.identity import Storefront
from atelier_common.contracts.orders import OrderPlaced
from atelier_common.money import quantize
from atelier_common.service import UseCase
from atelier_orders import domain, metrics
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.clients import CatalogProduct
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.errors import (
    AddressNotFound,
    AddressRequired,
    BookNotFound,
    CartEmpty,
    CurrencyMismatch,
    DiscountChanged,
    InsufficientStock,
    InvalidOrderLine,
    NotPurchasable,
    PriceChanged,
    ProductUnavailable,
    RetryTargetNotFound,
    ShippingMethodUnavailable,
    ShippingUnavailable,
)
from atelier_orders.models import utcnow
from atelier_orders.pricing import charges, destinations
from atelier_orders.promotions import rules
from atelier_orders.promotions.code_guesses import CodeGuesses
from atelier_orders.promotions.service import Customer, PromotionPricing, frozen_discounts, raise_for
from atelier_orders.repository import OrderRepository
from atelier_orders.rows import OrderDetails
from atelier_orders.schemas import InternalOrderCreate, OrderCreate
from atelier_orders.service._shared import announce_status, contract_line, history_entry, insert_numbered, log_order
from atelier_orders.settings import OrdersSettings


@dataclass(frozen=True)
class Buyer:
    """Who the order is for: a signed-in user, an anonymous visitor, or whom a service names."""

    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = None
    # The buyer's customer group on the request's storefront (the token's): lines are priced at what
    # it pays, and promotions for customer groups are judged by it.
    customer_group: str | None = None

    @classmethod
    def of(cls, principal: Principal, storefront: str) -> Buyer:
        return cls(owner_id=principal.owner_id, user_id=principal.user_id, email=principal.email,
                   customer_group=principal.group_on(storefront))


@dataclass(frozen=True)
class LineRequest:
    """One line as asked for, before catalog prices it."""

    quantity: int
    product_id: uuid.UUID | None = None
    sku: str | None = None
    variant_id: uuid.UUID | None = None
    book_id: uuid.UUID | None = None
    tier: str | None = None
    content_type: str | None = None
    content_id: uuid.UUID | None = None
    # A gift card line's recipient, message and send date (`OrderItemCreate`).
    gift_recipient_email: str | None = None
    gift_message: str | None = None
    gift_send_at: datetime | None = None
    # The unit price the cart showed for this line (lines from the cart only).
    shown_price: Decimal | None = None

    @property
    def reference(self) -> str:
        return str(self.product_id or self.sku or self.tier)


@dataclass(frozen=True)
class PricedLine:
    request: LineRequest
    product: CatalogProduct
    variant_id: uuid.UUID | None
    sku: str
    variant_name: str | None
    unit_price: Decimal
    attributes: dict[str, Any]


class PlacementService(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.clients = context.clients
        self.settings = context.settings
        self.orders = OrderRepository(session)
        self.promotions = PromotionPricing(session)
        # The discount code and shipping choice of the cart the order is placed from, read with its lines.
        self.cart_code: str | None = None
        self.cart_address_id: uuid.UUID | None = None
        self.cart_method_id: uuid.UUID | None = None

    async def place_for_service(self, data: InternalOrderCreate) -> OrderDetails:
        """Another service orders for the customer it names, on the storefront it names (400
        `UNKNOWN_STOREFRONT` for a slug identity does not know)."""
        storefront = await self.context.storefronts.get(data.storefront)
        return await self.place(Buyer(owner_id=data.owner_id, user_id=data.user_id), data, storefront)

    async def place(self, buyer: Buyer, data: OrderCreate, storefront: Storefront, *,
                    client_ip: str | None = None, locale: str | None = None) -> OrderDetails:
        """The order on `storefront`: its cart, what it sells, its currency, tax and shipping. A
        `promotion_code` typed in the request is a guess, counted when wrong per buyer and per
        `client_ip` (`code_guesses`); the cart's own code was judged when it was applied. `locale`:
        the buyer's language (the storefront's default without), kept on the order; its lines'
        names are snapshotted in it."""
        if data.promotion_code:
            async with CodeGuesses.of(self.context).typed(buyer.owner_id, client_ip):
                return await self._place(buyer, data, storefront, locale)
        return await self._place(buyer, data, storefront, locale)

    async def _place(self, buyer: Buyer, data: OrderCreate, storefront: Storefront,
                     locale: str | None) -> OrderDetails:
        locale = locale or storefront.default_locale
        # The addresses do not depend on the lines: identity is asked while cart and catalog answer
        # (unless the order ships where its cart does: the cart says where). The lines are still
        # judged first, so a refusal names the same problem as before.
        from_cart = data.items is None
        addresses = None if from_cart and data.shipping_address_id is None else asyncio.create_task(
            self._addresses(data, buyer))
        try:
            lines = await self._lines(buyer, data, storefront, locale)
            data = self._cart_destination(data)
            await self._check_shown_prices(buyer, lines, storefront)
            currency = self._one_currency(lines, storefront)
            if self.settings.check_stock_on_place:
                self._check_stock(lines)
            await self._check_books(buyer, lines)
            self._check_gift_lines(lines)
            ships = domain.requires_shipping(line.product.kind for line in lines)
            if ships and data.shipping_address_id is None:
                raise AddressRequired(details={"fields": {"shipping_address_id": ["required when goods are shipped"]}})
        except BaseException:
            if addresses is not None:
                addresses.cancel()
                await asyncio.gather(addresses, return_exceptions=True)
            raise
        shipping, billing, kept_tax_number = await (addresses or self._addresses(data, buyer))
        email = domain.contact_email(buyer.email, data.email, (shipping or {}).get("email"),
                                     (billing or {}).get("email"))
        customer = Customer(owner_id=buyer.owner_id, user_id=buyer.user_id, email=email, group=buyer.customer_group)
        register_buyer = domain.registers_buyer(storefront.guest_accounts, signed_in=buyer.user_id is not None,
                                                asked=data.create_account)
        quote = await self._promotions(data, storefront, customer, lines)
        # Shipping and tax by the address's zone, on what the lines cost after their discounts;
        # checked before anything is written.
        charged = charge(self.settings, storefront, lines, quote, shipping or billing, ships=ships,
                         method_code=data.shipping_method,
                         method_id=str(data.shipping_method_id) if data.shipping_method_id else None,
                         locale=locale)
        if data.expected_total is not None and quantize(data.expected_total) != charged.priced.total:
            raise PriceChanged("The total changed since it was shown", details={
                "shown_total": str(quantize(data.expected_total)), "current_total": str(charged.priced.total)})
        return await self.write_order(
            buyer, storefront, charged, currency=currency, email=email, customer=customer,
            shipping=shipping, billing=billing, buyer_tax_number=data.buyer_tax_number or kept_tax_number,
            register_buyer=register_buyer, from_cart=from_cart, actor=Actor.CUSTOMER, actor_id=None,
            note="Order placed", locale=locale)

    async def write_order(self, buyer: Buyer, storefront: Storefront, charged: Charged, *, currency: str,
                          email: str | None, customer: Customer, shipping: dict[str, Any] | None,
                          billing: dict[str, Any] | None, buyer_tax_number: str | None, register_buyer: bool,
                          from_cart: bool, actor: Actor, actor_id: uuid.UUID | None, note: str,
                          extra_discounts: Sequence[dict[str, Any]] = (), locale: str | None = None) -> OrderDetails:
        """The order as `charged`, in `pending`, its promotions redeemed and `order.placed` and
        `order.status_changed` in the outbox: what every way of placing an order writes (a customer's
        checkout, a service's order, a draft staff send). `extra_discounts`: kept with the
        promotions' in `discounts` (a draft's manual discount, already in the lines' shares)."""
        lines, quote, destination, method, priced = (charged.lines, charged.quote, charged.destination,
                                                     charged.method, charged.priced)
        order_id, created_at, placed_at = uuid.uuid4(), utcnow(), utcnow()
        # Written once, as it is answered: the order already updated by its first history entry,
        # the rows as the database returns them (no reload).
        order = await insert_numbered(self.session, dict(
            id=order_id, owner_id=buyer.owner_id, user_id=buyer.user_id, storefront=storefront.slug,
            email=email,
            status=OrderStatus.PENDING.value, currency=currency, subtotal=priced.subtotal,
            tax_amount=priced.tax_amount, shipping_cost=priced.shipping_cost, discount=priced.discount,
            total_amount=priced.total, tax_included=priced.tax_included,
            shipping_discount=priced.shipping.discount if priced.shipping else quantize(0),
            shipping_tax=priced.shipping_tax,
            shipping_tax_inclusive=priced.shipping.tax_inclusive if priced.shipping else False,
            shipping_address=shipping, billing_address=billing, buyer_tax_number=buyer_tax_number,
            register_buyer=register_buyer,
            tracking_number=None, from_cart=from_cart, paid_at=None, shipped_at=None, delivered_at=None,
            created_at=created_at, updated_at=placed_at, shipping_method=method.code if method else None,
            shipping_method_name=method.name if method else None,
            shipping_method_id=uuid.UUID(method.id) if method and method.id else None,
            shipping_zone=destination.zone.code if destination.zone else None, tax_rate=destination.tax_rate,
            discounts=[*frozen_discounts(quote, locale), *extra_discounts], replaces_order_id=None,
            exchange_credit=quantize(0), locale=locale, customer_group=buyer.customer_group), history_entry(
            order_id, None, OrderStatus.PENDING, note=note, actor=actor, actor_id=actor_id,
            now=placed_at), attempts=self.settings.order_number_attempts)
        items = [self._item(order.id, position, line, line_charge)
                 for position, (line, line_charge) in enumerate(zip(lines, priced.lines, strict=True), start=1)]
        await self.orders.insert_items(order, items)
        await self.promotions.redeem(quote, order=order, customer=customer)
        # Catalog reserves the stock and cart clears itself (when the order came from it). Both
        # outbox rows go in one INSERT at commit.
        await outbox.add(self.session, OrderPlaced(
            order_id=order.id, order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id,
            storefront=order.storefront, lines=[contract_line(item) for item in items], from_cart=from_cart,
            currency=currency, total_amount=priced.total, email=order.email,
            shipping_method=order.shipping_method, register_buyer=order.register_buyer,
            ship_country=domain.ship_country(order.shipping_address)))
        await announce_status(self.session, order, None, note=note)
        metrics.count_when_committed(self.session, storefront=order.storefront, currency=currency)
        log_order(self.session, order, "placed", priced.total, currency)
        return order

    def _cart_destination(self, data: OrderCreate) -> OrderCreate:
        """An order from the cart that names no address ships where the cart does, by the cart's
        method unless it names one (`PUT /cart/shipping`): what the cart showed is what it charges."""
        if data.items is not None or data.shipping_address_id is not None or self.cart_address_id is None:
            return data
        named = data.shipping_method is not None or data.shipping_method_id is not None
        return data.model_copy(update={"shipping_address_id": self.cart_address_id,
                                       "shipping_method_id": data.shipping_method_id if named
                                       else self.cart_method_id})

    async def _lines(self, buyer: Buyer, data: OrderCreate, storefront: Storefront,
                     locale: str | None = None) -> list[PricedLine]:
        requests = await self._cart_lines(buyer, storefront) if data.items is None else [
            LineRequest(quantity=i.quantity, product_id=i.product_id, sku=i.sku, variant_id=i.variant_id,
                        book_id=i.book_id, tier=i.tier, content_type=i.content_type, content_id=i.content_id,
                        gift_recipient_email=i.gift_recipient_email, gift_message=i.gift_message or None,
                        gift_send_at=i.gift_send_at)
            for i in data.items]
        return await self.priced_lines(requests, storefront, buyer.customer_group, locale=locale)

    async def _promotions(self, data: OrderCreate, storefront: Storefront, customer: Customer,
                          lines: Sequence[PricedLine]) -> rules.Quote:
        """What the order saves (`promotions.rules.evaluate`, as the cart showed it): the request's
        code, else its cart's. A code that does not apply refuses the order (never placed without
        it silently); so does a discount other than the one the cart showed (`expected_discount`)."""
        code = data.promotion_code if rules.code_key(data.promotion_code) else (
            self.cart_code if data.items is None else None)
        quote = await self.promotions.quote(storefront.slug, customer, code, [basket_line(line) for line in lines])
        if quote.code_problem is not None:
            raise_for(quote.code_problem)
        if data.expected_discount is not None and quantize(data.expected_discount) != quote.discount:
            raise DiscountChanged(details={"shown": str(quantize(data.expected_discount)),
                                           "current": str(quote.discount)})
        return quote

    async def _addresses(self, data: OrderCreate, buyer: Buyer) -> tuple[dict[str, Any] | None,
                                                                         dict[str, Any] | None, str | None]:
        """(shipping, billing) snapshots, billing defaulting to shipping, and the tax number the
        buyer's account keeps for invoices (identity answers it with each address)."""
        if data.billing_address_id is None:
            shipping, tax_number = await self._address(data.shipping_address_id, buyer)
            return shipping, shipping, tax_number
        (shipping, shipping_tax), (billing, billing_tax) = await asyncio.gather(
            self._address(data.shipping_address_id, buyer), self._address(data.billing_address_id, buyer))
        return shipping, billing, billing_tax or shipping_tax

    async def _cart_lines(self, buyer: Buyer, storefront: Storefront) -> list[LineRequest]:
        """The lines of the buyer's cart on this storefront (a cart per owner and storefront)."""
        cart = await self.clients.cart(buyer.owner_id, storefront.slug)
        self.cart_code = cart.promotion_code
        self.cart_address_id, self.cart_method_id = cart.shipping_address_id, cart.shipping_method_id
        lines = [LineRequest(quantity=line.quantity, product_id=line.product_id, variant_id=line.variant_id,
                             shown_price=line.unit_price)
                 for line in cart.items if line.quantity > 0]
        if not lines:
            raise CartEmpty()
        return lines

    async def priced_lines(self, requests: Sequence[LineRequest], storefront: Storefront,
                           group: str | None = None, *, locale: str | None = None) -> list[PricedLine]:
        """Each line priced by catalog, at what the buyer's customer `group` pays on the storefront,
        named in `locale` (catalog's translations; the storefront's default: the products' own names).
        A product the storefront does not offer (`Storefront.offers`: not of a kind it
        sells, or scoped to other storefronts) is unknown here, like a missing one."""
        products = [p for p in await self.clients.lookup_products(
            ids=(r.product_id for r in requests if r.product_id is not None),
            skus=(ref for r in requests if r.product_id is None for ref in (r.sku or r.tier,) if ref),
            storefront=storefront.slug, group=group,
            locale=locale if locale and locale != storefront.default_locale else None)
            if storefront.offers(p.kind, p.storefronts)]
        by_id = {p.id: p for p in products}
        by_sku = {p.sku: p for p in products}
        return [self._price(request, by_id.get(request.product_id) if request.product_id is not None
                            else by_sku.get(request.sku or request.tier or ""))
                for request in requests]

    @staticmethod
    def _price(request: LineRequest, product: CatalogProduct | None) -> PricedLine:
        if product is None or not product.is_active:
            what = "print tier" if request.tier else "product"
            raise ProductUnavailable(f"The {what} {request.reference!r} is not available",
                                     details={"product": request.reference})
        if not is_purchasable(product.kind):
            raise NotPurchasable(f"A {product.kind} is not sold in an order", details={
                "product": request.reference, "kind": product.kind})
        if product.kind == ProductKind.PRINT_TIER and request.book_id is None:
            raise NotPurchasable("A print tier prints a book: name the book (book_id)",
                                 details={"product": request.reference, "kind": product.kind})
        if request.tier is not None and product.kind != ProductKind.PRINT_TIER:
            raise ProductUnavailable(f"{request.tier!r} is not a print tier", details={"tier": request.tier})
        if request.book_id is not None and product.kind != ProductKind.PRINT_TIER:
            raise InvalidOrderLine("Only a print tier prints a book", details={"product": request.reference})
        if request.content_type is not None and product.kind != ProductKind.RETRY_PACK:
            raise InvalidOrderLine("Only a retry pack names the item its retries are for",
                                   details={"product": request.reference})
        if request.variant_id is None:
            return PricedLine(request=request, product=product, variant_id=None, sku=product.sku, variant_name=None,
                              unit_price=product.price, attributes=dict(product.attributes))
        variant = product.variant(request.variant_id)
        if variant is None or not variant.is_active:
            raise ProductUnavailable(f"The variant {request.variant_id} of {product.sku!r} is not available",
                                     details={"product": str(product.id), "variant_id": str(request.variant_id)})
        # Catalog gives the variant's selling price already (its own, else the product's).
        return PricedLine(request=request, product=product, variant_id=variant.id, sku=variant.sku,
                          variant_name=variant.name, unit_price=variant.price,
                          attributes={**product.attributes, **variant.attributes})

    async def _check_shown_prices(self, buyer: Buyer, lines: Sequence[PricedLine], storefront: Storefront) -> None:
        """The customer is never charged a price the cart did not show. A line whose catalog price
        changed since the cart showed it refuses the order, and the cart is given the current
        prices in the same step, so that the next attempt (the customer has now seen them) goes
        through. Raised before anything is written here."""
        changed = [line for line in lines if domain.price_changed(line.request.shown_price, line.unit_price)]
        if not changed:
            return
        await self.clients.reprice_cart(buyer.owner_id, storefront.slug, (
            {"product_id": str(line.product.id), "variant_id": str(line.variant_id) if line.variant_id else None,
             "unit_price": str(quantize(line.unit_price))} for line in changed))
        raise PriceChanged(details={"items": [
            {"product_id": str(line.product.id), "variant_id": str(line.variant_id) if line.variant_id else None,
             "shown_unit_price": str(quantize(line.request.shown_price or 0)),
             "current_unit_price": str(quantize(line.unit_price))}
            for line in changed]})

    @staticmethod
    def _one_currency(lines: Iterable[PricedLine], storefront: Storefront) -> str:
        currencies = sorted({line.product.currency for line in lines})
        if problem := domain.currency_problem(currencies, storefront):
            raise CurrencyMismatch(problem, details={"currencies": currencies, "storefront": storefront.slug,
                                                     "storefront_currency": storefront.currency})
        return currencies[0]

    @staticmethod
    def _check_stock(lines: Sequence[PricedLine]) -> None:
        """A courtesy check on catalog's current figure; the reservation on order.placed decides."""
        requested: Counter[tuple[uuid.UUID, uuid.UUID | None]] = Counter()
        for line in lines:
            if line.product.kind == ProductKind.PHYSICAL and line.product.track_inventory:
                requested[(line.product.id, line.variant_id)] += line.request.quantity
        for line in lines:
            key = (line.product.id, line.variant_id)
            if key not in requested:
                continue
            variant = line.product.variant(line.variant_id) if line.variant_id else None
            available = variant.stock_quantity if variant is not None else line.product.stock_quantity
            if requested[key] > available:
                raise InsufficientStock(details={"product_id": str(line.product.id),
                                                 "variant_id": str(line.variant_id) if line.variant_id else None,
                                                 "requested": requested[key], "available": max(available, 0)})

    @staticmethod
    def _check_gift_lines(lines: Iterable[PricedLine]) -> None:
        now = utcnow()
        for index, line in enumerate(lines):
            request = line.request
            given = [name for name in domain.GIFT_FIELDS if getattr(request, name) is not None]
            problems = domain.gift_line_problems(line.product.kind, given, request.gift_send_at, now)
            if problems:
                raise InvalidOrderLine(details={"fields": {f"items.{index}.{name}": messages
                                                           for name, messages in problems.items()}})

    async def _check_books(self, buyer: Buyer, lines: Iterable[PricedLine]) -> None:
        """The books printed and the items retry packs are for belong to the buyer (generation says)."""
        lines = list(lines)
        for book_id in dict.fromkeys(line.request.book_id for line in lines if line.request.book_id is not None):
            if not await self.clients.owns_book(book_id, buyer.owner_id):
                raise BookNotFound(details={"book_id": str(book_id)})
        for request in (line.request for line in lines):
            if request.content_type is not None and request.content_id is not None and \
                    not await self.clients.owns_book_item(request.content_type, request.content_id, buyer.owner_id):
                raise RetryTargetNotFound(details={"content_type": request.content_type,
                                                   "content_id": str(request.content_id)})

    async def _address(self, address_id: uuid.UUID | None, buyer: Buyer) -> tuple[dict[str, Any] | None, str | None]:
        """The address's snapshot, and its owner's tax number (None: none kept)."""
        if address_id is None:
            return None, None
        address = await self.clients.address(address_id, buyer.owner_id)
        if address is None:
            raise AddressNotFound(details={"address_id": str(address_id)})
        return domain.address_snapshot(address), address.get("owner_tax_number")

    @staticmethod
    def _item(order_id: uuid.UUID, position: int, line: PricedLine, charge: charges.Charge) -> dict[str, Any]:
        """The columns of an `order_item` row, its adjustments as priced."""
        request = line.request
        return dict(id=uuid.uuid4(), order_id=order_id, position=position, product_id=line.product.id,
                    variant_id=line.variant_id, sku=line.sku, name=line.product.name, variant_name=line.variant_name,
                    kind=line.product.kind, quantity=request.quantity, unit_price=line.unit_price,
                    line_total=charge.amount, discount_amount=charge.discount, tax_rate=charge.tax_rate,
                    tax_amount=charge.tax, tax_inclusive=charge.tax_inclusive, attributes=line.attributes,
                    book_id=request.book_id, content_type=request.content_type, content_id=request.content_id,
                    gift_recipient_email=request.gift_recipient_email, gift_message=request.gift_message,
                    gift_send_at=request.gift_send_at)


def basket_line(line: PricedLine) -> rules.BasketLine:
    """A priced line as the promotions' rule reads it."""
    return rules.BasketLine(product_id=line.product.id, unit_price=line.unit_price, quantity=line.request.quantity,
                            category_id=line.product.category_id)


@dataclass(frozen=True)
class Charged:
    """An order's lines as charged: the promotions' quote, the destination's rules, the method it
    ships by (None: nothing shipped) and the money (`priced`)."""

    lines: tuple[PricedLine, ...]
    quote: rules.Quote
    destination: destinations.ShippingQuote
    method: destinations.ShippingOption | None
    priced: charges.Priced


def charge(settings: OrdersSettings, storefront: Storefront, lines: Sequence[PricedLine], quote: rules.Quote,
           address: Mapping[str, Any] | None, *, ships: bool, method_code: str | None = None,
           method_id: str | None = None, locale: str | None = None) -> Charged:
    """What an order of `lines` costs on `storefront`, less what `quote` takes off each, sent to
    `address` (its `country` and `state`) by the method named (`chosen_method`): the one computation
    a placed order is charged by and a draft order's preview shows (`price_order`)."""
    destination = shipping_quote(settings, storefront, lines, address, quote, locale)
    method = chosen_method(destination, method_code, method_id) if ships else None
    return Charged(lines=tuple(lines), quote=quote, destination=destination, method=method,
                   priced=price_order(lines, quote, destination, method))


def shipping_quote(settings: OrdersSettings, storefront: Storefront, lines: Sequence[PricedLine],
                   address: Mapping[str, Any] | None, quote: rules.Quote,
                   locale: str | None = None) -> destinations.ShippingQuote:
    """Shipping and tax of `lines`, less what `quote` takes off each, sent to `address`: the rule the
    order is charged by and `GET /shipping-methods` shows (`destinations.shipping_quote`)."""
    discounts = quote.line_discounts or tuple(Decimal("0") for _ in lines)
    return destinations.shipping_quote(
        storefront, country=(address or {}).get("country"), region=(address or {}).get("state"),
        lines=((line.product.kind, domain.line_total(line.unit_price, line.request.quantity) - discount,
                line.request.quantity, line.attributes) for line, discount in zip(lines, discounts, strict=True)),
        tax_inclusive_kinds=settings.tax_inclusive_kinds, shipping_cost=settings.shipping_cost, locale=locale)


def price_order(lines: Sequence[PricedLine], quote: rules.Quote, destination: destinations.ShippingQuote,
                method: destinations.ShippingOption | None) -> charges.Priced:
    """The order's money (`charges.price`): `lines` less the promotions' shares in `quote`, taxed as
    `destination` taxes, shipped by `method` (None: nothing shipped), free when `quote` says so."""
    discounts = quote.line_discounts or tuple(Decimal("0") for _ in lines)
    return charges.price(
        [charges.Line(kind=line.product.kind, unit_price=line.unit_price, quantity=line.request.quantity,
                      discount=discount, tax_class=line.product.tax_class)
         for line, discount in zip(lines, discounts, strict=True)],
        destination.tax, shipping=method.cost if method is not None else None, free_shipping=quote.free_shipping)


def chosen_method(quote: destinations.ShippingQuote, code: str | None,
                     method_id: str | None = None) -> destinations.ShippingOption:
    """The method the order ships by: `method_id`, else `code`, else the zone's first. Refused when the
    address is in no zone of the storefront, or its zone does not offer the method."""
    method = quote.option(code, method_id)
    if method is not None:
        return method
    if not quote.options:
        raise ShippingUnavailable(details={"zone": quote.zone.code if quote.zone else None})
    raise ShippingMethodUnavailable(details={"shipping_method": method_id or code, "zone": quote.zone.code if quote.zone else None,
                                             "available": [option.code for option in quote.options if option.code]})

