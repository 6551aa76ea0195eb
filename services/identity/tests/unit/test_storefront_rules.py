"""Storefronts' pure rules: origins, relying parties, link paths, currencies, revisions."""

from __future__ import annotations

import pytest

from atelier_identity import storefronts
from atelier_identity.currencies import ISO_4217_CURRENCIES
from atelier_identity.demo import DEMO_STOREFRONTS


class TestOrigins:
    @pytest.mark.parametrize(("given", "normalised"), [
        ("https://Shop.Example", "https://shop.example"), ("https://shop.example/", "https://shop.example"),
        ("HTTP://shop.example:80", "http://shop.example"), ("https://shop.example:443", "https://shop.example"),
        ("http://localhost:3101", "http://localhost:3101"), ("https://shop.example:8443/", "https://shop.example:8443"),
        ("http://[::1]:3000", "http://[::1]:3000"), (" http://127.0.0.1 ", "http://127.0.0.1"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ])
    def test_an_origin_is_normalised_as_browsers_send_it(self, given: str, normalised: str) -> None:
        assert storefronts.normalise_origin(given) == normalised

    @pytest.mark.parametrize("bad", [
        "shop.example", "//shop.example", "ftp://shop.example", "https://shop.example/path", "https://shop.example?",
        "https://shop.example#", "https://a:b@shop.example", "https://shop.example:0x50", "https://shop.example:70000",
        "https://", "https://-shop.example", "https://shop..example", "https://bücher.example", "https://shop .example",
    ])
    def test_anything_but_scheme_host_port_is_refused(self, bad: str) -> None:
        with pytest.raises(ValueError):
            storefronts.normalise_origin(bad)


class TestRelyingParty:
    @pytest.mark.parametrize(("rp_id", "host", "covers"), [
        ("shop.example", "shop.example", True), ("shop.example", "www.shop.example", True),
        ("localhost", "localhost", True), ("127.0.0.1", "127.0.0.1", True),
        ("example", "shop.example", False),  # a top-level name is not registrable
        ("op.example", "shop.example", False), ("shop.example", "example", False),
        ("0.0.1", "127.0.0.1", False), ("other.example", "shop.example", False),
    ])
    def test_the_rp_id_is_the_host_or_a_registrable_parent(self, rp_id: str, host: str, covers: bool) -> None:
        assert storefronts.rp_id_covers(rp_id, host) is covers


class TestLinkPaths:
    @pytest.mark.parametrize("good", ["/verify?token={token}", "/m/{code}?e={email}", "/orders/{order_id}", "/"])
    def test_known_placeholders_pass(self, good: str) -> None:
        assert storefronts.check_link_path(good) == good

    @pytest.mark.parametrize("bad", ["verify?token={token}", "/o/{id}", "/o/{order_id", "/o/order_id}", "/a b",
                                     "/{{token}}", "https://evil.example/{token}"])
    def test_anything_else_is_refused(self, bad: str) -> None:
        with pytest.raises(ValueError):
            storefronts.check_link_path(bad)


def test_currencies_are_the_iso_4217_list() -> None:
    assert {"USD", "EUR", "GEL", "JPY", "KWD", "GBP", "XCG"} <= ISO_4217_CURRENCIES
    assert not {"XXQ", "XAU", "XXX", "XTS", "HRK", "EURO"} & ISO_4217_CURRENCIES
    assert all(len(code) == 3 and code.isupper() for code in ISO_4217_CURRENCIES)


def test_a_revision_always_grows_even_when_the_clock_steps_back() -> None:
    now = storefronts.next_revision(0)
    assert storefronts.next_revision(now) > now
    assert storefronts.next_revision(10**18) == 10**18 + 1


def test_the_demo_storefronts_follow_the_rules() -> None:
    slugs = [s.slug for s in DEMO_STOREFRONTS]
    assert slugs == ["storybook", "marbelle", "reviv", "shop", "figureforge"]
    assert len({origin for s in DEMO_STOREFRONTS for origin in s.origins}) == 5
    assert all(not s.is_default for s in DEMO_STOREFRONTS)
