"""Events produced by identity."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote
from uuid import UUID, uuid5

from pydantic import model_validator

from atelier_common import locales
from atelier_common.contracts.catalog import ProductKind
from atelier_common.contracts.examples import CUSTOMER_ID, EMAIL, webhook_example
from atelier_common.events.envelope import ContractModel, IntegrationEvent


class AnonymousClaimed(IntegrationEvent):
    """An anonymous customer became (or logged in as) a user: move what the anon id owns."""

    type = "identity.anonymous_claimed"
    anon_id: uuid.UUID
    user_id: uuid.UUID


class UserRegistered(IntegrationEvent):
    """An account was created (registration, magic link, OAuth, passkey, an order's buyer, the CLI)."""

    model_config = webhook_example({"user_id": CUSTOMER_ID, "email": EMAIL, "storefront": "default", "via": "password"})

    type = "identity.user_registered"
    user_id: uuid.UUID
    # None: an account registered by username alone (`Storefront.email_optional`).
    email: str | None
    # The storefront it signed up on (`Storefront`); the CLI's accounts: the default.
    storefront: str = "default"
    # How: "password", "magic_link", "oauth", "passkey", "order", "cli".
    via: str


class UserDeleted(IntegrationEvent):
    type = "identity.user_deleted"
    user_id: uuid.UUID


class TokenRevoked(IntegrationEvent):
    """An access token must be refused until it expires (logout, password change, deletion)."""

    type = "identity.token_revoked"
    user_id: uuid.UUID
    jti: str | None = None
    expires_at: datetime
    # When set, every access token of the user issued before this instant is refused...
    all_before: datetime | None = None
    # ...but those of this session (their `sid`: the refresh token family they came from): a
    # password change ends the caller's other sessions and keeps its own. None: all of them end.
    keep_session: uuid.UUID | None = None


class KeyRetired(IntegrationEvent):
    """A signing key was retired (`atelier keys retire`; early with `--force`, a leaked key): every
    token it signed is refused from now on, by every process, even one it verified before."""

    type = "identity.key_retired"
    kid: str


# -- Customer groups (docs/api.md#customer-groups): staff keep each storefront's groups and their
# members in identity, which signs the caller's group on the token's storefront into the access
# token (`grp`, with `grp_sf`); catalog keeps price lists for them and learns which groups exist
# from the events below (a price list never names a group nobody can be in).

# The group the migration and the demo put business customers in (they paid its prices before groups were data).
GROUP_BUSINESS = "business"
# A group's code: what price lists name and the token carries; lower case, fixed at creation.
CUSTOMER_GROUP_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class CustomerGroupChanged(IntegrationEvent):
    """A storefront's customer group was created or renamed: the whole record. `revision` grows
    with each change, so a copy applies the events in any order."""

    type = "customer_group.changed"
    storefront: str
    code: str
    name: str
    revision: int


class CustomerGroupDeleted(IntegrationEvent):
    """The group is gone, with its memberships; price lists naming it price nobody."""

    type = "customer_group.deleted"
    storefront: str
    code: str
    revision: int


class CustomerGroupMembersChanged(IntegrationEvent):
    """Customers joined or left a storefront's group (staff, one by one or in bulk). Their prices
    change with their next access token: identity refuses the ones signed before (`TokenRevoked`)."""

    type = "customer_group.members_changed"
    storefront: str
    code: str
    added: list[uuid.UUID] = []
    removed: list[uuid.UUID] = []


# -- Storefronts (identity owns them; `atelier_common.storefronts` keeps every process's copy) -------

STOREFRONT_HEADER = "x-atelier-storefront"
DEFAULT_STOREFRONT = "default"


class StorefrontEvent(IntegrationEvent):
    """An event of something that happened on one storefront (`Storefront`): consumers, reports
    and outbound webhooks keep each storefront's own. Events written before storefronts existed
    carry none, and were the default storefront's."""

    storefront: str = DEFAULT_STOREFRONT


# The link paths of an install that had one product (identity's pages before storefronts existed).
DEFAULT_LINK_PATHS: dict[str, str] = {
    "verify_email": "/verify-email?token={token}",
    "reset_password": "/reset-password?token={token}",
    "magic_link": "/magic-link?token={token}&email={email}",
    "email_change": "/confirm-email-change?token={token}",
    "order": "/orders/{order_id}",
    "set_password": "/set-password?token={token}",
    # A draft order staff sent: the page starts the checkout with the link's token (docs/back-office.md).
    "pay_order": "/pay?order_id={order_id}&token={token}",
    # What an edit of a paid order leaves due: the page starts the edit's checkout with the link's token.
    "pay_edit": "/pay?order_id={order_id}&edit_id={edit_id}&token={token}",
}
# The placeholders a link path may hold; each value is URL-encoded when it is put in.
LINK_PLACEHOLDERS = ("token", "code", "email", "order_id", "edit_id")
ALL_KINDS: tuple[str, ...] = tuple(kind.value for kind in ProductKind)


class StorefrontTax(ContractModel):
    rate: Decimal = Decimal("0")
    # True: every price already includes tax (nothing is added). False: tax is added on the
    # lines of the tax-exclusive kinds (`contracts.catalog.TAX_INCLUSIVE_KINDS` stay inclusive).
    inclusive: bool = False
    # What one shipped order costs to ship; None: the orders service's own `shipping_cost`.
    shipping_rate: Decimal | None = None
    # Whether that charge is taxed with the goods (a storefront without zones; a zone says its own).
    shipping_taxed: bool = False
    # The rate of each tax class that has its own (`contracts.catalog.TaxClass`, {"reduced":
    # 0.055}); a class without one: `rate` (`zero`: 0), see `contracts.catalog.class_rate`.
    tax_rates: dict[str, Decimal] = {}


# -- Shipping zones: where a storefront ships, how, at what price, and the tax there -----------

# A zone's `countries` entry that covers every country ("rest of the world"): the least specific match.
EVERY_COUNTRY = "*"


def region_code(country: str | None, region: str | None) -> str | None:
    """An address's region as ISO 3166-2 (`US-CA`): `region` upper-cased, prefixed with the country
    when it is only the subdivision (`CA` in `US`). None without a region."""
    region = (region or "").strip().upper()
    if not region:
        return None
    country = (country or "").strip().upper()
    return region if "-" in region or not country else f"{country}-{region}"


def with_shipping_ids(zone: Any) -> Any:
    """`zone` (a dict) with its missing `id`s, and its methods', derived from their codes."""
    if not isinstance(zone, dict):
        return zone
    zone = dict(zone)
    if not zone.get("id") and isinstance(zone.get("code"), str):
        zone["id"] = uuid5(SHIPPING_NAMESPACE, zone["code"])
    if zone.get("id") and isinstance(zone.get("methods"), list):
        zone_id = UUID(str(zone["id"]))
        zone["methods"] = [
            {**method, "id": uuid5(zone_id, method["code"])}
            if isinstance(method, dict) and not method.get("id") and isinstance(method.get("code"), str) else method
            for method in zone["methods"]]
    return zone


# The namespace of the ids derived from shipping codes (`with_shipping_ids`).
SHIPPING_NAMESPACE = UUID("6f0d3c1e-56a1-4b7e-9c2d-5e1f0a8b3c56")


class ShippingTier(ContractModel):
    """From `min` up (grams for a by-weight method, an amount for a by-subtotal one) shipping costs
    `amount`, until the next tier's `min`. The first tier starts at 0, so every order is priced."""

    min: Decimal
    amount: Decimal


class ShippingMethod(ContractModel):
    """One way a zone's orders are shipped. `kind`: "flat" (`amount`), "weight" (the tier of the
    shipped lines' total weight) or "subtotal" (the tier of the shipped lines' subtotal). With
    `free_over`, a shipped subtotal at or above it ships free."""

    id: UUID
    code: str
    name: str
    kind: Literal["flat", "weight", "subtotal"] = "flat"
    amount: Decimal = Decimal("0")
    tiers: list[ShippingTier] = []
    free_over: Decimal | None = None
    # Its name in the storefront's other languages (locale → name); a language without one: `name`.
    names: dict[str, str] = {}

    def name_in(self, locale: str | None) -> str:
        """The name a customer reading in `locale` is shown (and an order placed in it keeps)."""
        return self.names.get(locale, self.name) if locale else self.name

    @model_validator(mode="before")
    @classmethod
    def _stable_id(cls, values: Any) -> Any:
        """A method built alone without an `id` gets one from its code (in a zone: `with_shipping_ids`)."""
        if isinstance(values, dict) and not values.get("id") and isinstance(values.get("code"), str):
            return {**values, "id": uuid5(SHIPPING_NAMESPACE, values["code"])}
        return values

    def cost(self, *, subtotal: Decimal, weight_grams: int) -> Decimal:
        """What shipping costs by this method, for shipped lines worth `subtotal` weighing `weight_grams`."""
        if self.free_over is not None and subtotal >= self.free_over:
            return Decimal("0.00")
        if self.kind == "flat":
            return self.amount
        measure = Decimal(weight_grams) if self.kind == "weight" else subtotal
        reached = [tier for tier in self.tiers if tier.min <= measure]
        return max(reached, key=lambda tier: tier.min).amount if reached else Decimal("0.00")


class ShippingZone(ContractModel):
    """Where a storefront ships: `countries` (ISO 3166-1 alpha-2, or "*" for every other country)
    and `regions` (ISO 3166-2, `US-CA`); the most specific zone of an address wins (its region, then
    its country, then "*"). `tax_rate` replaces the storefront's rate for addresses there; `methods`
    are offered in order, the first is the default."""

    id: UUID
    code: str
    name: str
    countries: list[str] = []
    regions: list[str] = []
    tax_rate: Decimal | None = None
    # Overrides the storefront's `tax.inclusive` for addresses in the zone; None: the storefront's.
    tax_inclusive: bool | None = None
    # Whether shipping there is taxed with the goods; None: it is when the zone taxes goods (a rate
    # above 0), as EU VAT does.
    shipping_taxed: bool | None = None
    # The rates of its tax classes (as `StorefrontTax.tax_rates`); None: the storefront's, unless
    # the zone taxes nothing (`tax_rate` 0, an export zone), where no class is taxed either.
    tax_rates: dict[str, Decimal] | None = None
    methods: list[ShippingMethod] = []

    @model_validator(mode="before")
    @classmethod
    def _stable_ids(cls, values: Any) -> Any:
        """A zone or method sent without an `id` gets one derived from its code (uuid5), so the
        same document always has the same ids (demo data, the storefront PATCH)."""
        return with_shipping_ids(values)

    def specificity(self, country: str | None, region: str | None) -> int:
        """How closely the zone covers an address: 3 its region, 2 its country, 1 "*", 0 not at all."""
        country = (country or "").strip().upper()
        if region is not None and region in self.regions:
            return 3
        if country and country in self.countries:
            return 2
        return 1 if EVERY_COUNTRY in self.countries else 0

    def method(self, code: str) -> ShippingMethod | None:
        return next((method for method in self.methods if method.code == code), None)

    def method_by_id(self, method_id: UUID | str) -> ShippingMethod | None:
        return next((method for method in self.methods if str(method.id) == str(method_id)), None)


class StorefrontPasskey(ContractModel):
    rp_id: str
    origins: list[str] = []


class StorefrontPolicies(ContractModel):
    """The rules a brand's product had, as data (docs/storefronts.md#policies). None: the install's
    own setting applies (named beside each field); each service reads the field it enforces from
    its copy of the storefront."""

    # identity `access_token_ttl_minutes`: how long a signed-in customer's access token lasts.
    access_token_minutes: int | None = None
    # identity: "length" (the install's minimum length only) or "strict" (also refuses common,
    # all-numeric and e-mail-like passwords, as Django's validators did for S3).
    password_policy: Literal["length", "strict"] | None = None
    # cart `domain.MAX_LINE_QUANTITY`: the most of one product a cart line holds; 0: no cap but stock.
    cart_line_limit: int | None = None
    # identity sign-in throttle: how long an account stays locked after too many failed passwords.
    signin_lockout_minutes: int | None = None
    # identity: accounts one client address may register per hour here.
    registrations_per_hour_per_ip: int | None = None
    # gateway: requests a minute per anonymous caller and per signed-in customer on this storefront,
    # under the install's own per-address and per-user ceilings (docs/limits.md).
    anonymous_requests_per_minute: int | None = None
    customer_requests_per_minute: int | None = None
    # identity: True lets an account made by passkey sign-up sign in before its e-mail is confirmed.
    passkey_signup_signs_in: bool | None = None
    # catalog: at or below this many in stock a product is "low" (`product.low_stock`, a mail to
    # `alert_emails`); None: no low-stock alerts.
    low_stock_threshold: int | None = None
    alert_emails: list[str] = []
    # orders: True refuses a move to `shipped` without a tracking number (S3 ships with one).
    tracking_number_required: bool | None = None
    # orders: True lets customers lower quantities or remove lines of their own orders before they
    # are processing (docs/back-office.md#order-edits); None or False: only staff edit orders.
    customer_order_edits: bool | None = None


# -- The seller's legal details (docs/storefronts.md#legal-details): what an invoice prints ------------

# A tax or VAT number as a business writes it (the seller's in `StorefrontLegal`, a buyer's on an
# order): letters, digits, spaces, dashes and dots, starting with a letter or a digit.
TAX_NUMBER_MAX_LENGTH = 40
TAX_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 .\-]*$"


class StorefrontLegal(ContractModel):
    """The legal entity that sells on a storefront, as its invoices and credit notes name it.
    `address` is its lines in print order (street, postal code and city, country): an invoice
    prints them one under the other, and no reader has to split a text."""

    name: str
    address: list[str] = []
    tax_number: str | None = None
    registration_number: str | None = None
    email: str | None = None


# -- Guest accounts (docs/storefronts.md#guest-accounts): whether a guest's paid order registers its buyer --

# "create": every paid guest order registers its buyer (S0's storybook); "offer" (the default, as
# Saleor and Medusa): only when the buyer asked for an account at checkout (`POST /orders`'
# `create_account`); "never": a guest stays a guest. Orders decides at placement and the order's
# events carry the decision (`register_buyer`); identity registers from `order.paid`.
GuestAccounts = Literal["create", "offer", "never"]
DEFAULT_GUEST_ACCOUNTS: GuestAccounts = "offer"


class Storefront(ContractModel):
    """One brand sold through the platform (Saleor's channel, Medusa's sales channel), as every
    service reads it. `revision` grows with each change, so copies apply events in any order."""

    slug: str
    name: str
    origins: list[str] = []
    frontend_url: str
    link_paths: dict[str, str] = DEFAULT_LINK_PATHS
    mail_from: str | None = None
    currency: str = "USD"
    tax: StorefrontTax = StorefrontTax()
    sells: list[str] = list(ALL_KINDS)
    passkey: StorefrontPasskey | None = None
    statement_descriptor: str | None = None
    success_url: str | None = None
    cancel_url: str | None = None
    compat_profile: str | None = None
    # True: a request from one of `origins` is served by `compat_profile` at the root too (its
    # frontend's own base URL, e.g. http://localhost:8000/api/v1) where the profile routes the path.
    compat_at_root: bool = False
    # True: an account made or signing in here needs no verified email, whatever identity's
    # `require_verified_email` (S0 logs the new customer in at registration).
    verified_email_optional: bool = False
    # True: an account may register here with a username and no email (S0); it signs in by its
    # username and has no mailed flows (reset, magic link) until it adds an address.
    email_optional: bool = False
    # Whether a guest's paid order registers its buyer (`GuestAccounts`); records stored before
    # the policy existed: the default, "offer".
    guest_accounts: GuestAccounts = DEFAULT_GUEST_ACCOUNTS
    policies: StorefrontPolicies = StorefrontPolicies()
    # Where it ships and the tax there (docs/storefronts.md#shipping-zones); none: one flat
    # `tax.shipping_rate` (else orders' `shipping_cost`) everywhere, and `tax.rate`.
    shipping_zones: list[ShippingZone] = []
    # Who sells, as invoices name the seller (docs/storefronts.md#legal-details); None: the
    # storefront's `name` alone.
    legal: StorefrontLegal | None = None
    # The languages its texts are shown in (docs/storefronts.md#languages); empty: the default alone.
    locales: list[str] = []
    # The language of the catalog's own texts there, and of a caller who asks for none it has.
    default_locale: str = "en"
    is_default: bool = False
    revision: int = 0

    @property
    def languages(self) -> list[str]:
        """Every locale it shows, the default first."""
        return [self.default_locale, *(tag for tag in self.locales if tag != self.default_locale)]

    @property
    def multilingual(self) -> bool:
        return any(tag != self.default_locale for tag in self.locales)

    def locale_for(self, requested: str | None, accept_language: bytes | str | None) -> str:
        """The caller's language here: `?locale=` (`requested`), then `Accept-Language`
        negotiated against `languages`, else `default_locale` (`atelier_common.locales`)."""
        if not self.locales:
            return self.default_locale
        return locales.negotiate((self.slug, self.revision, self.default_locale), requested, accept_language,
                                 self._offered)

    def cache_locale(self, requested: str | None, accept_language: bytes | str | None) -> str:
        """What a cached answer's key holds of the language: the negotiated locale where the
        storefront lists languages, else nothing (the keys of a storefront without are as they
        were). A cache hit pays for an attribute and, with languages, a dictionary look-up."""
        return self.locale_for(requested, accept_language) if self.locales else ""

    def _offered(self) -> tuple[list[str], str]:
        return self.languages, self.default_locale

    def sells_kind(self, kind: str) -> bool:
        return kind in self.sells

    @property
    def sells_everything(self) -> bool:
        return all(kind in self.sells for kind in ALL_KINDS)

    def link(self, name: str, **values: str) -> str:
        """The absolute link of one of the storefront's pages, e.g. `link("reset_password",
        token=...)`: its `frontend_url` + the path template with the values URL-encoded. A
        template this storefront lacks falls back to the platform's own path of that name."""
        template = self.link_paths.get(name)
        if template is None and name == "set_password":
            # A brand's frontend sets a first password on its reset page (it has no page of its own).
            template = self.link_paths.get("reset_password")
        template = template or DEFAULT_LINK_PATHS.get(name)
        if template is None:
            raise KeyError(name)
        path = template
        for key in LINK_PLACEHOLDERS:
            path = path.replace("{" + key + "}", quote(str(values.get(key, "")), safe=""))
        if not path.startswith("/"):
            path = "/" + path
        return self.frontend_url.rstrip("/") + path

    def offers(self, kind: str, storefronts: Sequence[str]) -> bool:
        """Whether this storefront sells a product of `kind` scoped to `storefronts`: the one rule
        every service applies to what it shows, accepts in a cart and charges in an order."""
        return self.sells_kind(kind) and self.in_scope(storefronts)

    @property
    def takes_any_currency(self) -> bool:
        """The platform's own `default` storefront (an install as it was before storefronts) sells
        its whole catalog whatever each product's currency: a cart or an order there is in one
        currency, any. Every other storefront sells in its own `currency` (cart and orders ask this)."""
        return self.slug == DEFAULT_STOREFRONT

    def sells_currency(self, currency: str) -> bool:
        """Whether something priced in `currency` can be bought here (`takes_any_currency`, else
        this storefront's own `currency`): the rule orders charges by and catalog scopes by."""
        return self.takes_any_currency or currency == self.currency

    def shipping_zone(self, country: str | None, region: str | None) -> ShippingZone | None:
        """The zone of an address in `country` (alpha-2) and `region` (its state: `CA` or `US-CA`):
        the most specific one covering it (zones never overlap at one level), None when none does."""
        region = region_code(country, region)
        best = max(self.shipping_zones, key=lambda zone: zone.specificity(country, region), default=None)
        return best if best is not None and best.specificity(country, region) > 0 else None

    def in_scope(self, storefronts: Sequence[str]) -> bool:
        """Whether something scoped to `storefronts` (empty: every storefront) is this one's."""
        return not storefronts or self.slug in storefronts


class StorefrontChanged(IntegrationEvent):
    """A storefront was created or changed: the whole record, so a copy needs nothing else."""

    type = "storefront.changed"
    storefront: Storefront


class StorefrontDeleted(IntegrationEvent):
    type = "storefront.deleted"
    slug: str
    revision: int
