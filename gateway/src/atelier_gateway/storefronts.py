"""Which storefront a request belongs to, decided once at the edge (docs/storefronts.md).

In this order: the `X-Atelier-Storefront` header (an unknown slug is a 400), the request's
`Origin` (else its `Referer`) among the storefronts' origins, the storefront of the
compatibility profile serving the request, else the default. The slug travels on to the service
in the same header, replacing whatever the client sent. The storefronts come from the gateway's
copy (`StorefrontDirectory`); the origin and profile maps are rebuilt only when that copy changes,
so resolving costs a few dictionary look-ups.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from atelier_common.storefronts import Storefront, StorefrontDirectory

# The scope key a compatibility profile's native calls carry its name in (`seams.COMPAT_PROFILE`).
COMPAT_PROFILE = "atelier.compat_profile"
# The scope key naming the profile a storefront serves at the root for this request (`compat_at_root`).
COMPAT_ROOT = "atelier.compat_root"
# What a shared answer varies on: the request headers that choose the storefront (the path,
# compat profiles included, is in every cache's key anyway) and the encoding a CDN may add.
# `Origin` is the other one: the CORS middleware appends it to every answer's `Vary`.
VARY = b"Accept-Encoding, X-Atelier-Storefront"
# A storefront with several languages: the answer is in the one `Accept-Language` negotiates.
VARY_LANGUAGE = VARY + b", Accept-Language"


def origin_of(value: str) -> str | None:
    """`https://Shop.example:443/path?x` → `https://shop.example:443`; None when not an http(s) URL."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


class StorefrontResolver:
    def __init__(self, directory: StorefrontDirectory, cors_origins: Iterable[str] = ()) -> None:
        self.directory = directory
        self._cors = {o for o in (origin_of(v) for v in cors_origins) if o}
        self._version = -1
        self._by_origin: dict[str, str] = {}
        self._by_profile: dict[str, str] = {}
        self._root_by_origin: dict[str, str] = {}

    def _maps(self) -> None:
        if self._version == self.directory.version:
            return
        by_origin: dict[str, str] = {}
        by_profile: dict[str, str] = {}
        root_by_origin: dict[str, str] = {}
        for storefront in self.directory.all():
            for origin in storefront.origins:
                if (normal := origin_of(origin)) is not None:
                    by_origin.setdefault(normal, storefront.slug)
                    if (storefront.compat_at_root and storefront.compat_profile
                            and by_origin[normal] == storefront.slug):
                        root_by_origin[normal] = storefront.compat_profile
            if storefront.compat_profile:
                by_profile.setdefault(storefront.compat_profile, storefront.slug)
        self._by_origin, self._by_profile, self._root_by_origin = by_origin, by_profile, root_by_origin
        self._version = self.directory.version

    async def resolve(self, header: bytes | None, origin: bytes | None, referer: bytes | None,
                      profile: str | None) -> str:
        """The slug of the request's storefront; `UnknownStorefront` (400) for an unknown header."""
        return (await self.resolve_for_sharing(header, origin, referer, profile))[0]

    async def resolve_for_sharing(self, header: bytes | None, origin: bytes | None, referer: bytes | None,
                                  profile: str | None) -> tuple[str, bool]:
        """`resolve`, and whether the answer may be shared under `VARY`: False when the `Referer`
        alone chose the storefront (a shared cache cannot vary on it: every page is another value)."""
        if header:
            return (await self.directory.get(header.decode("latin-1").strip())).slug, True
        return self._by_page(await self.directory.get(None), origin, referer, profile)

    def resolve_for_sharing_now(self, header: bytes | None, referer: bytes | None) -> tuple[str, bool] | None:
        """`resolve_for_sharing` of a request without an `Origin` or a profile, when it needs no
        I/O; None: it would ask identity first (or refuse the header)."""
        found = self.directory.current(header.decode("latin-1").strip() if header else None)
        if found is None:
            return None
        return (found.slug, True) if header else self._by_page(found, None, referer, None)

    def _by_page(self, default: Storefront, origin: bytes | None, referer: bytes | None,
                 profile: str | None) -> tuple[str, bool]:
        """The storefront of a profile's path (`/compat/<profile>/`: a profile names one
        storefront), else of the caller's page, else the default. A page another storefront lists
        never gets that storefront's data through another brand's API."""
        self._maps()
        if profile is not None and (slug := self._by_profile.get(profile)) is not None:
            return slug, True
        for candidate in (origin, referer):
            if candidate:
                normal = origin_of(candidate.decode("latin-1"))
                if normal is not None and (slug := self._by_origin.get(normal)) is not None:
                    return slug, candidate is origin or slug == default.slug
        return default.slug, True

    def root_profile(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, bool] | None:
        """The profile the request's storefront serves at the root (`Storefront.compat_at_root`),
        chosen by its `Origin`, else its `Referer`, and whether the `Origin` chose it (else its
        answer varies on the page and is nobody else's to keep). None: no such storefront, or the
        caller named its storefront (`X-Atelier-Storefront`: a native client)."""
        if not self._root_by_origin and self._version == self.directory.version:
            return None
        self._maps()
        if not self._root_by_origin:
            return None
        origin = referer = None
        for key, value in headers:
            if key == b"x-atelier-storefront":
                return None
            if key == b"origin":
                origin = value
            elif key == b"referer":
                referer = value
        for candidate in (origin, referer):
            if candidate:
                normal = origin_of(candidate.decode("latin-1"))
                if normal is not None and (profile := self._root_by_origin.get(normal)) is not None:
                    return profile, candidate is origin
                if candidate is origin:
                    return None  # the Origin is the browser's word: another site's page is not this one's
        return None

    def allows_origin(self, origin: str) -> bool:
        """CORS: exactly the storefronts' origins plus the gateway's `cors_origins` setting."""
        normal = origin_of(origin)
        if normal is None:
            return False
        if normal in self._cors:
            return True
        self._maps()
        return normal in self._by_origin
