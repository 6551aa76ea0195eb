"""The storefronts (staff; identity owns them), their policies and legal entity, and what clients read of them."""

from __future__ import annotations

import re
from decimal import Decimal
from email.utils import parseaddr
from typing import Annotated, Literal

import email_validator
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from atelier_common.contracts.identity import (
    ALL_KINDS,
    DEFAULT_GUEST_ACCOUNTS,
    TAX_NUMBER_MAX_LENGTH,
    TAX_NUMBER_PATTERN,
    GuestAccounts,
    Storefront,
)
from atelier_identity import storefronts
from atelier_identity.currencies import ISO_4217_CURRENCIES
from atelier_identity.schemas._shared import (
    LocaleTag,
    Request,
    ShippingRate,
    TaxRate,
    TaxRates,
    _blank_to_none,
    _two_places,
)
from atelier_identity.schemas.shipping_zones import ShippingZones


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_4217_CURRENCIES:
        raise ValueError("Not an ISO 4217 currency code")
    return code


Locales = Annotated[list[LocaleTag], Field(max_length=20), AfterValidator(lambda tags: list(dict.fromkeys(tags)))]


def _distinct_origins(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _sells(values: list[str]) -> list[str]:
    unknown = [kind for kind in values if kind not in ALL_KINDS]
    if unknown:
        raise ValueError(f"Unknown product kinds {unknown}; the kinds are {', '.join(ALL_KINDS)}")
    if not values:
        raise ValueError("A storefront sells at least one kind of product")
    return list(dict.fromkeys(values))


def _link_paths(values: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(values) - storefronts.LINK_NAMES)
    if unknown:
        raise ValueError(f"Unknown links {unknown}; the links are {', '.join(sorted(storefronts.LINK_NAMES))}")
    return values


def _mail_from(value: str) -> str:
    value = value.strip()
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("A sender must not contain line breaks or control characters")
    _, address = parseaddr(value)
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f'A sender is an address or "Name <address>": {exc}') from exc
    return value


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("This field cannot be null")
    return value


Slug = Annotated[str, StringConstraints(pattern=storefronts.SLUG_PATTERN)]
StorefrontName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Origin = Annotated[str, StringConstraints(max_length=storefronts.URL_MAX_LENGTH),
                   AfterValidator(storefronts.normalise_origin)]
Origins = Annotated[list[Origin], Field(max_length=20), AfterValidator(_distinct_origins)]
AbsoluteUrl = Annotated[str, StringConstraints(max_length=storefronts.URL_MAX_LENGTH + 10),
                        AfterValidator(storefronts.check_url)]
LinkPath = Annotated[str, AfterValidator(storefronts.check_link_path)]
LinkPaths = Annotated[dict[str, LinkPath], AfterValidator(_link_paths)]
MailFrom = Annotated[str, StringConstraints(max_length=320), AfterValidator(_mail_from)]
Currency = Annotated[str, StringConstraints(min_length=3, max_length=3), AfterValidator(_currency)]
Sells = Annotated[list[str], Field(max_length=20), AfterValidator(_sells)]

StatementDescriptor = Annotated[str, StringConstraints(max_length=100),
                                AfterValidator(storefronts.check_statement_descriptor)]
RpId = Annotated[str, StringConstraints(max_length=253), AfterValidator(storefronts.check_rp_id)]
CompatProfile = Literal["storybook", "marbelle", "reviv", "shop", "figureforge"]


class StorefrontTaxIn(Request):
    rate: TaxRate = Decimal("0")
    # True: prices include tax; false: the rate is added on the tax-exclusive kinds.
    inclusive: bool = False
    # What shipping one order costs; null: the orders service's own shipping cost.
    shipping_rate: Annotated[ShippingRate | None, AfterValidator(_two_places)] = Field(default=None, description=(
        "Empty: the orders service's shipping_cost (5.00 unless configured)."))
    # Whether that charge is taxed with the goods (a storefront without zones; each zone says its own).
    shipping_taxed: bool = False
    # The rate of each tax class with its own ({"reduced": "0.055"}); the others: `rate` (zero: 0).
    tax_rates: TaxRates = {}


class StorefrontTaxUpdate(Request):
    """Tax in a PATCH: the fields sent replace the current ones, the others stay."""

    rate: Annotated[TaxRate | None, AfterValidator(_not_null)] = None
    inclusive: Annotated[bool | None, AfterValidator(_not_null)] = None
    shipping_rate: Annotated[ShippingRate | None, AfterValidator(_two_places)] = None
    shipping_taxed: Annotated[bool | None, AfterValidator(_not_null)] = None
    # Replaces the classes' rates as a whole.
    tax_rates: Annotated[TaxRates | None, AfterValidator(_not_null)] = None


def _alert_email(value: str) -> str:
    try:
        return email_validator.validate_email(value.strip(), check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"Not an email address: {exc}") from exc


def _no_emails(values: list[str] | None) -> list[str]:
    """Null is no alert address (the contract's empty list)."""
    return list(dict.fromkeys(values or []))


AlertEmail = Annotated[str, StringConstraints(max_length=320), AfterValidator(_alert_email)]


class StorefrontPoliciesIn(Request):
    """The storefront's own rules (docs/storefronts.md#policies); null: the install's setting. In
    a PATCH the fields sent replace the current ones, the others stay."""

    # Each description says what an empty field (null) falls back to: the console shows it as the
    # field's help (docs/storefronts.md#policies has the whole table).
    # Minutes an access token issued here lives (a day at most).
    access_token_minutes: Annotated[int, Field(ge=1, le=1440)] | None = Field(default=None, description=(
        "Empty: the install's lifetime, identity's access_token_ttl_minutes (15 minutes unless configured)."))
    password_policy: Literal["length", "strict"] | None = Field(default=None, description=(
        "Empty: the install's rule: 8 characters at least, not all digits, not the email."))
    # The most of one product a cart line holds; 0: no cap but stock.
    cart_line_limit: Annotated[int, Field(ge=0, le=100_000)] | None = Field(default=None, description=(
        "Empty: the cart's own cap, 99 of one product a line."))
    # Minutes an (account, client address) pair waits after too many failed passwords (a day at most).
    signin_lockout_minutes: Annotated[int, Field(ge=1, le=1440)] | None = Field(default=None, description=(
        "Empty: the window of identity's sign_in_failures_per_account_and_ip (15 minutes unless configured)."))
    registrations_per_hour_per_ip: Annotated[int, Field(ge=1, le=100_000)] | None = Field(default=None, description=(
        "Empty: no hourly limit of its own; the gateway's rate_limit_credentials_per_ip "
        "(100 a minute unless configured) still applies."))
    anonymous_requests_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(default=None, description=(
        "Empty: the gateway's rate_limit_per_ip (3000 a minute unless configured)."))
    customer_requests_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(default=None, description=(
        "Empty: the gateway's rate_limit_default (1000 an hour unless configured)."))
    passkey_signup_signs_in: bool | None = Field(default=None, description=(
        "Empty: identity's require_verified_email decides (unless configured, the account waits for its "
        "confirmed address)."))
    low_stock_threshold: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(default=None, description=(
        "Empty: no low-stock alerts."))
    alert_emails: Annotated[list[AlertEmail] | None, Field(max_length=20), AfterValidator(_no_emails)] = Field(
        default=[], description="Empty: no low-stock mail is sent.")
    tracking_number_required: bool | None = Field(default=None, description=(
        "Empty: an order may ship without a tracking number."))
    customer_order_edits: bool | None = Field(default=None, description=(
        "Empty: customers do not edit their orders (only staff do)."))


def _one_line(value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("One line: no line breaks or control characters")
    return value


def _tax_number(value: str) -> str:
    if not re.fullmatch(TAX_NUMBER_PATTERN, value):
        raise ValueError("A tax number has letters, digits, spaces, dashes and dots only")
    return value


LegalLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                      AfterValidator(_one_line)]
TaxNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TAX_NUMBER_MAX_LENGTH),
                      AfterValidator(_tax_number)]
RegistrationNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                               AfterValidator(_one_line)]


class StorefrontLegalIn(Request):
    """The legal entity selling on the storefront, printed on its invoices and credit notes. In a
    PATCH the block sent replaces the current one whole; null removes it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Atelier Trading Ltd", "address": ["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
        "tax_number": "GB 123 4567 89", "registration_number": "SC123456", "email": "accounts@atelier.example"}]})

    # The registered name, printed as the seller (else the storefront's `name`).
    name: LegalLine
    # The registered address, one line each (street, postal code and city, country), printed in order.
    address: Annotated[list[LegalLine], Field(max_length=6)] = []
    # The VAT or tax id; null: none printed.
    tax_number: TaxNumber | None = None
    # The company registration number, where the law asks invoices to show it.
    registration_number: RegistrationNumber | None = None
    email: Annotated[AlertEmail | None, BeforeValidator(_blank_to_none)] = None


class StorefrontPasskeyIn(Request):
    rp_id: RpId
    origins: Origins = []


class StorefrontCreate(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "slug": "marbelle", "name": "Marbelle", "origins": ["https://marbelle.example"],
        "frontend_url": "https://marbelle.example", "mail_from": "Marbelle <no-reply@marbelle.example>",
        "currency": "USD", "tax": {"rate": "0.09", "inclusive": False}, "sells": ["physical"],
        "passkey": {"rp_id": "marbelle.example", "origins": ["https://marbelle.example"]},
        "compat_profile": "marbelle", "compat_at_root": True, "policies": {"access_token_minutes": 60}}]})

    slug: Slug
    name: StorefrontName
    origins: Origins = []
    frontend_url: AbsoluteUrl
    # Merged over the platform's own paths: a link not given keeps its default.
    link_paths: LinkPaths = {}
    mail_from: MailFrom | None = None
    currency: Currency = "USD"
    tax: StorefrontTaxIn = StorefrontTaxIn()
    sells: Sells = list(ALL_KINDS)
    passkey: StorefrontPasskeyIn | None = None
    statement_descriptor: StatementDescriptor | None = None
    success_url: AbsoluteUrl | None = None
    cancel_url: AbsoluteUrl | None = None
    compat_profile: CompatProfile | None = None
    # True: its origins' calls to the paths `compat_profile` routes are served by it at the root
    # (the frontend's own base URL); the other paths stay native.
    compat_at_root: bool = False
    # True: accounts made or signing in here need no verified email (S0 logs the new customer in).
    verified_email_optional: bool = False
    policies: StorefrontPoliciesIn = StorefrontPoliciesIn()
    # True: a username and a password make an account here, no email needed (S0).
    email_optional: bool = False
    # Whether a guest's paid order registers its buyer: "create" every one (S0), "offer" only when
    # the buyer asked at checkout (`POST /orders`' `create_account`), "never".
    guest_accounts: GuestAccounts = DEFAULT_GUEST_ACCOUNTS
    # Where it ships, by which methods, and the tax there; none: `tax.shipping_rate` and `tax.rate`.
    shipping_zones: ShippingZones = []
    # Who sells, as invoices name the seller; none: the storefront's `name` alone.
    legal: StorefrontLegalIn | None = None
    # The languages its texts are shown in (the default among them); empty: `default_locale` alone.
    locales: Locales = []
    # The language of the catalog's own texts there, and of a caller who asks for none of `locales`.
    default_locale: LocaleTag = "en"
    is_default: bool = False

    @model_validator(mode="after")
    def _default_locale_offered(self) -> StorefrontCreate:
        if self.locales and self.default_locale not in self.locales:
            self.locales = [self.default_locale, *self.locales]
        # A shipping method's names are in the storefront's other languages (its `name` is the default's).
        others = set(self.locales) - {self.default_locale}
        for zone in self.shipping_zones:
            for method in zone.methods:
                if unknown := sorted(set(method.names) - others):
                    raise ValueError(f"method {method.code!r}: names in {', '.join(unknown)}, a language the "
                                     "storefront does not show besides its default")
        return self

    @field_validator("passkey")
    @classmethod
    def _rp_id_covers_its_origins(cls, passkey: StorefrontPasskeyIn | None,
                                  info: ValidationInfo) -> StorefrontPasskeyIn | None:
        """The passkey relying party is the host of each origin a passkey is used on, or a parent
        domain of it (WebAuthn); without origins, the frontend's."""
        if passkey is None or (not passkey.origins and "frontend_url" not in info.data):
            return passkey
        origins = passkey.origins or [info.data["frontend_url"]]
        hosts = [storefronts.origin_host(origin) for origin in origins]
        wrong = [host for host in hosts if not storefronts.rp_id_covers(passkey.rp_id, host)]
        if wrong:
            raise ValueError(f"rp_id {passkey.rp_id!r} is neither the host nor a registrable parent domain of "
                             f"{', '.join(wrong)}")
        return passkey

    @model_validator(mode="after")
    def _root_needs_a_profile(self) -> StorefrontCreate:
        if self.compat_at_root and self.compat_profile is None:
            raise ValueError("compat_at_root needs a compat_profile")
        return self


class StorefrontUpdate(Request):
    """A PATCH: every field optional, what is sent replaces the current value (`tax`, `link_paths`
    and `policies` field by field); null clears the optional ones. The slug cannot change."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Fox & Co Prints"},
        {"policies": {"password_policy": "strict", "signin_lockout_minutes": 15, "access_token_minutes": None}},
        {"guest_accounts": "never"}]})

    slug: str | None = None
    name: Annotated[StorefrontName | None, AfterValidator(_not_null)] = None
    origins: Annotated[Origins | None, AfterValidator(_not_null)] = None
    frontend_url: Annotated[AbsoluteUrl | None, AfterValidator(_not_null)] = None
    link_paths: Annotated[LinkPaths | None, AfterValidator(_not_null)] = None
    mail_from: MailFrom | None = None
    currency: Annotated[Currency | None, AfterValidator(_not_null)] = None
    tax: Annotated[StorefrontTaxUpdate | None, AfterValidator(_not_null)] = None
    sells: Annotated[Sells | None, AfterValidator(_not_null)] = None
    passkey: StorefrontPasskeyIn | None = None
    statement_descriptor: StatementDescriptor | None = None
    success_url: AbsoluteUrl | None = None
    cancel_url: AbsoluteUrl | None = None
    compat_profile: CompatProfile | None = None
    compat_at_root: Annotated[bool | None, AfterValidator(_not_null)] = None
    verified_email_optional: Annotated[bool | None, AfterValidator(_not_null)] = None
    # Field by field, like `tax`: a field sent null is the install's setting again.
    policies: Annotated[StorefrontPoliciesIn | None, AfterValidator(_not_null)] = None
    email_optional: Annotated[bool | None, AfterValidator(_not_null)] = None
    guest_accounts: Annotated[GuestAccounts | None, AfterValidator(_not_null)] = None
    # The whole list: what is sent replaces every zone ([] removes them).
    shipping_zones: Annotated[ShippingZones | None, AfterValidator(_not_null)] = None
    # The whole block: what is sent replaces the current one; null removes it.
    legal: StorefrontLegalIn | None = None
    # The whole list: what is sent replaces it.
    locales: Annotated[Locales | None, AfterValidator(_not_null)] = None
    default_locale: Annotated[LocaleTag | None, AfterValidator(_not_null)] = None
    is_default: Annotated[bool | None, AfterValidator(_not_null)] = None


class StorefrontRead(Storefront):
    """A storefront's whole record, as every service reads it (`contracts.identity.Storefront`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"slug": "prints", "name": "Fox Prints", "origins": ["https://prints.example.com"],
         "frontend_url": "https://prints.example.com",
         "link_paths": {"verify_email": "/verify-email?token={token}",
          "reset_password": "/reset-password?token={token}",
          "magic_link": "/magic-link?token={token}&email={email}",
          "email_change": "/confirm-email-change?token={token}", "order": "/orders/{order_id}",
          "set_password": "/set-password?token={token}"}, "mail_from": None, "currency": "EUR",
         "tax": {"rate": "0", "inclusive": False, "shipping_rate": None},
         "sells": ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier"], "passkey": None,
         "statement_descriptor": None, "success_url": None, "cancel_url": None, "compat_profile": None,
         "compat_at_root": False, "verified_email_optional": False, "email_optional": False,
         "guest_accounts": "offer",
         "policies": {"access_token_minutes": 60, "password_policy": "strict", "cart_line_limit": None,
          "signin_lockout_minutes": None, "registrations_per_hour_per_ip": None,
          "anonymous_requests_per_minute": None, "customer_requests_per_minute": None,
          "passkey_signup_signs_in": None, "low_stock_threshold": None, "alert_emails": [],
            "tracking_number_required": None, "customer_order_edits": None},
         "legal": {"name": "Fox Prints GmbH", "address": ["Hafenstraße 12", "20457 Hamburg", "Germany"],
          "tax_number": "DE123456789", "registration_number": "HRB 123456", "email": "accounts@prints.example.com"},
         "is_default": False, "revision": 1795659340609926}]})


class StorefrontList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"count": 6, "next": None, "previous": None,
         "results": [{"slug": "default", "name": "Atelier", "origins": [], "frontend_url": "http://localhost:3000",
           "link_paths": {"verify_email": "/verify-email?token={token}",
            "reset_password": "/reset-password?token={token}",
            "magic_link": "/magic-link?token={token}&email={email}",
            "email_change": "/confirm-email-change?token={token}", "order": "/orders/{order_id}",
            "set_password": "/set-password?token={token}"}, "mail_from": "Atelier <no-reply@atelier.example>",
           "currency": "USD", "tax": {"rate": "0.09", "inclusive": False, "shipping_rate": None},
           "sells": ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier"],
           "passkey": {"rp_id": "localhost", "origins": ["http://localhost:3000"]}, "statement_descriptor": None,
           "success_url": None, "cancel_url": None, "compat_profile": None, "compat_at_root": False,
           "verified_email_optional": False, "email_optional": False, "guest_accounts": "offer",
           "policies": {"access_token_minutes": None, "password_policy": None, "cart_line_limit": None,
            "signin_lockout_minutes": None, "registrations_per_hour_per_ip": None,
            "anonymous_requests_per_minute": None, "customer_requests_per_minute": None,
            "passkey_signup_signs_in": None, "low_stock_threshold": None, "alert_emails": [],
            "tracking_number_required": None, "customer_order_edits": None},
           "is_default": True, "revision": 0}]}]})

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[StorefrontRead]


class PublicTax(BaseModel):
    rate: Decimal
    inclusive: bool
    # The rates of the tax classes with their own (a product's `tax_class`).
    tax_rates: dict[str, Decimal] = {}


class PublicStorefront(BaseModel):
    """What a client needs of the storefront it is on (public)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"slug": "default", "name": "Atelier", "currency": "USD", "tax": {"rate": "0.09", "inclusive": False, "tax_rates": {}},
         "sells": ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier"],
         "auth_methods": ["password", "magic_link", "passkey"], "guest_accounts": "offer"}]})

    slug: str
    name: str
    currency: str
    tax: PublicTax
    sells: list[str]
    auth_methods: list[str]
    # What a guest's checkout page offers (docs/storefronts.md#guest-accounts): "offer" a box that
    # asks for an account (`POST /orders`' `create_account`), "create" says one will be made, "never" neither.
    guest_accounts: GuestAccounts = DEFAULT_GUEST_ACCOUNTS
    # The languages it shows (the default first) and the default (docs/storefronts.md#languages).
    locales: list[str] = ["en"]
    default_locale: str = "en"


class InternalStorefronts(BaseModel):
    storefronts: list[StorefrontRead]
