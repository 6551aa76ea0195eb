"""Storefronts in service tests: a record with sensible values, put into a running app's copy.

A service alone has no identity to load storefronts from: its copy holds the fallback default,
and a test adds the others it needs (as the `storefront.changed` event would)."""

from __future__ import annotations

from typing import Any

from atelier_common.contracts.identity import Storefront, StorefrontPasskey, StorefrontTax
from atelier_common.storefronts import STOREFRONT_HEADER, StorefrontDirectory

__all__ = ["STOREFRONT_HEADER", "add_storefront", "make_storefront", "on_storefront"]


def make_storefront(slug: str = "b", **overrides: Any) -> Storefront:
    """A storefront `slug` at https://<slug>.example in EUR with 20 % tax added and 7.50 shipping."""
    values: dict[str, Any] = {
        "slug": slug, "name": f"Storefront {slug.upper()}", "origins": [f"https://{slug}.example"],
        "frontend_url": f"https://{slug}.example", "mail_from": f"{slug.upper()} <hello@{slug}.example>",
        "currency": "EUR", "tax": StorefrontTax(rate="0.20", inclusive=False, shipping_rate="7.50"),
        "passkey": StorefrontPasskey(rp_id=f"{slug}.example", origins=[f"https://{slug}.example"]),
        "revision": 1,
    }
    values.update(overrides)
    return Storefront.model_validate(values)


def add_storefront(app: Any, storefront: Storefront) -> Storefront:
    """Put `storefront` into the copy of a started service app (or gateway), as its event would."""
    directory = app.state.storefronts
    assert isinstance(directory, StorefrontDirectory)
    directory.apply(storefront)
    return storefront


def on_storefront(slug: str) -> dict[str, str]:
    """The header the gateway sets on a request of storefront `slug`."""
    return {STOREFRONT_HEADER: slug}
