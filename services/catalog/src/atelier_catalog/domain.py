"""Pure catalog rules, no I/O: kinds and their attributes, slugs, ordering, stock, the category tree."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Protocol

from atelier_catalog.errors import InvalidAttributes, InvalidOrdering

# The kinds are part of catalog's contract; catalog's modules name them through domain.
from atelier_common.contracts.catalog import DIGITAL_KINDS as DIGITAL_KINDS
from atelier_common.contracts.catalog import ProductKind as ProductKind
from atelier_common.contracts.catalog import TaxClass as TaxClass
from atelier_common.contracts.identity import Storefront

# Keys of GET /pricing, in the order clients show them.
PRICING_GROUPS: dict[ProductKind, str] = {
    ProductKind.CREDIT_PACK: "credit_packs",
    ProductKind.SUBSCRIPTION_PLAN: "subscription_plans",
    ProductKind.PRINT_TIER: "print_tiers",
    ProductKind.RETRY_PACK: "retry_packs",
}
SUBSCRIPTION_INTERVALS = ("month", "year")


def default_track_inventory(kind: ProductKind) -> bool:
    """Digital offers never run out; only physical goods count stock unless told otherwise."""
    return kind is ProductKind.PHYSICAL


def is_in_stock(track_inventory: bool, stock_quantity: int) -> bool:
    return not track_inventory or stock_quantity > 0


def crossed_low_stock(before: int, after: int, threshold: int) -> bool:
    """Whether a stock change took a count from above `threshold` to at or below it: once per
    crossing (a further sale below it crosses nothing; a restock above it arms it again)."""
    return before > threshold >= after


def stock_item_name(name: str, variant_name: str | None) -> str:
    """What a stock alert or list calls a product or variant: a variant after its product, "Slab (2 cm)"."""
    return f"{name} ({variant_name})" if variant_name else name


def effective_price(variant_price: Decimal | None, product_price: Decimal) -> Decimal:
    """A variant without a price of its own sells at the product's price (S3)."""
    return product_price if variant_price is None else variant_price


def discount_percentage(price: Decimal, compare_price: Decimal | None) -> int:
    """Whole percent off the compare-at price, half-up (2499.99 vs 2999.99 → 17); 0 when none."""
    if compare_price is None or compare_price <= 0 or compare_price <= price:
        return 0
    return int(((compare_price - price) * 100 / compare_price).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- kind-specific attributes -------------------------------------------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> str | None:
    return None if _is_int(value) and value > 0 else "must be an integer greater than 0"


def _non_negative_int(value: Any) -> str | None:
    return None if _is_int(value) and value >= 0 else "must be an integer of at least 0"


def _non_empty_str(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _interval(value: Any) -> str | None:
    return None if value in SUBSCRIPTION_INTERVALS else f"must be one of {', '.join(SUBSCRIPTION_INTERVALS)}"


def _optional_str(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string or null"


# What one unit of a shipped product weighs, in grams: orders' by-weight shipping methods add it up
# (a variant's own `weight_grams` attribute wins). Optional: a product without one weighs nothing.
_WEIGHT = {"weight_grams": (False, _non_negative_int)}

# kind → {attribute: (required, check)}. Other keys are kept as they are (features, …).
_ATTRIBUTE_RULES: dict[ProductKind, dict[str, tuple[bool, Any]]] = {
    ProductKind.PHYSICAL: {**_WEIGHT},
    ProductKind.CREDIT_PACK: {"credits": (True, _positive_int)},
    ProductKind.RETRY_PACK: {"retries": (True, _positive_int)},
    ProductKind.SUBSCRIPTION_PLAN: {
        "interval": (True, _interval),
        "tier": (True, _non_empty_str),
        "monthly_quota": (True, _non_negative_int),
        "provider_price_id": (False, _optional_str),
    },
    ProductKind.PRINT_TIER: {"max_retries_per_unit": (True, _non_negative_int), **_WEIGHT},
    # Its amounts are its variants' prices (25, 50, 100): no attribute of its own.
    ProductKind.GIFT_CARD: {},
}


def kind_tax_class(kind: ProductKind, tax_class: TaxClass, *, explicit: bool) -> TaxClass:
    """The tax class a product of `kind` is saved with. A gift card is a multi-purpose voucher:
    tax is due when it is redeemed, never when it is sold, so it is `zero` (chosen for it when not
    given); any other class is refused rather than taxing the sale twice."""
    if kind is not ProductKind.GIFT_CARD:
        return tax_class
    if explicit and tax_class is not TaxClass.ZERO:
        raise InvalidAttributes("A gift card is taxed when redeemed, not sold: its tax class is zero",
                                details={"fields": {"tax_class": ["must be zero for gift_card products"]}})
    return TaxClass.ZERO


def kind_tracks_inventory(kind: ProductKind, track_inventory: bool | None) -> bool:
    """Whether a product of `kind` counts stock: `track_inventory` when given, else the kind's
    default. A gift card never runs out, so asking it to count stock is refused."""
    if kind is ProductKind.GIFT_CARD and track_inventory:
        raise InvalidAttributes("A gift card is never out of stock",
                                details={"fields": {"track_inventory": ["must be false for gift_card products"]}})
    return default_track_inventory(kind) if track_inventory is None else track_inventory


def validate_attributes(kind: ProductKind, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes a product of `kind` needs (generation grants credits from them, orders
    read retry limits): raise `InvalidAttributes` with one message per bad field."""
    problems: dict[str, list[str]] = {}
    for name, (required, check) in _ATTRIBUTE_RULES[kind].items():
        if name not in attributes:
            if required:
                problems[f"attributes.{name}"] = [f"is required for {kind.value} products"]
            continue
        if (message := check(attributes[name])) is not None:
            problems[f"attributes.{name}"] = [message]
    if problems:
        raise InvalidAttributes(details={"fields": problems})
    return dict(attributes)


# -- slugs and references -----------------------------------------------------------------------

SLUG_MAX_LENGTH = 200
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def slugify(text: str) -> str:
    """`"Crème Travertine — 60×60"` → `"creme-travertine-60-60"`; never empty, never an id."""
    without_accents = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    slug = re.sub(r"[^a-z0-9]+", "-", without_accents.lower()).strip("-")[:SLUG_MAX_LENGTH].rstrip("-")
    if not slug or is_id_shaped(slug):
        # Routes read an id-shaped reference as an id, so such a slug could never be looked up.
        slug = f"item-{slug}".rstrip("-")
    return slug


def is_id_shaped(slug: str) -> bool:
    return parse_uuid(slug) is not None or parse_number(slug) is not None


def unique_slug(base: str, taken: Collection[str]) -> str:
    """`base`, or `base-2`, `base-3`… whichever is free (only for slugs we generate)."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[:SLUG_MAX_LENGTH - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def parse_uuid(ref: str) -> uuid.UUID | None:
    """Routes take "id or slug": a ref that parses as a UUID is an id, anything else a slug."""
    try:
        return uuid.UUID(ref)
    except (ValueError, AttributeError, TypeError):
        return None


# A product's `number` fits a signed 64-bit column; longer digit strings are no number.
NUMBER_MAX_DIGITS = 18


def parse_number(ref: str) -> int | None:
    """A product's integer alias (`number`, for clients that need integer ids): ASCII digits only."""
    if isinstance(ref, str) and 0 < len(ref) <= NUMBER_MAX_DIGITS and ref.isascii() and ref.isdigit():
        return int(ref)
    return None


# -- listing: ordering, search, visibility ------------------------------------------------------

ORDERING_FIELDS = ("name", "price", "created_at", "stock_quantity", "rating")
MAX_SEARCH_TERMS = 8


@dataclass(frozen=True)
class OrderKey:
    field: str
    descending: bool = False


DEFAULT_ORDERING = (OrderKey("created_at", descending=True),)


def parse_ordering(raw: str | None) -> tuple[OrderKey, ...]:
    """`"-price,name"` → (price desc, name asc). Unknown fields are a validation error, not ignored,
    so a typo does not silently return an unordered page."""
    if raw is None:
        return ()
    keys: list[OrderKey] = []
    seen: set[str] = set()
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        descending = part.startswith("-")
        name = part[1:] if descending else part
        if name not in ORDERING_FIELDS:
            raise InvalidOrdering(details={"fields": {"ordering": [
                f"unknown field {name!r}; use {', '.join(ORDERING_FIELDS)} with an optional '-' prefix"]}})
        if name not in seen:
            seen.add(name)
            keys.append(OrderKey(name, descending))
    return tuple(keys)


def search_terms(raw: str | None) -> tuple[str, ...]:
    """The words of a search box entry, lower-cased, de-duplicated, at most MAX_SEARCH_TERMS.
    Only word characters survive, so they are safe to build a tsquery from."""
    if not raw:
        return ()
    return tuple(dict.fromkeys(re.findall(r"\w+", raw.lower())))[:MAX_SEARCH_TERMS]


@dataclass(frozen=True)
class Visibility:
    """What a reader sees: inactive rows or not, and through which storefront (`Storefront.offers`:
    a product of a kind the storefront sells, scoped to it or to every storefront). Hashable: the
    product statements are built once per visibility."""

    include_inactive: bool = False
    # The storefront whose scope applies; None: every product and category (staff, /internal).
    storefront: str | None = None
    # The kinds that storefront sells; None: every kind (no condition on the kind at all).
    kinds: tuple[str, ...] | None = None


PUBLIC = Visibility()
EVERYTHING = Visibility(include_inactive=True)


class StorefrontLike(Protocol):
    @property
    def slug(self) -> str: ...
    @property
    def sells(self) -> list[str]: ...
    @property
    def sells_everything(self) -> bool: ...


def storefront_visibility(storefront: StorefrontLike, *, include_inactive: bool = False) -> Visibility:
    """What `storefront` offers: its scope, and its kinds unless it sells every kind."""
    kinds = None if storefront.sells_everything else tuple(sorted(set(storefront.sells)))
    return Visibility(include_inactive=include_inactive, storefront=storefront.slug, kinds=kinds)


def visibility_for(*, is_staff: bool, include_inactive: bool, storefront: StorefrontLike | None = None,
                   staff_storefront: StorefrontLike | None = None) -> Visibility:
    """Inactive products and categories exist only for staff who ask for them. Customers see what
    the request's `storefront` offers; staff see every storefront's, or `staff_storefront`'s
    (`?storefront=`) when they name one."""
    inactive = is_staff and include_inactive
    scope = staff_storefront if is_staff else storefront
    if scope is None:
        return EVERYTHING if inactive else PUBLIC
    return storefront_visibility(scope, include_inactive=inactive)


# -- storefront scope ---------------------------------------------------------------------------
# A product's or category's storefronts are stored as one text key, ",a,b," (empty: every
# storefront), so "offered by `slug`" is `key = '' OR key LIKE '%,slug,%'` on either database.

def storefronts_key(slugs: Iterable[str]) -> str:
    """`["a", "b"]` → `",a,b,"` (duplicates dropped, order kept); `[]` → `""` (every storefront)."""
    unique = list(dict.fromkeys(slugs))
    return f",{','.join(unique)}," if unique else ""


def storefronts_of(key: str | None) -> list[str]:
    """The slugs of a `storefronts_key`."""
    return [slug for slug in (key or "").split(",") if slug]


class ScopedCaller(Protocol):
    @property
    def storefronts(self) -> frozenset[str] | None: ...

    def may_touch(self, storefront: str | None) -> bool: ...


def product_in_scope(caller: ScopedCaller, key: str | None) -> bool:
    """Whether an API key limited to some storefronts may act on a product of `storefronts_key`
    `key` (docs/security.md, "API keys"): only when every storefront the product is sold on is one
    of its own. A product of every storefront (`""`) is every storefront's: only a key made for
    `*` (or a person) touches it, since its stock and prices are every storefront's too."""
    if caller.storefronts is None:
        return True
    slugs = storefronts_of(key)
    return bool(slugs) and all(caller.may_touch(slug) for slug in slugs)


class CatalogReader(ScopedCaller, Protocol):
    @property
    def is_staff(self) -> bool: ...


def reads_as_staff(viewer: CatalogReader) -> bool:
    """Whether a catalog read shows staff everything (inactive rows, any storefront's offer): not
    for an API key limited to some storefronts, which reads as the request's storefront's shoppers
    do, so it learns nothing of another storefront's products through the public routes."""
    return viewer.is_staff and viewer.storefronts is None


def not_selling(currency: str, storefronts: Iterable[Storefront]) -> list[Storefront]:
    """The storefronts of `storefronts` that do not sell in `currency` (`Storefront.sells_currency`):
    a product priced in it and limited to one of them would be shown there, and could never be
    carted or ordered there."""
    return [storefront for storefront in storefronts if not storefront.sells_currency(currency)]


@dataclass(frozen=True)
class ProductFilter:
    search: str | None = None
    terms: tuple[str, ...] = ()
    category: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    featured: bool | None = None
    kind: ProductKind | None = None
    ordering: tuple[OrderKey, ...] = ()
    # Staff filters of the console: active or inactive only; stock `low` (tracked, 1 to
    # LOW_STOCK units) or `out` (tracked, none left).
    active: bool | None = None
    stock: str | None = None
    # A search in a language other than the storefront's default (`Language.translated`): its
    # translations match too, read with that language's text search configuration.
    locale: str | None = None


# What the console's "low stock" filter means: tracked and at most this many units left.
LOW_STOCK = 5


# -- languages ---------------------------------------------------------------------------------

# What has texts per locale (`models.Translation.subject`).
TRANSLATED = ("product", "variant", "category")

# PostgreSQL's text search configurations, by language; any other (Georgian, say) is read with
# `simple`: words lower-cased, no stemming, no stop words.
SEARCH_CONFIGS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "nb": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}


def search_config(locale: str) -> str:
    """The text search configuration of `locale`'s language (`simple` where PostgreSQL has none)."""
    return SEARCH_CONFIGS.get(locale.split("-")[0].lower(), "simple")


@dataclass(frozen=True)
class Language:
    """The language a read answers in: the caller's negotiated `locale` on a storefront whose own
    texts are in `default`."""

    locale: str
    default: str

    @property
    def translated(self) -> bool:
        """Whether translations are read at all (in the default language the record's own texts are)."""
        return self.locale != self.default


def translatable_locales(storefronts: Iterable[Storefront]) -> set[str]:
    """The locales a record shown on `storefronts` may be translated into: each one's languages
    other than its default (its own texts are in that one)."""
    return {tag for storefront in storefronts for tag in storefront.languages if tag != storefront.default_locale}


def translated_text(own: str, translation: str | None) -> str:
    """Per field: the translation where it has one, else the record's own text."""
    return translation if translation else own


# -- the category tree --------------------------------------------------------------------------

class CategoryLike(Protocol):
    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    slug: str
    description: str
    is_active: bool
    created_at: datetime
    storefronts_key: str


@dataclass
class CategoryNode:
    id: uuid.UUID
    parent_id: uuid.UUID | None
    name: str
    slug: str
    description: str
    is_active: bool
    created_at: datetime
    storefronts_key: str = ""
    children: list[CategoryNode] = field(default_factory=list)
    product_count: int = 0


@dataclass
class CategoryForest:
    roots: list[CategoryNode]
    by_id: dict[uuid.UUID, CategoryNode]

    def find(self, ref: str) -> CategoryNode | None:
        if (category_id := parse_uuid(ref)) is not None:
            return self.by_id.get(category_id)
        return next((node for node in self.by_id.values() if node.slug == ref), None)


def build_category_forest(categories: Iterable[CategoryLike], direct_counts: Mapping[uuid.UUID, int]) -> CategoryForest:
    """Link the visible categories into trees; each `product_count` includes all descendants.

    A category whose parent is not among `categories` (hidden) is left out of `roots`, so a
    deactivated category hides its whole subtree from the tree; it can still be found by id.
    """
    by_id = {c.id: CategoryNode(id=c.id, parent_id=c.parent_id, name=c.name, slug=c.slug,
                                description=c.description, is_active=c.is_active, created_at=c.created_at,
                                storefronts_key=c.storefronts_key)
             for c in categories}
    roots: list[CategoryNode] = []
    for node in by_id.values():
        if node.parent_id is None:
            roots.append(node)
        elif (parent := by_id.get(node.parent_id)) is not None:
            parent.children.append(node)

    totals: dict[uuid.UUID, int] = {}

    def total(node: CategoryNode, path: frozenset[uuid.UUID]) -> int:
        if node.id not in totals:
            # `path` guards against a cycle in bad data; the service never lets one be written.
            totals[node.id] = direct_counts.get(node.id, 0) + sum(
                total(child, path | {node.id}) for child in node.children if child.id not in path)
        return totals[node.id]

    for node in by_id.values():
        node.product_count = total(node, frozenset())
    return CategoryForest(roots=roots, by_id=by_id)


def would_create_cycle(category_id: uuid.UUID, new_parent_id: uuid.UUID,
                       ancestors_of_parent: Sequence[uuid.UUID]) -> bool:
    """Moving a category under itself or under one of its own descendants would loop the tree."""
    return new_parent_id == category_id or category_id in ancestors_of_parent


def primary_image_url(images: Sequence[Any]) -> str | None:
    """The image carts and lists show: the primary one, else the first in display order."""
    for image in images:
        if image.is_primary:
            return image.url
    return images[0].url if images else None


# -- stock reservations -------------------------------------------------------------------------

class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True)
class StockNeed:
    """What one order asks of one product or variant (its lines for it summed)."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int


class OrderLineLike(Protocol):
    @property
    def product_id(self) -> uuid.UUID: ...
    @property
    def variant_id(self) -> uuid.UUID | None: ...
    @property
    def quantity(self) -> int: ...


def needs_stock(kind: str, track_inventory: bool) -> bool:
    """Only physical goods that count stock are reserved; digital offers never run out."""
    return kind == ProductKind.PHYSICAL.value and track_inventory


def stock_needs(lines: Iterable[OrderLineLike]) -> list[StockNeed]:
    """Sum the lines per product and variant, in one fixed order: every order then takes its row
    locks in the same sequence, so two orders for the same products cannot deadlock."""
    totals: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    for line in lines:
        key = (line.product_id, line.variant_id)
        totals[key] = totals.get(key, 0) + line.quantity
    ordered = sorted(totals.items(), key=lambda item: (str(item[0][0]), str(item[0][1] or "")))
    return [StockNeed(product_id, variant_id, quantity) for (product_id, variant_id), quantity in ordered]


@dataclass(frozen=True)
class Shelf:
    """One location's units of one product or variant, with what decides whether it serves an order."""

    location_id: uuid.UUID
    name: str
    storefront: str
    ships_to: tuple[str, ...]
    priority: int
    is_default: bool
    quantity: int


@dataclass(frozen=True)
class LocationMove:
    """A location's units of one product or variant before and after a change (low-stock alerts)."""

    location_id: uuid.UUID
    name: str
    storefront: str
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    before: int
    after: int


def serves(storefront_of_location: str, ships_to: Iterable[str], *, storefront: str | None,
           country: str | None) -> bool:
    """A location serves an order of `storefront` to `country` when it is every storefront's (empty)
    or that one's, and ships there (`ships_to` empty: everywhere). An unknown destination or
    storefront is reached by every location (the total)."""
    countries = {c.upper() for c in ships_to}
    return ((storefront is None or storefront_of_location in ("", storefront))
            and (country is None or not countries or country.upper() in countries))


def serving_order(shelves: Iterable[Shelf], *, storefront: str | None, country: str | None) -> list[Shelf]:
    """The shelves an order takes from, in the order it takes: lowest priority first, the default
    location last among equals (a storefront's own stock goes first), then by name."""
    return sorted((s for s in shelves if serves(s.storefront, s.ships_to, storefront=storefront, country=country)),
                  key=lambda s: (s.priority, s.is_default, s.name, str(s.location_id)))


def split_need(quantity: int, shelves: Sequence[Shelf]) -> list[tuple[Shelf, int]] | None:
    """Take `quantity` from `shelves` in their order, splitting a line across locations when the
    first cannot fill it: [(shelf, units)], or None when together they hold too few."""
    taken: list[tuple[Shelf, int]] = []
    left = quantity
    for shelf in shelves:
        if left <= 0:
            break
        units = min(left, shelf.quantity)
        if units > 0:
            taken.append((shelf, units))
            left -= units
    return taken if left <= 0 else None


# -- reviews ------------------------------------------------------------------------------------

def average_rating(rating_sum: int, count: int) -> Decimal:
    """The mean of the ratings to two places, half-up; 0 without reviews."""
    if count <= 0:
        return Decimal("0.00")
    return (Decimal(rating_sum) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def reviewer_name(email: str | None) -> str:
    """What a review shows of its author: the part of the email before the @, never the address."""
    return email.split("@", 1)[0][:200] if email else ""


# -- price lists ---------------------------------------------------------------------------
# A customer group (identity's `grp` claim: `business`) may have price lists on a storefront, each
# in one currency. What a caller of the group pays is decided here, once, for every reader: the
# product pages and searches, the cart's frozen price and the order's (catalog's internal lookup).


@dataclass(frozen=True)
class PriceGroup:
    """Whose list prices a read shows: a customer group on a storefront (None: nobody's, the
    products' own prices: anonymous visitors, customers of no group, staff)."""

    storefront: str
    customer_group: str


@dataclass(frozen=True)
class ListPrice:
    """One price of an active list, as the readers use it."""

    price_list_id: uuid.UUID
    price_list_name: str
    currency: str
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    price: Decimal


ListPrices = Mapping[tuple[uuid.UUID, uuid.UUID | None], ListPrice]


def may_have_list_price(kind: str | None) -> bool:
    """Only goods have list prices: digital offers are also sold outside the cart and the order
    (`/pricing`, a credit purchase, a plan's checkout), which show and charge the catalog's price."""
    return kind == ProductKind.PHYSICAL


def price_group(storefront: str | None, customer_group: str | None, *, is_staff: bool) -> PriceGroup | None:
    """The group whose list prices a caller is shown: none for staff (they manage the catalog at its
    own prices) and for a caller with no group or no storefront."""
    if is_staff or not customer_group or not storefront:
        return None
    return PriceGroup(storefront=storefront, customer_group=customer_group)


def best_list_prices(entries: Iterable[ListPrice], currency_of: Mapping[uuid.UUID, str]) -> dict[
        tuple[uuid.UUID, uuid.UUID | None], ListPrice]:
    """The price that applies per (product, variant) among the entries of a group's active lists: only
    a list in the product's own currency applies, and where two lists price the same thing the
    lowest price wins (Medusa's rule; ties go to the list created first, as given)."""
    best: dict[tuple[uuid.UUID, uuid.UUID | None], ListPrice] = {}
    for entry in entries:
        if currency_of.get(entry.product_id) != entry.currency:
            continue
        key = (entry.product_id, entry.variant_id)
        if key not in best or entry.price < best[key].price:
            best[key] = entry
    return best


def list_price(prices: ListPrices, product_id: uuid.UUID, product_price: Decimal,
               variant_id: uuid.UUID | None = None, variant_price: Decimal | None = None,
               ) -> tuple[Decimal, ListPrice | None]:
    """What a group caller pays for the product (`variant_id` None) or one of its variants, and the
    list price it comes from (None: the catalog's own price). A variant's own list price first; a
    variant with a price of its own keeps it otherwise; one selling at the product's price follows
    the product's list price."""
    if variant_id is not None:
        if (own := prices.get((product_id, variant_id))) is not None:
            return own.price, own
        if variant_price is not None:
            return variant_price, None
    if (listed := prices.get((product_id, None))) is not None:
        return listed.price, listed
    return product_price, None
