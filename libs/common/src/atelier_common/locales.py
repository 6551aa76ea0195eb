"""The language of a request: `?locale=` first, then `Accept-Language` negotiated against the
languages offered (babel's CLDR rules: `ka-GE` finds `ka`), else the default (docs/api.md).

The gateway derives it for a cached read's key and the services for the answer, from the same
inputs with this one function, so both always agree. The outcome of each distinct input is kept
(bounded): a cache hit pays a dictionary look-up, not a parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from urllib.parse import unquote_plus

from babel.core import negotiate_locale

# A BCP 47 tag as catalogs and storefronts store it: language, then an optional script or region
# (`en`, `ka`, `pt-BR`, `sr-Latn`).
LOCALE_PATTERN = r"^[a-z]{2,3}(-([A-Z][a-z]{3}|[A-Z]{2}|[0-9]{3}))?$"
_LOCALE = re.compile(LOCALE_PATTERN)
_QUALITY = re.compile(r"^q=([0-9.]+)$", re.IGNORECASE)

_KEPT = 4096
_negotiated: dict[tuple[Hashable, str | None, bytes | str | None], str] = {}


def normalize(tag: str) -> str | None:
    """`EN_gb` → `en-GB`; None when `tag` is no language tag."""
    parts = tag.strip().replace("_", "-").split("-")
    if not parts or not parts[0]:
        return None
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 else part.upper())
    value = "-".join(out)
    return value if _LOCALE.match(value) else None


def accepted(header: str) -> list[str]:
    """The tags of an `Accept-Language` header, best first (equal weights keep their order);
    `*` and `q=0` are left out."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            found = _QUALITY.match(param)
            if found:
                try:
                    quality = float(found.group(1))
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(owner: Hashable, requested: str | None, accept_language: bytes | str | None,
              offered: Callable[[], tuple[Sequence[str], str]]) -> str:
    """The locale of a request among the languages `offered()` gives (and its default) — see the
    module doc. `owner` names what offers them, as of its current version (a storefront's slug
    and revision): the outcome is kept under it and the raw inputs. An unknown `requested` is as
    if absent: a link with another storefront's `?locale=` still reads."""
    key = (owner, requested, accept_language)
    found = _negotiated.get(key)
    if found is None:
        available, default = offered()
        found = _negotiate(requested, accept_language, available, default)
        if len(_negotiated) >= _KEPT:
            _negotiated.clear()
        _negotiated[key] = found
    return found


def _negotiate(requested: str | None, accept_language: bytes | str | None, available: Sequence[str],
               default: str) -> str:
    if len(available) < 2:
        return default
    if isinstance(accept_language, bytes):  # as the gateway reads it
        accept_language = accept_language.decode("latin-1")
    if requested:
        chosen = negotiate_locale([requested], list(available), sep="-")
        if chosen is not None:
            return _canonical(chosen, available)
    if accept_language:
        chosen = negotiate_locale(accepted(accept_language), list(available), sep="-")
        if chosen is not None:
            return _canonical(chosen, available)
    return default


def _canonical(chosen: str, available: Sequence[str]) -> str:
    """babel answers in the case it was asked in: give back the storefront's own spelling."""
    return next((tag for tag in available if tag.lower() == chosen.lower()), chosen)


def query_locale(query: bytes) -> str | None:
    """`?locale=` of a raw query string (its last value), without parsing the rest."""
    if b"locale=" not in query:
        return None
    found = None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"locale":
            found = unquote_plus(value.decode("latin-1"))
    return found
