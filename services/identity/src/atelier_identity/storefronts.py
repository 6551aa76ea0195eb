"""Storefronts' pure rules (no I/O), and the default storefront as identity's settings describe it
until staff edit it.

An install that never created a storefront runs on the default (docs/storefronts.md): its pages
are `frontend_url` with the paths identity always linked to, its mail comes from `mail_from`,
its passkeys from the WebAuthn settings, its currency and tax from the pricing settings.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import Any
from urllib.parse import urlsplit

from atelier_common.contracts.identity import (
    DEFAULT_LINK_PATHS,
    DEFAULT_STOREFRONT,
    LINK_PLACEHOLDERS,
    Storefront,
    StorefrontPasskey,
    StorefrontTax,
)
from atelier_identity.settings import IdentitySettings

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
# The pages a storefront's mail links to (`Storefront.link`).
LINK_NAMES = frozenset(DEFAULT_LINK_PATHS)
# The compatibility profiles the gateway serves (`/compat/<profile>/...`).
COMPAT_PROFILES = ("storybook", "marbelle", "reviv", "shop", "figureforge")
# Card statements show at most 22 characters, and refuse these.
STATEMENT_DESCRIPTOR_MAX = 22
STATEMENT_DESCRIPTOR_FORBIDDEN = frozenset("<>\\'\"*")
URL_MAX_LENGTH = 2000
LINK_PATH_MAX_LENGTH = 500

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(LINK_PLACEHOLDERS) + r")\}")


def default_storefront(settings: Any) -> Storefront:
    assert isinstance(settings, IdentitySettings)
    return Storefront(
        slug=DEFAULT_STOREFRONT, name=settings.webauthn_rp_name, origins=[], frontend_url=settings.frontend_url,
        link_paths=dict(DEFAULT_LINK_PATHS), mail_from=settings.mail_from, currency=settings.default_currency,
        tax=StorefrontTax(rate=settings.tax_rate), is_default=True,
        passkey=StorefrontPasskey(rp_id=settings.webauthn_rp_id, origins=settings.webauthn_expected_origins),
        revision=0)


def next_revision(previous: int) -> int:
    """The revision of a write: the clock in microseconds, and always past the one it replaces
    (copies keep the highest revision they saw, so a clock stepping back must not lose a change)."""
    return max(time.time_ns() // 1000, previous + 1)


def auth_methods(storefront: Storefront, settings: IdentitySettings) -> list[str]:
    """The sign-in methods identity offers on `storefront`."""
    methods = ["password", "magic_link"]
    if storefront.passkey is not None:
        methods.append("passkey")
    if settings.oauth_google_client_id:
        methods.append("google")
    return methods


# -- validation (the schemas call these; each raises ValueError with the message shown) -----------

def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def valid_host(host: str) -> bool:
    """An IP address, or a DNS name of letters, digits and hyphens (IDNs in their xn-- form)."""
    if _is_ip(host):
        return True
    labels = host.split(".")
    return len(host) <= 253 and all(_LABEL.match(label) for label in labels)


def _split_http(value: str, what: str) -> Any:
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError(f"{what} must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.netloc:
        raise ValueError(f"{what} must be an absolute http or https address")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not hold a user name or password")
    host = parts.hostname or ""
    if not host or not valid_host(host):
        raise ValueError(f"{what} has no valid host name")
    try:
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"{what} has an invalid port") from exc
    return parts


def normalise_origin(value: str) -> str:
    """`scheme://host[:port]`, lower-case, without a trailing slash or the scheme's default port
    (what a browser sends as `Origin`). A path, query or fragment is refused."""
    value = value.strip()
    parts = _split_http(value, "An origin")
    if parts.path not in ("", "/") or "?" in value or "#" in value:
        raise ValueError("An origin is scheme://host[:port], without a path, query or fragment")
    scheme, host, port = parts.scheme.lower(), parts.hostname or "", parts.port
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        shown = f"{shown}:{port}"
    return f"{scheme}://{shown}"


def origin_host(origin: str) -> str:
    return urlsplit(origin).hostname or ""


def check_url(value: str) -> str:
    """An absolute http(s) URL (a path and query allowed), as given less surrounding spaces."""
    value = value.strip()
    if len(value) > URL_MAX_LENGTH:
        raise ValueError(f"At most {URL_MAX_LENGTH} characters")
    _split_http(value, "The URL")
    return value


def check_link_path(value: str) -> str:
    """A path on the storefront's frontend, with only the {token} {code} {email} {order_id} placeholders."""
    if not value.startswith("/"):
        raise ValueError("A link path starts with /")
    if len(value) > LINK_PATH_MAX_LENGTH:
        raise ValueError(f"At most {LINK_PATH_MAX_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("A link path must not contain spaces or control characters")
    if "{" in _PLACEHOLDER.sub("", value) or "}" in _PLACEHOLDER.sub("", value):
        raise ValueError("The only placeholders are " + ", ".join("{" + p + "}" for p in LINK_PLACEHOLDERS))
    return value


def check_rp_id(value: str) -> str:
    rp_id = value.strip().lower()
    if not rp_id or not valid_host(rp_id):
        raise ValueError("The relying party id is a host name, e.g. shop.example")
    return rp_id


def rp_id_covers(rp_id: str, host: str) -> bool:
    """Whether a passkey of relying party `rp_id` may be used on `host`: the same host, or a
    registrable suffix of it (a parent domain of two labels or more; never a bare top-level name
    or a part of an IP address)."""
    if rp_id == host:
        return True
    if _is_ip(host) or _is_ip(rp_id) or "." not in rp_id:
        return False
    return host.endswith("." + rp_id)


def check_statement_descriptor(value: str) -> str:
    value = value.strip()
    if not value or len(value) > STATEMENT_DESCRIPTOR_MAX:
        raise ValueError(f"1 to {STATEMENT_DESCRIPTOR_MAX} characters")
    if any(ch in STATEMENT_DESCRIPTOR_FORBIDDEN or ord(ch) < 32 for ch in value):
        raise ValueError("A statement descriptor cannot hold < > \\ ' \" *")
    return value
