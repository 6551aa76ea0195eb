"""The demo storefronts `make dev` runs (`seed_demo_storefronts`): the five products of the demo as
five storefronts beside the default, created at start when missing, through `StorefrontService`
(so their `storefront.changed` events go out like any other change).

Each carries its product's rules as `policies` (docs/storefronts.md#policies). The per-address
limits among them (`DEMO_LIMITS`) are left out with `demo_storefront_limits` off: the test suite's
platform, whose many visitors share one address."""

from __future__ import annotations

import logging
from decimal import Decimal

from atelier_common.contracts.identity import GROUP_BUSINESS
from atelier_common.service import Runtime
from atelier_identity.errors import CustomerGroupExists, StorefrontExists, StorefrontOriginTaken, StorefrontProfileTaken
from atelier_identity.schemas import StorefrontCreate, StorefrontPasskeyIn, StorefrontPoliciesIn, StorefrontTaxIn
from atelier_identity.service.customer_groups import CustomerGroupService
from atelier_identity.service.storefronts import StorefrontService
from atelier_identity.settings import IdentitySettings

log = logging.getLogger("atelier.identity.demo")


def _demo(slug: str, name: str, currency: str, tax: StorefrontTaxIn, sells: list[str], origin: str,
          at_root: bool = True, **extra: object) -> StorefrontCreate:
    # A passkey's relying party is a host name: none on an IP address (browsers refuse one).
    passkey = StorefrontPasskeyIn(rp_id="localhost", origins=[origin]) if "//localhost:" in origin else None
    return StorefrontCreate.model_validate({
        "slug": slug, "name": name, "origins": [origin], "frontend_url": origin,
        "mail_from": f"{name} <no-reply@{slug}.example>", "currency": currency, "tax": tax, "sells": sells,
        "passkey": passkey, "compat_profile": slug, "compat_at_root": at_root, **extra})


_INCLUSIVE = StorefrontTaxIn(rate=Decimal("0"), inclusive=True)
# The policies that limit one client address.
DEMO_LIMITS = ("registrations_per_hour_per_ip", "signin_lockout_minutes")

# Each origin is where the product's real frontend runs when started as its README says, so it
# works with nothing configured: its calls to its own default base URL (http://localhost:8000/api/v1,
# /api) are its profile's (`compat_at_root`). mycomics (S0) also runs on :3000, as Marbelle does:
# it is http://127.0.0.1:3000 here. reviv and shop have no runnable frontend (API guides whose base
# URL is configured anyway): ports of their own, their profiles under /compat/ only.
DEMO_STOREFRONTS: tuple[StorefrontCreate, ...] = (
    # S0 logs the new customer in at registration: its accounts need no verified email, and a
    # username and a password make one. Its payment webhook registered every paying guest from the
    # delivery address: guest accounts "create".
    _demo("storybook", "Storybook", "GEL", _INCLUSIVE, ["print_tier", "retry_pack"], "http://127.0.0.1:3000",
          verified_email_optional=True, email_optional=True, guest_accounts="create",
          # mycomics has Georgian texts beside the English ones.
          locales=["en", "ka"], default_locale="en"),
    # The Marbelle frontend's reset page is /password-reset (its App.tsx routes). S1's access tokens
    # lived an hour; "1-99 items per product per cart".
    _demo("marbelle", "Marbelle", "USD", StorefrontTaxIn(rate=Decimal("0.09"), inclusive=False), ["physical"],
          "http://localhost:3000", link_paths={"reset_password": "/password-reset?token={token}"},
          policies=StorefrontPoliciesIn(access_token_minutes=60, cart_line_limit=99),
          # Zones to show shipping off: California's own tax, the US by subtotal with an
          # express option, and the rest of the world by weight (`weight_grams`), untaxed.
          shipping_zones=[
              # California does not tax a delivery charge stated apart from the goods.
              {"code": "california", "name": "California", "regions": ["US-CA"], "tax_rate": "0.0725",
               "shipping_taxed": False,
               "methods": [{"code": "standard", "name": "Standard (3-5 days)", "amount": "5.95", "free_over": "75"},
                           {"code": "express", "name": "Express (next day)", "amount": "14.95"}]},
              {"code": "us", "name": "United States", "countries": ["US"],
               "methods": [{"code": "standard", "name": "Standard (3-7 days)", "kind": "subtotal",
                            "tiers": [{"min": "0", "amount": "7.95"}, {"min": "50", "amount": "4.95"}],
                            "free_over": "100"},
                           {"code": "express", "name": "Express (2 days)", "amount": "19.95"}]},
              {"code": "world", "name": "Rest of the world", "countries": ["*"], "tax_rate": "0",
               "methods": [{"code": "international", "name": "International", "kind": "weight",
                            "tiers": [{"min": "0", "amount": "15.00"}, {"min": "2000", "amount": "25.00"},
                                      {"min": "5000", "amount": "40.00"}]}]}]),
    # S2's site serves its API under /api/ (the guide's relative paths): the mail link confirms there;
    # a credit pack's checkout comes back to the guide's /payment/success and /payment/cancelled.
    _demo("reviv", "reviv.pics", "USD", _INCLUSIVE, ["credit_pack"], "http://localhost:3103", at_root=False,
          link_paths={"verify_email": "/api/auth/verify-email/{token}/"},
          success_url="http://localhost:3103/payment/success?session_id={CHECKOUT_SESSION_ID}",
          cancel_url="http://localhost:3103/payment/cancelled",
          # S2 signed a passkey sign-up in at once, before the address was confirmed.
          policies=StorefrontPoliciesIn(passkey_signup_signs_in=True)),
    # S3's SPA routes the mail links as /verify-email/<token> and /reset-password/<token> (its users/tasks.py).
    # Its cart takes any quantity up to the stock; its InventoryManager calls ≤ 10 "low stock"
    # (`get_low_stock_products(threshold=10)`), alerting the demo's staff account (`atelier dev`'s).
    _demo("shop", "Shop", "USD",
          StorefrontTaxIn(rate=Decimal("0.10"), inclusive=False, shipping_rate=Decimal("5.00")), ["physical"],
          "http://localhost:3104", at_root=False,
          # S3's flat $5 shipping, as a method: one zone, everywhere, untaxed as S3 charged it.
          shipping_zones=[{"code": "everywhere", "name": "Everywhere", "countries": ["*"], "shipping_taxed": False,
                           "methods": [{"code": "standard", "name": "Standard", "amount": "5.00"}]}],
          link_paths={"verify_email": "/verify-email/{token}", "reset_password": "/reset-password/{token}"},
          # S3 (Django): hour-long access tokens, Django's password validators, a 15-minute lock-out,
          # 3 registrations an hour per address (its RegisterThrottle); an order ships with its
          # tracking number (its fulfilment: "Set tracking_number, shipped_at").
          policies=StorefrontPoliciesIn(access_token_minutes=60, password_policy="strict", signin_lockout_minutes=15,
                                        registrations_per_hour_per_ip=3, cart_line_limit=0, low_stock_threshold=10,
                                        alert_emails=["admin@atelier.example"], tracking_number_required=True,
                                        # its request budgets (DRF's throttles): 20 a minute per
                                        # anonymous caller, 100 per customer
                                        anonymous_requests_per_minute=20, customer_requests_per_minute=100)),
    # Its frontend (qwertypants/figureforge, Vite) runs on :5173, reads `?code=&email=` on
    # /auth/magic-link and has no checkout pages of its own: back to the account or the prices.
    _demo("figureforge", "FigureForge", "USD", _INCLUSIVE, ["credit_pack", "subscription_plan"],
          "http://localhost:5173", link_paths={"magic_link": "/auth/magic-link?code={code}&email={email}"},
          success_url="http://localhost:5173/account", cancel_url="http://localhost:5173/pricing"),
)


# The customer groups of the demo storefronts: (storefront, code, name).
DEMO_GROUPS = (("marbelle", GROUP_BUSINESS, "Business"),)


async def seed_demo_storefronts(runtime: Runtime) -> None:
    """Create the demo storefronts that are missing (by slug), each in its own transaction. Another
    process starting at the same moment may create one first: its conflict is skipped."""
    settings = IdentitySettings.of(runtime)
    if not settings.seed_demo_storefronts:
        return
    for storefront in DEMO_STOREFRONTS:
        if not settings.demo_storefront_limits:
            storefront = _without_limits(storefront)
        try:
            async with runtime.db.transaction() as session:
                service = StorefrontService(session, runtime.context)
                if not await service.exists(storefront.slug):
                    await service.create(storefront)
                    log.info("demo storefront %s created", storefront.slug)
        except StorefrontExists:
            continue
        except (StorefrontOriginTaken, StorefrontProfileTaken) as exc:
            log.warning("demo storefront %s not created: %s %s", storefront.slug, exc.message, exc.details)
    await _seed_demo_groups(runtime)


async def _seed_demo_groups(runtime: Runtime) -> None:
    """Marbelle's `business` group, whose price list catalog's demo seeds: staff put its members in
    (`/staff/customer-groups`); a company name alone puts nobody there."""
    for slug, code, name in DEMO_GROUPS:
        try:
            async with runtime.db.transaction() as session:
                if not await StorefrontService(session, runtime.context).exists(slug):
                    continue
                if await CustomerGroupService(session, runtime.context).seed(slug, code, name):
                    log.info("demo customer group %s on %s created", code, slug)
        except CustomerGroupExists:
            continue


def _without_limits(storefront: StorefrontCreate) -> StorefrontCreate:
    policies = storefront.policies.model_copy(update=dict.fromkeys(DEMO_LIMITS))
    return storefront.model_copy(update={"policies": policies})
