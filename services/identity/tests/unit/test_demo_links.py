"""The demo storefronts' mail links where a seed's own frontend routes them differently."""

from __future__ import annotations

from atelier_common.contracts.identity import Storefront
from atelier_identity.demo import DEMO_STOREFRONTS


def _demo(slug: str) -> Storefront:
    return Storefront.model_validate(next(s for s in DEMO_STOREFRONTS if s.slug == slug).model_dump())


def test_shop_links_are_the_seed_spa_routes() -> None:
    shop = _demo("shop")
    assert shop.link("verify_email", token="a b") == "http://localhost:3104/verify-email/a%20b"
    assert shop.link("reset_password", token="t") == "http://localhost:3104/reset-password/t"
    assert shop.link("magic_link", token="t", email="e") == "http://localhost:3104/magic-link?token=t&email=e"


def test_reviv_verification_link_is_served_by_the_site_api() -> None:
    reviv = _demo("reviv")
    assert reviv.link("verify_email", token="t") == "http://localhost:3103/api/auth/verify-email/t/"
    assert reviv.link("reset_password", token="t") == "http://localhost:3103/reset-password?token=t"


def test_reviv_checkout_comes_back_to_the_guide_pages() -> None:
    reviv = _demo("reviv")
    assert reviv.success_url == "http://localhost:3103/payment/success?session_id={CHECKOUT_SESSION_ID}"
    assert reviv.cancel_url == "http://localhost:3103/payment/cancelled"

