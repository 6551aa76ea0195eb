"""Draft orders: staff build an order for a customer, see it priced as it will be charged, and send it.

A draft names catalog products; each read prices them again through placement's own steps
(catalog's lookup at the customer group's prices, the promotions' rule, the destination's shipping
and tax, `placing.charge`), so the preview is what `send` charges. Two things only staff add: a
line's custom unit price and a manual discount, each with a reason the audit log keeps. The manual
discount is shared over the lines after the promotions (`rules.manual_discount`), so tax is computed on
what is charged, as for any discount.

Sending writes the order as a customer's checkout does (`PlacementService.write_order`: `pending`,
`order.placed` for catalog to reserve the stock, `order.status_changed`), once: the draft's row is
locked and a sent draft answers the order it became. The customer is mailed a link that pays that
order without signing in (`atelier_common.payment_links`, through `draft_order.sent`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox, payment_links
from atelier_common.auth import Principal
from atelier_common.contracts.identity import Storefront
from atelier_common.contracts.orders import DraftOrderSent
from atelier_common.errors import AtelierError, ValidationFailed
from atelier_common.money import quantize
from atelier_common.service import UseCase
from atelier_common.versions import check_version, version_of
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor
from atelier_orders.drafts.repository import DraftRepository
from atelier_orders.errors import (
    AddressRequired,
    DraftAlreadySent,
    DraftContactRequired,
    DraftEmpty,
    DraftLineNotFound,
    DraftNotFound,
    InvalidOrderLine,
    StorefrontNotFound,
)
from atelier_orders.models import DraftOrder, DraftOrderLine, utcnow
from atelier_orders.promotions import rules
from atelier_orders.promotions.repository import CustomerGroupCopies
from atelier_orders.promotions.service import Customer, frozen_discounts, raise_for
from atelier_orders.queries import OrderQueries
from atelier_orders.schemas._shared import MAX_LINES
from atelier_orders.schemas.drafts import DraftCreate, DraftLineCreate, DraftLineUpdate, DraftQuery, DraftUpdate
from atelier_orders.service.placing import (
    Buyer,
    Charged,
    LineRequest,
    PlacementService,
    PricedLine,
    basket_line,
    charge,
)

OPEN, SENT = "open", "sent"
# How a manual discount is kept among the order's `discounts` (beside the promotions').
MANUAL_KIND = "manual"


@dataclass(frozen=True)
class DraftPricing:
    """A draft priced as `send` charges it."""

    storefront: Storefront
    charged: Charged
    currency: str
    # The manual discount as the order keeps it in `discounts` (empty: none).
    manual: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class DraftPicture:
    draft: DraftOrder
    lines: list[DraftOrderLine]
    pricing: DraftPricing | None
    problem: AtelierError | None
    # The lines as catalog prices them (custom prices applied), when the draft cannot be priced
    # further (no address yet, say): staff still see each line's price.
    catalog: list[PricedLine] | None = None


def draft_version(draft: DraftOrder) -> str:
    return version_of(draft.updated_at, draft.status)


class DraftOrders(UseCase[OrdersContext]):
    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.drafts = DraftRepository(session)
        self.placement = PlacementService(session, context)

    # -- reads -------------------------------------------------------------------------------------

    # An API key limited to some storefronts (`Principal.may_touch`) finds only their drafts, and
    # starts none on another (docs/security.md, "API keys").

    async def search(self, query: DraftQuery, staff: Principal, *, limit: int,
                     offset: int) -> tuple[int, list[dict[str, Any]]]:
        count, rows = await self.drafts.search(storefront=query.storefront, status=query.status, limit=limit,
                                               offset=offset, storefronts=staff.storefronts)
        return count, [{**draft.model_dump(), "lines": lines} for draft, lines in rows]

    async def get(self, ref: str, staff: Principal) -> DraftPicture:
        return await self._picture(await self._draft(ref, staff))

    # -- writes ------------------------------------------------------------------------------------

    async def create(self, data: DraftCreate, staff: Principal) -> DraftPicture:
        storefront = await self.context.storefronts.get(data.storefront)
        if not staff.may_touch(storefront.slug):
            raise StorefrontNotFound()
        if data.customer_group is not None and await CustomerGroupCopies(self.session).missing(
                storefront.slug, [data.customer_group]):
            raise ValidationFailed(details={"fields": {"customer_group": [
                f"storefront {storefront.slug!r} has no customer group {data.customer_group!r}"]}})
        assert staff.user_id is not None  # staff routes require a user
        now = utcnow()
        # A customer without an account is a guest of their own: the order is theirs by this id,
        # and paid through the mailed link.
        draft = DraftOrder(storefront=storefront.slug, user_id=data.user_id, owner_id=data.user_id or uuid.uuid4(),
                           email=str(data.email) if data.email else None, customer_group=data.customer_group,
                           buyer_tax_number=data.buyer_tax_number, note=data.note, created_by=staff.user_id,
                           created_at=now, updated_at=now)
        self.drafts.add(draft)
        await self.drafts.flush([draft])
        await audit.record(self.session, staff, "draft_order.create", "draft_order", draft.id, after={
            "storefront": draft.storefront, "user_id": draft.user_id, "email": draft.email,
            "customer_group": draft.customer_group})
        return DraftPicture(draft=draft, lines=[], pricing=None, problem=DraftEmpty())

    async def add_line(self, ref: str, data: DraftLineCreate, staff: Principal, *,
                       if_match: str | None) -> DraftPicture:
        draft = await self._editable(ref, if_match, staff)
        lines = await self.drafts.lines(draft.id)
        if len(lines) >= MAX_LINES:
            raise InvalidOrderLine(f"A draft order has at most {MAX_LINES} lines")
        line = DraftOrderLine(draft_id=draft.id, position=max((x.position for x in lines), default=0) + 1,
                              product_id=data.product_id, variant_id=data.variant_id, quantity=data.quantity,
                              unit_price=data.unit_price, price_reason=data.price_reason if data.unit_price is not None
                              else None)
        # Priced now: an unknown, inactive or unsold product is refused before it is kept.
        catalog = await self._catalog_lines(draft, [line])
        self.drafts.add(line)
        self._touch(draft)
        await audit.record(self.session, staff, "draft_order.line_add", "draft_order", draft.id, after={
            "line_id": line.id, "product_id": line.product_id, "variant_id": line.variant_id,
            "quantity": line.quantity, "catalog_price": catalog[0].unit_price, "unit_price": line.unit_price},
            reason=line.price_reason)
        return await self._picture(draft, [*lines, line])

    async def update_line(self, ref: str, line_ref: str, data: DraftLineUpdate, staff: Principal, *,
                          if_match: str | None) -> DraftPicture:
        draft = await self._editable(ref, if_match, staff)
        lines = await self.drafts.lines(draft.id)
        line = _line(lines, line_ref)
        before = {"quantity": line.quantity, "unit_price": line.unit_price, "price_reason": line.price_reason}
        if data.quantity is not None:
            line.quantity = data.quantity
        if data.catalog_price:
            line.unit_price, line.price_reason = None, None
        elif data.unit_price is not None:
            line.unit_price, line.price_reason = data.unit_price, data.price_reason
        self.drafts.add(line)
        self._touch(draft)
        await audit.record(self.session, staff, "draft_order.line_update", "draft_order", draft.id,
                           before={"line_id": line.id, **before},
                           after={"line_id": line.id, "quantity": line.quantity, "unit_price": line.unit_price},
                           reason=data.price_reason)
        return await self._picture(draft, lines)

    async def remove_line(self, ref: str, line_ref: str, staff: Principal, *, if_match: str | None) -> DraftPicture:
        draft = await self._editable(ref, if_match, staff)
        lines = await self.drafts.lines(draft.id)
        line = _line(lines, line_ref)
        await self.drafts.delete_line(line)
        self._touch(draft)
        await audit.record(self.session, staff, "draft_order.line_remove", "draft_order", draft.id, before={
            "line_id": line.id, "product_id": line.product_id, "quantity": line.quantity,
            "unit_price": line.unit_price})
        return await self._picture(draft, [x for x in lines if x.id != line.id])

    async def update(self, ref: str, data: DraftUpdate, staff: Principal, *, if_match: str | None) -> DraftPicture:
        draft = await self._editable(ref, if_match, staff)
        given = data.model_dump(exclude_unset=True)
        if "manual_discount" in given and not data.manual_discount:
            given["manual_discount"], given["manual_discount_reason"] = Decimal("0.00"), None
        if "shipping_address" in given and data.shipping_address is not None:
            given["shipping_address"] = domain.address_snapshot(data.shipping_address.model_dump(mode="json"))
        if "email" in given and given["email"] is None and draft.user_id is None:
            raise DraftContactRequired()
        before = {name: getattr(draft, name) for name in given}
        for name, value in given.items():
            setattr(draft, name, str(value) if name == "email" and value is not None else value)
        self._touch(draft)
        await audit.record(self.session, staff, "draft_order.update", "draft_order", draft.id, before=before,
                           after={name: getattr(draft, name) for name in given},
                           reason=data.manual_discount_reason if "manual_discount" in given else None)
        return await self._picture(draft)

    async def send(self, ref: str, staff: Principal) -> dict[str, Any]:
        """The order the draft becomes: written as a checkout writes one, in `pending` until catalog
        reserves its stock. Sent already: the same answer, nothing written (staff may press twice)."""
        draft = await self._draft(ref, staff, lock=True)
        if draft.status == SENT:
            assert draft.order_id is not None
            placed = await OrderQueries(self.session).get(draft.order_id)
            if placed is None:  # pragma: no cover - an order is never deleted
                raise DraftNotFound()
            return self._sent(draft, await self.context.storefronts.get(draft.storefront),
                              total=placed.total_amount, currency=placed.currency, status=str(placed.status))
        lines = await self.drafts.lines(draft.id)
        if not lines:
            raise DraftEmpty()
        if draft.user_id is None and not draft.email:
            raise DraftContactRequired()
        pricing = await self._price(draft, lines)
        storefront, charged = pricing.storefront, pricing.charged
        address = draft.shipping_address
        email = domain.contact_email(draft.email, (address or {}).get("email"))
        buyer = Buyer(owner_id=draft.owner_id, user_id=draft.user_id, email=email,
                      customer_group=draft.customer_group)
        order = await self.placement.write_order(
            buyer, storefront, charged, currency=pricing.currency, email=email, customer=_customer(draft),
            shipping=address, billing=address, buyer_tax_number=draft.buyer_tax_number,
            register_buyer=domain.registers_buyer(storefront.guest_accounts, signed_in=draft.user_id is not None,
                                                  asked=False),
            from_cart=False, actor=Actor.STAFF, actor_id=staff.user_id, note="Order placed by staff (draft order)",
            extra_discounts=pricing.manual)
        now = utcnow()
        draft.status, draft.order_id, draft.order_number, draft.sent_at = SENT, order.id, order.order_number, now
        draft.payment_link_expires_at = now + timedelta(hours=self.context.settings.draft_payment_link_hours)
        self._touch(draft, now)
        sent = self._sent(draft, storefront, total=order.total_amount, currency=order.currency)
        await outbox.add(self.session, DraftOrderSent(
            storefront=storefront.slug, draft_id=draft.id, order_id=order.id, order_number=order.order_number,
            user_id=draft.user_id, email=email, total_amount=order.total_amount, currency=order.currency,
            payment_url=sent["payment_url"], expires_at=draft.payment_link_expires_at))
        await audit.record(self.session, staff, "draft_order.send", "draft_order", draft.id, after={
            "order_id": order.id, "order_number": order.order_number, "total_amount": order.total_amount,
            "currency": order.currency})
        return sent

    # -- the steps ---------------------------------------------------------------------------------

    def _sent(self, draft: DraftOrder, storefront: Storefront, *, total: Decimal, currency: str,
              status: str = "pending") -> dict[str, Any]:
        assert draft.order_id is not None and draft.order_number is not None
        assert draft.payment_link_expires_at is not None
        return {"draft_id": draft.id, "order_id": draft.order_id, "order_number": draft.order_number,
                "status": status, "total_amount": total, "currency": currency,
                "payment_url": payment_url(self.context.settings.service_token, storefront, draft.order_id,
                                           draft.payment_link_expires_at),
                "payment_url_expires_at": draft.payment_link_expires_at}

    async def _draft(self, ref: str, staff: Principal, *, lock: bool = False) -> DraftOrder:
        draft_id = domain.parse_uuid(ref)
        draft = await self.drafts.get(draft_id, lock=lock) if draft_id is not None else None
        if draft is None or not staff.may_touch(draft.storefront):
            raise DraftNotFound()
        return draft

    async def _editable(self, ref: str, if_match: str | None, staff: Principal) -> DraftOrder:
        draft = await self._draft(ref, staff, lock=True)
        if draft.status != OPEN:
            raise DraftAlreadySent(details={"order_id": str(draft.order_id), "order_number": draft.order_number})
        check_version(if_match, draft_version(draft), {"version": draft_version(draft)})
        return draft

    def _touch(self, draft: DraftOrder, now: datetime | None = None) -> None:
        draft.updated_at = now or utcnow()
        self.drafts.add(draft)

    async def _picture(self, draft: DraftOrder, lines: Sequence[DraftOrderLine] | None = None) -> DraftPicture:
        """The draft with its preview, or the problem that keeps it from being priced (shown, not
        raised: staff fix it on the draft; `send` refuses with it)."""
        lines = list(lines) if lines is not None else await self.drafts.lines(draft.id)
        await self.drafts.flush()
        if draft.status == SENT:
            return DraftPicture(draft=draft, lines=lines, pricing=None, problem=None)
        if not lines:
            return DraftPicture(draft=draft, lines=lines, pricing=None, problem=DraftEmpty())
        catalog: list[PricedLine] | None = None
        try:
            catalog = await self._own_prices(draft, lines)
            pricing = await self._price(draft, lines, catalog)
        except AtelierError as problem:
            if problem.status >= 500:
                raise
            return DraftPicture(draft=draft, lines=lines, pricing=None, problem=problem, catalog=catalog)
        return DraftPicture(draft=draft, lines=lines, pricing=pricing, problem=None)

    async def _catalog_lines(self, draft: DraftOrder, lines: Sequence[DraftOrderLine]) -> list[PricedLine]:
        """The lines as catalog prices them for the draft's customer group on its storefront (placement's
        step: unknown, inactive or unsold products refused the same way)."""
        storefront = await self.context.storefronts.get(draft.storefront)
        return await self.placement.priced_lines(
            [LineRequest(quantity=line.quantity, product_id=line.product_id, variant_id=line.variant_id)
             for line in lines], storefront, draft.customer_group)

    async def _own_prices(self, draft: DraftOrder, lines: Sequence[DraftOrderLine]) -> list[PricedLine]:
        """Catalog's lines, each at the custom price staff set where they set one."""
        catalog = await self._catalog_lines(draft, lines)
        return [replace(line, unit_price=own.unit_price) if own.unit_price is not None else line
                for line, own in zip(catalog, lines, strict=True)]

    async def _price(self, draft: DraftOrder, lines: Sequence[DraftOrderLine],
                     priced: Sequence[PricedLine] | None = None) -> DraftPricing:
        """The draft as `send` charges it: catalog's prices (a custom one where staff set it), the
        code's promotions and the automatic ones, the manual discount, the destination's shipping and
        tax (`placing.charge`). `priced`: the lines at their prices already (`_own_prices`)."""
        storefront = await self.context.storefronts.get(draft.storefront)
        if priced is None:
            priced = await self._own_prices(draft, lines)
        currency = PlacementService._one_currency(priced, storefront)
        quote = await self.placement.promotions.quote(storefront.slug, _customer(draft), draft.promotion_code,
                                                      [basket_line(line) for line in priced])
        if quote.code_problem is not None:
            raise_for(quote.code_problem)
        quote, manual = with_manual_discount(quote, priced, draft)
        ships = domain.requires_shipping(line.product.kind for line in priced)
        if ships and draft.shipping_address is None:
            raise AddressRequired(details={"fields": {"shipping_address": ["required when goods are shipped"]}})
        method = draft.shipping_method
        by_id = method is not None and domain.parse_uuid(method) is not None
        charged = charge(self.context.settings, storefront, priced, quote, draft.shipping_address, ships=ships,
                         method_code=None if by_id else method, method_id=method if by_id else None)
        return DraftPricing(storefront=storefront, charged=charged, currency=currency, manual=manual)


def with_manual_discount(quote: rules.Quote, lines: Sequence[PricedLine],
                         draft: DraftOrder) -> tuple[rules.Quote, tuple[dict[str, Any], ...]]:
    """`quote` with the draft's manual discount added to its lines' shares (the rule:
    `rules.manual_discount`), and the discount as the order keeps it."""
    wanted = quantize(draft.manual_discount or 0)
    if wanted <= 0:
        return quote, ()
    totals = [domain.line_total(line.unit_price, line.request.quantity) for line in lines]
    merged, amount = rules.manual_discount(quote, totals, wanted)
    kept = {"promotion_id": str(draft.id), "code": None, "name": f"Manual discount: {draft.manual_discount_reason}",
            "kind": MANUAL_KIND, "amount": str(amount), "free_shipping": False}
    return merged, (kept,)


def payment_url(secret: str, storefront: Storefront, order_id: uuid.UUID, expires_at: datetime) -> str:
    """The storefront's page that pays `order_id` with the link's token (`pay_order`)."""
    return storefront.link("pay_order", order_id=str(order_id),
                           token=payment_links.sign(secret, order_id, expires_at))


def _customer(draft: DraftOrder) -> Customer:
    return Customer(owner_id=draft.owner_id, user_id=draft.user_id, email=draft.email, group=draft.customer_group)


def _line(lines: Sequence[DraftOrderLine], ref: str) -> DraftOrderLine:
    line_id = domain.parse_uuid(ref)
    line = next((line for line in lines if line.id == line_id), None)
    if line is None:
        raise DraftLineNotFound()
    return line


def draft_read(picture: DraftPicture) -> dict[str, Any]:
    """Staff's read of a draft (`DraftRead`): each line as priced, and the preview."""
    draft, pricing, problem = picture.draft, picture.pricing, picture.problem
    charged = pricing.charged if pricing is not None else None
    catalog = charged.lines if charged is not None else picture.catalog
    lines: list[dict[str, Any]] = []
    for position, line in enumerate(picture.lines):
        read: dict[str, Any] = {"id": line.id, "product_id": line.product_id, "variant_id": line.variant_id,
                                "quantity": line.quantity, "custom_price": line.unit_price is not None,
                                "price_reason": line.price_reason, "unit_price": line.unit_price}
        if catalog is not None:
            priced = catalog[position]
            variant = priced.product.variant(priced.variant_id) if priced.variant_id else None
            read.update(sku=priced.sku, name=priced.product.name, variant_name=priced.variant_name,
                        catalog_price=variant.price if variant is not None else priced.product.price,
                        unit_price=priced.unit_price)
        if charged is not None:
            money = charged.priced.lines[position]
            read.update(line_total=money.amount, discount=money.discount, tax_amount=money.tax)
        lines.append(read)
    return {**draft.model_dump(), "version": draft_version(draft), "lines": lines,
            "preview": None if pricing is None else _preview(pricing),
            "problem": None if problem is None else {"code": problem.code, "message": problem.message,
                                                     "details": problem.details or {}}}


def _preview(pricing: DraftPricing) -> dict[str, Any]:
    charged, money = pricing.charged, pricing.charged.priced
    return {"currency": pricing.currency, "subtotal": money.subtotal, "discount": money.discount,
            "shipping_cost": money.shipping_cost, "shipping_method": charged.method.code if charged.method else None,
            "shipping_method_name": charged.method.name if charged.method else None,
            "tax_amount": money.tax_amount, "tax_included": money.tax_included, "total_amount": money.total,
            "discounts": [*frozen_discounts(charged.quote), *pricing.manual]}
