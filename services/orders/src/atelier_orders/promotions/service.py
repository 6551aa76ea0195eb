"""Promotions and discount codes: staff's CRUD, the quote the cart shows, and what placing
an order redeems. The rule itself is `promotions.rules.evaluate`, the one both use, on the one read
shape of a promotion (`PromotionTerms`) that the repository answers and staff's API shows.

Redemption, inside the placing transaction: each applied promotion takes a use with a guarded
UPDATE (`PromotionRepository.take_use`), which also locks its row; then the customer's uses are
counted again under that lock and judged by the one rule of it (`PromotionTerms.customer_limit_reached`).
A promotion used up, or by this customer as often as it allows, refuses the order (409
PROMOTION_EXHAUSTED, 400 PROMOTION_CODE_INVALID) and the transaction rolls back: nothing is
charged that the cart did not show. A cancelled or rejected order that was never paid gives its
uses back (`_shared.record_status`), like its stock; a paid one keeps them (a refund does not re-open a code).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.identity import Storefront
from atelier_common.contracts.orders import Discount, PromotionChanged, PromotionRedeemed
from atelier_common.errors import ValidationFailed
from atelier_common.money import quantize
from atelier_common.service import UseCase
from atelier_common.versions import check_version, version_of
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.errors import (
    LocaleNotOffered,
    PromotionCodeInvalid,
    PromotionCodeTaken,
    PromotionExhausted,
    PromotionNotFound,
    StorefrontNotFound,
)
from atelier_orders.models import Promotion, PromotionRedemption, utcnow
from atelier_orders.pricing import charges, destinations
from atelier_orders.promotions import rules
from atelier_orders.promotions.repository import CustomerGroupCopies, PromotionRepository, terms_of
from atelier_orders.rows import OrderDetails
from atelier_orders.schemas import (
    PromotionCreate,
    PromotionQuery,
    PromotionQuoteRequest,
    PromotionRead,
    PromotionWrite,
)


def promotion_version(promotion: rules.PromotionTerms) -> str:
    return version_of(promotion.updated_at, promotion.is_active)


def promotion_read(promotion: rules.PromotionTerms) -> dict[str, Any]:
    """Staff's read of a promotion (`PromotionRead`): its read shape's fields, and the `version`
    an edit sends back."""
    return {**{f.name: getattr(promotion, f.name) for f in fields(promotion)}, "version": promotion_version(promotion)}


def email_key(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def raise_for(problem: rules.CodeProblem) -> None:
    """400 PROMOTION_CODE_INVALID, or 409 PROMOTION_EXHAUSTED for a code whose uses are all taken."""
    details = {"code": problem.code, "reason": problem.problem.value}
    if problem.problem == rules.Problem.USED_UP:
        raise PromotionExhausted(problem.message, details=details)
    raise PromotionCodeInvalid(problem.message, details=details)


@dataclass(frozen=True)
class Customer:
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = None
    # Their customer group on the storefront priced (the token's, `Principal.group_on`): what
    # `PromotionTerms.open_to` judges. None: anonymous, or in no group.
    group: str | None = None


class PromotionPricing:
    """What a basket saves on a storefront now (`promotions.rules.evaluate` on the database's
    promotions), and the redemption of what an order applied."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.promotions = PromotionRepository(session)

    async def live(self, storefront: str, code: str | None, now: datetime) -> list[rules.PromotionTerms]:
        """The storefront's live automatic promotions, and the code's when it names a live one."""
        return await self.promotions.live_of(storefront, now, rules.code_key(code))

    async def customer_uses(self, promotions: Iterable[rules.PromotionTerms],
                            customer: Customer) -> dict[uuid.UUID, int]:
        """How often `customer` redeemed each of `promotions` that has a per-customer limit (orders
        not released), by owner, user or email: what `PromotionTerms.customer_limit_reached` judges."""
        limited = [p.id for p in promotions if p.usage_limit_per_customer is not None]
        return await self.promotions.customer_uses(limited, owner_id=customer.owner_id, user_id=customer.user_id,
                                                   email_key=email_key(customer.email))

    async def quote(self, storefront: str, customer: Customer, code: str | None,
                    lines: Sequence[rules.BasketLine], *, now: datetime | None = None,
                    live: Sequence[rules.PromotionTerms] | None = None) -> rules.Quote:
        """`live`: the promotions `live` read already, at `now`."""
        now = now or utcnow()
        if live is None:
            live = await self.live(storefront, code, now)
        uses = await self.customer_uses(live, customer)
        return rules.evaluate(live, lines, now=now, code=code, customer_uses=uses, group=customer.group)

    async def redeem(self, quote: rules.Quote, *, order: OrderDetails, customer: Customer) -> None:
        """Take a use of each promotion `quote` applied and record the redemption (what it saved;
        each line keeps its own discount, `order_item.discount_amount`); PROMOTION_EXHAUSTED when
        one is used up meanwhile, PROMOTION_CODE_INVALID when this customer used it up meanwhile."""
        now = utcnow()
        # In one order of ids whatever the basket: two orders taking the same promotions' row locks
        # in opposite orders would deadlock.
        for applied in sorted(quote.applied, key=lambda a: str(a.promotion.id)):
            promotion = applied.promotion
            code = promotion.code or ""
            uses = await self.promotions.take_use(promotion.id, now)
            if uses is None:
                raise_for(rules.CodeProblem(rules.Problem.USED_UP, code or promotion.name))
            # Counted again under the row lock `take_use` now holds, in a statement of its own (on
            # PostgreSQL it sees every redemption committed before the lock was granted): two orders
            # of one customer racing for its last use cannot both take it.
            counted = await self.customer_uses([promotion], customer)
            if promotion.customer_limit_reached(counted.get(promotion.id, 0)):
                raise_for(rules.CodeProblem(rules.Problem.CUSTOMER_LIMIT, code or promotion.name))
            self.promotions.add_redemption(PromotionRedemption(
                promotion_id=promotion.id, order_id=order.id, storefront=order.storefront, name=promotion.name,
                code=promotion.code, kind=promotion.kind.value, owner_id=customer.owner_id,
                user_id=customer.user_id, email_key=email_key(customer.email), amount=applied.amount,
                free_shipping=applied.free_shipping, created_at=now))
            await outbox.add(self.session, PromotionRedeemed(
                storefront=order.storefront, promotion_id=promotion.id, code=promotion.code, name=promotion.name,
                kind=promotion.kind.value, order_id=order.id, order_number=order.order_number,
                owner_id=order.owner_id, user_id=order.user_id, currency=order.currency, amount=applied.amount,
                free_shipping=applied.free_shipping, uses=uses, usage_limit=promotion.usage_limit))
        if quote.applied:
            await self.session.flush()


class PromotionQuotes(UseCase[OrdersContext]):
    """The cart's question (`POST /internal/promotions/quote`): what its lines save now."""

    async def quote(self, data: PromotionQuoteRequest) -> dict[str, Any]:
        pricing = PromotionPricing(self.session)
        now = utcnow()
        live = await pricing.live(data.storefront, data.code, now)
        categories: dict[uuid.UUID, uuid.UUID | None] = {}
        if data.lines and any(p.category_ids for p in live):
            products = await self.context.clients.lookup_products(ids=(line.product_id for line in data.lines))
            categories = {p.id: p.category_id for p in products}
        lines = [rules.BasketLine(product_id=line.product_id, unit_price=line.unit_price, quantity=line.quantity,
                                  category_id=categories.get(line.product_id)) for line in data.lines]
        quote = await pricing.quote(data.storefront, Customer(data.owner_id, data.user_id, data.email,
                                                              data.customer_group),
                                    data.code, lines, now=now, live=live)
        if data.strict and quote.code_problem is not None:
            raise_for(quote.code_problem)
        # The lines priced with what they save, taxed as the storefront taxes before a destination.
        storefront = await self.context.storefronts.get(data.storefront)
        priced = charges.price(
            [charges.Line(kind=line.kind, unit_price=line.unit_price, quantity=line.quantity, discount=discount,
                        tax_class=line.tax_class)
             for line, discount in zip(data.lines, quote.line_discounts, strict=True)],
            destinations.storefront_tax(storefront, tax_inclusive_kinds=self.context.settings.tax_inclusive_kinds))
        return {**quote_read(quote, data.code, data.locale), **priced_read(priced)}


def priced_read(priced: charges.Priced) -> dict[str, Any]:
    """What the cart shows of the order's money: its tax, total and each line's discount and tax."""
    return {"tax_amount": priced.tax_amount, "tax_included": priced.tax_included, "total": priced.total,
            "lines": [{"discount": line.discount, "tax_rate": line.tax_rate, "tax_amount": line.tax,
                       "tax_inclusive": line.tax_inclusive} for line in priced.lines]}


def discount_of(applied: rules.Applied, locale: str | None = None) -> Discount:
    """One promotion applied, as the cart shows it and the order keeps it (`discounts`), named in
    `locale` where it has a name there."""
    promotion = applied.promotion
    return Discount(promotion_id=promotion.id, code=promotion.code, name=promotion.name_in(locale),
                    kind=promotion.kind.value, amount=applied.amount, free_shipping=applied.free_shipping)


def frozen_discounts(quote: rules.Quote, locale: str | None = None) -> list[dict[str, Any]]:
    """What an order keeps of the promotions it was given (`customer_order.discounts`): each one's
    `Discount` (named in the order's `locale`), money as decimal strings. What each saved on a line
    is the line's own `discount_amount`; reads answer `discounts[].lines` from those rows
    (`promotions.rules.order_discounts`)."""
    return [discount_of(applied, locale).model_dump(mode="json") for applied in quote.applied]


def quote_read(quote: rules.Quote, code: str | None, locale: str | None = None) -> dict[str, Any]:
    """The cart's quote, its promotions named in the caller's `locale`."""
    return {"discount_total": quote.discount, "free_shipping": quote.free_shipping, "code": code,
            "discounts": [discount_of(a, locale) for a in quote.applied],
            "code_problem": None if quote.code_problem is None else {
                "reason": quote.code_problem.problem.value, "message": quote.code_problem.message}}


class PromotionAdmin(UseCase[OrdersContext]):
    """Staff's promotions (merchandiser, admin write; support and finance read)."""

    def __init__(self, session: AsyncSession, context: OrdersContext) -> None:
        super().__init__(session, context)
        self.promotions = PromotionRepository(session)

    # An API key limited to some storefronts (`Principal.may_touch`) finds only their promotions,
    # and creates none on another (docs/security.md, "API keys").

    async def search(self, query: PromotionQuery, staff: Principal, *, limit: int,
                     offset: int) -> tuple[int, list[rules.PromotionTerms]]:
        return await self.promotions.search(storefront=query.storefront, active=query.active, code=query.code,
                                            limit=limit, offset=offset, storefronts=staff.storefronts)

    async def get(self, ref: str, staff: Principal) -> rules.PromotionTerms:
        promotion = await self.promotions.read(_promotion_id(ref))
        if promotion is None or not staff.may_touch(promotion.storefront):
            raise PromotionNotFound()
        return promotion

    async def create(self, data: PromotionCreate, staff: Principal, requested: Storefront) -> rules.PromotionTerms:
        """On `data.storefront`, else the request's storefront (`requested`)."""
        storefront = await self.context.storefronts.get(data.storefront) if data.storefront else requested
        if not staff.may_touch(storefront.slug):
            raise StorefrontNotFound()
        values = data.changes()
        values.pop("storefront", None)
        values.setdefault("value", data.value)
        values = _checked({"product_ids": [], "category_ids": [], "customer_groups": [], "is_active": True,
                           "combinable": False, "names": {}} | values)
        await self._check_groups(storefront.slug, values["customer_groups"])
        _check_names(storefront, values["names"])
        now = utcnow()
        promotion = Promotion(storefront=storefront.slug, uses=0, created_at=now, updated_at=now, **values)
        await self._check_code(promotion)
        self.session.add(promotion)
        await self._flush()
        await audit.record(self.session, staff, "promotion.create", "promotion", promotion.id,
                           after=_audited(promotion, values))
        created = terms_of(promotion)
        await outbox.add(self.session, changed(created))
        return created

    async def update(self, ref: str, data: PromotionWrite, staff: Principal, *,
                     if_match: str | None) -> rules.PromotionTerms:
        promotion = await self.promotions.lock(_promotion_id(ref))
        if promotion is None or not staff.may_touch(promotion.storefront):
            raise PromotionNotFound()
        current_terms = terms_of(promotion)
        check_version(data.expected_version or if_match, promotion_version(current_terms),
                      PromotionRead.model_validate(promotion_read(current_terms)).model_dump(mode="json"))
        changes = data.changes()
        current = {name: getattr(promotion, name) for name in (*_FIELDS, "code_key")}
        values = _checked(current | changes)
        # Only the codes it adds: one it names already may be of a group deleted since (it opens it to nobody).
        await self._check_groups(promotion.storefront, [code for code in values["customer_groups"]
                                                        if code not in current["customer_groups"]])
        if "names" in changes:
            _check_names(await self.context.storefronts.get(promotion.storefront), values["names"])
        if values["usage_limit"] is not None and values["usage_limit"] < promotion.uses:
            raise ValidationFailed(details={"fields": {"usage_limit": [
                f"it has been used {promotion.uses} times already"]}})
        before = {name: current[name] for name in values if current[name] != values[name]}
        for name in before:
            setattr(promotion, name, values[name])
        if not before:
            return current_terms
        promotion.updated_at = utcnow()
        await self._check_code(promotion)
        await self._flush()
        await audit.record(self.session, staff, "promotion.update", "promotion", promotion.id,
                           before=before, after={name: values[name] for name in before})
        updated = terms_of(promotion)
        await outbox.add(self.session, changed(updated))
        return updated

    async def deactivate(self, ref: str, staff: Principal, *, if_match: str | None) -> rules.PromotionTerms:
        return await self.update(ref, PromotionWrite(is_active=False), staff, if_match=if_match)

    async def _check_groups(self, storefront: str, codes: Sequence[str]) -> None:
        """400 VALIDATION_ERROR unless each of `codes` names a customer group of `storefront` (orders'
        copy of identity's, `promotions.groups`): a promotion for a group nobody can be in is a mistake."""
        groups = CustomerGroupCopies(self.session)
        if missing := await groups.missing(storefront, codes):
            known = await groups.codes(storefront)
            raise ValidationFailed(details={"fields": {"customer_groups": [
                f"storefront {storefront!r} has no customer group {', '.join(map(repr, missing))}"
                + (f" (it has {', '.join(known)})" if known else " (it has none)")]}})

    async def _check_code(self, promotion: Promotion) -> None:
        if promotion.code_key is not None and await self.promotions.code_taken(
                promotion.storefront, promotion.code_key, except_id=promotion.id):
            raise PromotionCodeTaken(details={"code": promotion.code})

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:  # two creates of one code at once: the unique constraint decides
            raise PromotionCodeTaken() from exc


# What staff may change: `PromotionWrite`'s fields.
_FIELDS = tuple(name for name in PromotionWrite.model_fields if name != "expected_version")


def _promotion_id(ref: str) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        raise PromotionNotFound() from None


def changed(promotion: rules.PromotionTerms) -> PromotionChanged:
    """`promotion.changed` of its read shape: what the cart keeps of when it runs, and webhooks."""
    return PromotionChanged(
        storefront=promotion.storefront, promotion_id=promotion.id, name=promotion.name, code=promotion.code,
        kind=promotion.kind.value, value=promotion.value, is_active=promotion.is_active,
        starts_at=promotion.starts_at, ends_at=promotion.ends_at, usage_limit=promotion.usage_limit,
        updated_at=promotion.updated_at)


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The promotion's fields once the rules across them hold (400 VALIDATION_ERROR otherwise)."""
    errors: dict[str, list[str]] = {name: ["may not be null"] for name in ("name", "kind", "is_active",
                                                                        "combinable") if values.get(name) is None}
    kind, value = values.get("kind"), Decimal(values.get("value") or 0)
    if kind == rules.PromotionKind.PERCENTAGE and not Decimal("0") < value <= Decimal("100"):
        errors["value"] = ["a percentage is more than 0 and at most 100"]
    elif kind == rules.PromotionKind.FIXED and value <= 0:
        errors["value"] = ["a fixed discount is more than 0"]
    elif kind == rules.PromotionKind.FREE_SHIPPING:
        value = Decimal("0")
    products = list(dict.fromkeys(str(t) for t in values.get("product_ids") or []))
    categories = list(dict.fromkeys(str(t) for t in values.get("category_ids") or []))
    groups = list(dict.fromkeys(values.get("customer_groups") or []))
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        errors["ends_at"] = ["must be after starts_at"]
    if errors:
        raise ValidationFailed(details={"fields": errors})
    code = values.get("code") or None
    return {**values, "value": quantize(value), "product_ids": products, "category_ids": categories,
            "customer_groups": groups, "code": code, "code_key": rules.code_key(code),
            "names": dict(values.get("names") or {})}


def _check_names(storefront: Storefront, names: dict[str, str]) -> None:
    """422 `LOCALE_NOT_OFFERED` unless each name is in a language the storefront shows besides its
    default (its `name` is the default's)."""
    others = set(storefront.languages) - {storefront.default_locale}
    if unknown := sorted(set(names) - others):
        raise LocaleNotOffered(details={"locales": sorted(others), "fields": {"names": [
            f"{', '.join(unknown)}: not a language storefront {storefront.slug!r} shows besides its default"]}})


def _audited(promotion: Promotion, values: dict[str, Any]) -> dict[str, Any]:
    return {"storefront": promotion.storefront, **{k: v for k, v in values.items() if k != "code_key"}}
