"""The default storefront, as identity's settings describe it until staff edit it.

An install that never created a storefront runs on this one (docs/storefronts.md): its pages
are `frontend_url` with the paths identity always linked to, its mail comes from `mail_from`,
its passkeys from the WebAuthn settings, its currency and tax from the pricing settings.
"""

from __future__ import annotations

from typing import Any

from atelier_common.contracts.identity import (
    DEFAULT_LINK_PATHS,
    DEFAULT_STOREFRONT,
    Storefront,
    StorefrontPasskey,
    StorefrontTax,
)
from atelier_identity.settings import IdentitySettings


def default_storefront(settings: Any) -> Storefront:
    assert isinstance(settings, IdentitySettings)
    return Storefront(
        slug=DEFAULT_STOREFRONT, name=settings.webauthn_rp_name, origins=[], frontend_url=settings.frontend_url,
        link_paths=dict(DEFAULT_LINK_PATHS), mail_from=settings.mail_from, currency=settings.default_currency,
        tax=StorefrontTax(rate=settings.tax_rate), is_default=True,
        passkey=StorefrontPasskey(rp_id=settings.webauthn_rp_id, origins=settings.webauthn_expected_origins),
        revision=0)
