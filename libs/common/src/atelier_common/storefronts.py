"""Every process's copy of the storefronts, and the storefront of a request.

identity owns the storefronts (docs/storefronts.md). Every process (the gateway, each service's
API, consumers and workers) keeps them in memory: loaded from identity's `/internal/storefronts`
when first needed and again every `refresh_seconds` (in the background), and kept current between
loads by the broadcast `storefront.changed` / `storefront.deleted` events. Each record carries a
revision, so events and loads apply in any order. A request's storefront is then a dictionary
look-up: the gateway resolved it once and passes its slug in `x-atelier-storefront`.

Until identity has answered once (it starts later, or is down), the default storefront is the one
the process's settings describe (`fallback_storefront`): an install with one product works as it
did before storefronts existed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from fastapi import Depends, Request

from atelier_common.contracts.identity import (
    DEFAULT_STOREFRONT,
    STOREFRONT_HEADER,
    Storefront,
    StorefrontChanged,
    StorefrontDeleted,
    StorefrontPasskey,
    StorefrontTax,
)
from atelier_common.errors import AtelierError, ServiceUnavailable
from atelier_common.events import Envelope, EventBus
from atelier_common.internal import InternalApi
from atelier_common.settings import AtelierSettings, PricingSettings
from atelier_common.state import app_state

__all__ = ["STOREFRONT_HEADER", "CallerLocale", "CurrentStorefront", "Storefront", "StorefrontDirectory", "UnknownStorefront",
           "fallback_storefront", "subscribe_storefronts"]

log = logging.getLogger("atelier.storefronts")

Loader = Callable[[], Awaitable[list[Storefront]]]


class UnknownStorefront(AtelierError):
    code, status, default_message = "UNKNOWN_STOREFRONT", 400, "No storefront has this slug"


def fallback_storefront(settings: AtelierSettings) -> Storefront:
    """The default storefront as this process's settings describe it, used until identity's own
    answer arrives: currency and tax from the pricing settings where the process has them."""
    currency, tax = "USD", StorefrontTax()
    if isinstance(settings, PricingSettings):
        currency, tax = settings.default_currency, StorefrontTax(rate=settings.tax_rate)
    return Storefront(slug=DEFAULT_STOREFRONT, name="Atelier", frontend_url=settings.public_base_url,
                      currency=currency, tax=tax, is_default=True,
                      passkey=StorefrontPasskey(rp_id="localhost"))


class StorefrontDirectory:
    """The storefronts this process knows, by slug; see the module doc."""

    def __init__(self, fallback: Storefront, loader: Loader | None = None, *, refresh_seconds: float = 60.0,
                 retry_seconds: float = 5.0, first_retry_seconds: float = 0.25) -> None:
        self._fallback = fallback
        self._loader = loader
        self._refresh_seconds = refresh_seconds
        self._retry_seconds = retry_seconds
        # Until a first load succeeds (processes start together, identity maybe last), a request
        # may try again much sooner: it cannot be served without one.
        self._first_retry_seconds = first_retry_seconds
        self._retrying: asyncio.Task[None] | None = None
        self._by_slug: dict[str, Storefront] = {}
        # The revision a deleted slug had: an older `changed` arriving late does not bring it back.
        self._deleted: dict[str, int] = {}
        # The slugs the last full load had. Only those can be dropped by the next load: a storefront
        # this copy heard of by its event may be newer than a load that was already on its way.
        self._loaded_slugs: set[str] = set()
        self._loaded_at: float | None = None
        self._tried_at: float | None = None
        self._loading: asyncio.Task[None] | None = None
        # Grows with every change: the gateway rebuilds its origin and profile maps when it moves.
        self.version = 0
        # The slugs of the storefronts that list languages (`Storefront.locales`): a cache hit of
        # any other one asks nothing more of the copy (`Storefront.cache_locale`).
        self.with_languages: set[str] = set()
        # `default` as of `version`: every cache hit the gateway answers asks for it.
        self._default: tuple[int, Storefront] | None = None

    # -- changes ---------------------------------------------------------------------------------
    def apply(self, storefront: Storefront) -> bool:
        """Keep `storefront` unless this copy already has a newer revision of it (or its deletion)."""
        known = self._by_slug.get(storefront.slug)
        # Revision 0 is the default built from identity's settings (never edited): identity restarted
        # with other settings sends it again with revision 0, and it replaces the old one.
        if known is not None and known.revision >= storefront.revision and storefront.revision != 0:
            return False
        if self._deleted.get(storefront.slug, -1) >= storefront.revision:
            return False
        self._deleted.pop(storefront.slug, None)
        if storefront.is_default:
            # One default: the one just applied, if it is newer than the default this copy holds.
            for slug, other in list(self._by_slug.items()):
                if other.is_default and slug != storefront.slug:
                    self._by_slug[slug] = other.model_copy(update={"is_default": False})
        self._by_slug[storefront.slug] = storefront
        if storefront.locales:
            self.with_languages.add(storefront.slug)
        else:
            self.with_languages.discard(storefront.slug)
        self.version += 1
        return True

    def remove(self, slug: str, revision: int) -> bool:
        known = self._by_slug.get(slug)
        if known is not None and known.revision > revision:
            return False
        self._by_slug.pop(slug, None)
        self.with_languages.discard(slug)
        self._deleted[slug] = max(revision, self._deleted.get(slug, -1))
        self.version += 1
        return True

    def replace_all(self, storefronts: Iterable[Storefront]) -> None:
        """A full load: each record applies by its revision; a slug the previous load had and this
        one lacks is gone (its deletion event was missed)."""
        loaded = list(storefronts)
        slugs = {s.slug for s in loaded}
        for storefront in loaded:
            self.apply(storefront)
        for slug in [s for s in self._by_slug if s not in slugs and s in self._loaded_slugs]:
            self.remove(slug, self._by_slug[slug].revision)
        self._loaded_slugs = slugs

    # -- reads -----------------------------------------------------------------------------------
    @property
    def default(self) -> Storefront:
        known = self._default
        if known is not None and known[0] == self.version:
            return known[1]
        default = next((s for s in self._by_slug.values() if s.is_default), None)
        if default is None:
            default = self._by_slug.get(self._fallback.slug, self._fallback)
        self._default = (self.version, default)
        return default

    def all(self) -> list[Storefront]:
        """Every storefront this copy knows (the default first)."""
        default = self.default
        return [default, *(s for s in self._by_slug.values() if s.slug != default.slug)]

    def known(self, slug: str) -> Storefront | None:
        """The storefront of `slug` as this copy has it now, without asking identity."""
        default = self.default
        if slug == default.slug:
            return default
        return self._by_slug.get(slug)

    async def get(self, slug: str | None = None) -> Storefront:
        """The storefront of `slug` (None or empty: the default). A slug this copy does not know
        makes it ask identity once (a storefront created a moment ago); still unknown → 400."""
        self._refresh_if_stale()
        if self._loaded_at is None:
            await self.load()
        if not slug:
            return self.default
        storefront = self.known(slug)
        if storefront is None:
            await self.load()
            storefront = self.known(slug)
            if storefront is None:
                if self._loader is not None and self._loaded_at is None:
                    # Never loaded (identity down or not started): this copy cannot tell.
                    raise ServiceUnavailable("The storefronts are not known yet", details={"storefront": slug})
                raise UnknownStorefront(details={"storefront": slug})
        return storefront

    def current(self, slug: str | None = None) -> Storefront | None:
        """`get` when it needs no I/O: None when this copy would first ask identity (never loaded,
        or a slug it does not know)."""
        self._refresh_if_stale()
        if self._loaded_at is None and self._loader is not None:
            return None
        return self.known(slug) if slug else self.default

    def load_soon(self) -> None:
        """Load in the background until a first load succeeds (a process starting: identity may
        answer only later), so that its first requests find the storefronts."""
        if self._loader is not None and self._retrying is None:
            self._retrying = asyncio.ensure_future(self._until_loaded())

    async def _until_loaded(self) -> None:
        delay = self._first_retry_seconds
        while self._loaded_at is None:
            await self.load()
            if self._loaded_at is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_seconds)

    # -- loading from the owner ------------------------------------------------------------------
    async def load(self) -> None:
        """Ask the owner for every storefront (one load at a time; after a failure, not again for
        `retry_seconds`)."""
        if self._loader is None:
            return
        if self._loading is None or self._loading.done():
            window = self._retry_seconds if self._loaded_at is not None else self._first_retry_seconds
            if self._tried_at is not None and self._loaded_at != self._tried_at \
                    and time.monotonic() - self._tried_at < window:
                return
            self._loading = asyncio.ensure_future(self._load())
        await asyncio.shield(self._loading)

    async def _load(self) -> None:
        assert self._loader is not None
        self._tried_at = time.monotonic()
        try:
            storefronts = await self._loader()
        except Exception as exc:  # the owner is down or not started: the copy (or fallback) serves
            log.warning("storefronts could not be loaded: %s", exc)
            return
        self.replace_all(storefronts)
        self._loaded_at = self._tried_at

    def _refresh_if_stale(self) -> None:
        if self._loaded_at is None or self._loader is None:
            return
        if time.monotonic() - self._loaded_at >= self._refresh_seconds and (
                self._loading is None or self._loading.done()):
            self._loading = asyncio.ensure_future(self._load())

    async def close(self) -> None:
        for task in (self._retrying, self._loading):
            if task is not None and not task.done():
                task.cancel()


def subscribe_storefronts(bus: EventBus, consumer: str, directory: StorefrontDirectory) -> None:
    """Every instance of `consumer` hears each storefront change (a broadcast subscription)."""

    async def on_storefront_event(envelope: Envelope) -> None:
        # Idempotent by the revision, so no inbox is needed here.
        if envelope.type == StorefrontChanged.type:
            directory.apply(StorefrontChanged.model_validate(envelope.data).storefront)
        elif envelope.type == StorefrontDeleted.type:
            deleted = StorefrontDeleted.model_validate(envelope.data)
            directory.remove(deleted.slug, deleted.revision)

    bus.subscribe(consumer, [StorefrontChanged.type, StorefrontDeleted.type], on_storefront_event, broadcast=True)


def storefront_loader(internal: InternalApi) -> Loader | None:
    """Loads every storefront from identity's `/internal/storefronts` with the service credential;
    None where no identity is configured (a service alone, in its tests): the fallback serves."""
    if "identity" not in internal.settings.service_urls:
        return None

    async def load() -> list[Storefront]:
        response = await internal.call("identity", "GET", "/internal/storefronts", retries=0)
        response.raise_for_status()
        return [Storefront.model_validate(item) for item in response.json()["storefronts"]]

    return load


async def _current_storefront(request: Request) -> Storefront:
    directory = app_state(request.app, "storefronts", StorefrontDirectory)
    return await directory.get(request.headers.get(STOREFRONT_HEADER))


# The storefront of this request (the slug the gateway resolved; the default without one).
CurrentStorefront = Annotated[Storefront, Depends(_current_storefront)]


async def _caller_locale(request: Request, storefront: CurrentStorefront) -> str:
    return storefront.locale_for(request.query_params.get("locale"), request.headers.get("accept-language"))


# The caller's language on this request's storefront: `?locale=`, then `Accept-Language`, else its
# default (`Storefront.locale_for`; docs/api.md#languages).
CallerLocale = Annotated[str, Depends(_caller_locale)]
