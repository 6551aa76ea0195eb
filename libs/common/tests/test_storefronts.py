"""Every process's copy of the storefronts: changes apply by revision in any order, loads from the
owner fill and prune it, and a request's storefront is the default without a slug."""

from __future__ import annotations

import asyncio

import pytest

from atelier_common.contracts.identity import Storefront, StorefrontChanged, StorefrontDeleted
from atelier_common.errors import ServiceUnavailable
from atelier_common.events import Envelope
from atelier_common.events.memory import InMemoryBus
from atelier_common.storefronts import StorefrontDirectory, UnknownStorefront, subscribe_storefronts
from atelier_testing import poll_until


def store(slug: str, revision: int = 1, **values) -> Storefront:
    return Storefront(slug=slug, name=slug.upper(), frontend_url=f"https://{slug}.example", revision=revision,
                      **values)


FALLBACK = store("default", 0, is_default=True)


class Owner:
    """identity's answer to `GET /internal/storefronts`, changeable by the test; or down."""

    def __init__(self, *storefronts: Storefront) -> None:
        self.storefronts = list(storefronts)
        self.down = False
        self.calls = 0

    async def __call__(self) -> list[Storefront]:
        self.calls += 1
        if self.down:
            raise ConnectionError("identity is down")
        return list(self.storefronts)


class TestChanges:
    def test_a_newer_revision_wins_whatever_the_order(self) -> None:
        directory = StorefrontDirectory(FALLBACK)
        assert directory.apply(store("b", 3, currency="EUR"))
        assert not directory.apply(store("b", 2, currency="GEL"))  # late, older
        assert directory.known("b").currency == "EUR"
        assert directory.apply(store("b", 4, currency="GEL"))
        assert directory.known("b").currency == "GEL"

    def test_the_default_built_from_settings_follows_identitys_settings(self) -> None:
        directory = StorefrontDirectory(FALLBACK)
        directory.apply(store("default", 0, is_default=True, currency="USD"))
        assert directory.apply(store("default", 0, is_default=True, currency="GEL"))
        assert directory.default.currency == "GEL"

    def test_a_deletion_is_not_undone_by_an_older_change(self) -> None:
        directory = StorefrontDirectory(FALLBACK)
        directory.apply(store("b", 3))
        assert directory.remove("b", 5)
        assert not directory.apply(store("b", 4))
        assert directory.known("b") is None
        assert directory.apply(store("b", 6))  # created again later

    def test_one_default(self) -> None:
        directory = StorefrontDirectory(FALLBACK)
        assert directory.default.slug == "default"
        directory.apply(store("default", 1, is_default=True))
        directory.apply(store("b", 2, is_default=True))
        assert directory.default.slug == "b"
        assert not directory.known("default").is_default
        assert directory.all()[0].slug == "b"


class TestLoads:
    async def test_the_first_request_loads_and_an_unknown_slug_asks_again(self) -> None:
        owner = Owner(store("default", 1, is_default=True, currency="GEL"))
        directory = StorefrontDirectory(FALLBACK, owner)
        assert (await directory.get(None)).currency == "GEL"
        owner.storefronts.append(store("b", 2))
        assert (await directory.get("b")).slug == "b"  # created a moment ago: asked once more
        with pytest.raises(UnknownStorefront):
            await directory.get("nope")
        assert (await directory.get("b")).slug == "b"

    async def test_a_load_prunes_what_the_last_load_had_but_not_what_an_event_brought(self) -> None:
        owner = Owner(store("b", 1), store("c", 1))
        directory = StorefrontDirectory(FALLBACK, owner)
        await directory.load()
        directory.apply(store("d", 7))  # heard by its event; the next load was already on its way
        owner.storefronts = [store("b", 1)]
        directory._tried_at = None  # the next load may start at once
        await directory.load()
        assert directory.known("c") is None  # its deletion event was missed: the load drops it
        assert directory.known("d") is not None and directory.known("b") is not None

    async def test_identity_down_the_fallback_serves_and_it_is_not_asked_on_every_request(self) -> None:
        owner = Owner()
        owner.down = True
        directory = StorefrontDirectory(FALLBACK, owner, retry_seconds=60, first_retry_seconds=60)
        for _ in range(5):
            assert (await directory.get(None)) == FALLBACK
        assert owner.calls == 1
        with pytest.raises(ServiceUnavailable):  # never loaded: it cannot tell "unknown" from "not yet"
            await directory.get("b")
        assert owner.calls == 1

    async def test_concurrent_requests_share_one_load(self) -> None:
        gate = asyncio.Event()
        calls = 0

        async def slow() -> list[Storefront]:
            nonlocal calls
            calls += 1
            await gate.wait()
            return [store("b", 1)]

        directory = StorefrontDirectory(FALLBACK, slow)
        waiting = [asyncio.ensure_future(directory.get("b")) for _ in range(10)]
        await asyncio.sleep(0)
        gate.set()
        assert {s.slug for s in await asyncio.gather(*waiting)} == {"b"}
        assert calls == 1


async def test_a_process_that_starts_before_identity_loads_once_identity_answers() -> None:
    owner = Owner(store("b", 1))
    owner.down = True
    directory = StorefrontDirectory(FALLBACK, owner, first_retry_seconds=0.01)
    directory.load_soon()
    async def retried() -> bool:
        return owner.calls >= 2

    async def loaded() -> bool:
        return directory.known("b") is not None

    try:
        await poll_until(retried, message="retried while identity is down")
        assert directory.known("b") is None
        owner.down = False
        await poll_until(loaded, message="loaded once identity answers")
        calls = owner.calls
        assert (await directory.get("b")).slug == "b" and owner.calls == calls  # no more retries
    finally:
        await directory.close()


async def test_the_events_keep_a_copy_current() -> None:
    bus = InMemoryBus()
    directory = StorefrontDirectory(FALLBACK)
    subscribe_storefronts(bus, "things-storefronts", directory)
    await bus.start()
    try:
        await bus.publish([Envelope.wrap(StorefrontChanged(storefront=store("b", 2)), producer="identity")])
        await bus.drain()
        assert directory.known("b") is not None
        await bus.publish([Envelope.wrap(StorefrontDeleted(slug="b", revision=3), producer="identity")])
        await bus.drain()
        assert directory.known("b") is None
    finally:
        await bus.stop()


def test_links_are_the_storefronts_pages_with_the_values_encoded() -> None:
    b = store("b", link_paths={"reset_password": "/password-reset?token={token}",
                               "verify_email": "/auth/verify?token={token}&code={code}"})
    assert b.link("reset_password", token="a b/c") == "https://b.example/password-reset?token=a%20b%2Fc"
    assert b.link("verify_email", token="t", code="123") == "https://b.example/auth/verify?token=t&code=123"
    assert b.link("magic_link", token="t", email="a@b.c") == "https://b.example/magic-link?token=t&email=a%40b.c"
    assert b.link("set_password", token="t") == "https://b.example/password-reset?token=t"


def test_what_a_storefront_offers() -> None:
    b = store("b", sells=["physical"])
    assert b.offers("physical", []) and b.offers("physical", ["a", "b"])
    assert not b.offers("physical", ["a"]) and not b.offers("credit_pack", [])
