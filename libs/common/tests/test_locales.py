"""The language of a request (`atelier_common.locales`, `Storefront.locale_for`): `?locale=` first,
then `Accept-Language` by weight (a region finds its language), else the default; a storefront
without languages answers its default and keys its cached answers as before."""

from __future__ import annotations

import pytest

from atelier_common.contracts.identity import Storefront
from atelier_common.locales import accepted, normalize, query_locale

COMICS = Storefront(slug="comics", name="Comics", frontend_url="https://comics.example", locales=["en", "ka"],
                    default_locale="en", revision=1)
PLAIN = Storefront(slug="plain", name="Plain", frontend_url="https://plain.example", revision=1)


@pytest.mark.parametrize(("requested", "header", "chosen"), [
    ("ka", "en", "ka"),                          # the query wins
    ("KA", None, "ka"),                          # in any case
    ("ka-GE", None, "ka"),                       # a region finds its language
    ("fr", "ka", "ka"),                          # a language not shown: as if not asked
    (None, "ka-GE,ka;q=0.9,en;q=0.8", "ka"),
    (None, "de, en;q=0.5, ka;q=0.2", "en"),      # by weight, the first one shown
    (None, "ka;q=0, en", "en"),                  # q=0: not acceptable
    (None, "fr, *", "en"),                       # none shown: the default
    (None, "", "en"),
    (None, None, "en"),
])
def test_negotiation(requested: str | None, header: str | None, chosen: str) -> None:
    assert COMICS.locale_for(requested, header) == chosen
    assert COMICS.locale_for(requested, None if header is None else header.encode()) == chosen
    assert COMICS.cache_locale(requested, header) == chosen


def test_a_storefront_without_languages_answers_its_default_and_keys_nothing() -> None:
    assert PLAIN.locale_for("ka", "ka") == "en"
    assert PLAIN.cache_locale("ka", "ka") == ""
    assert PLAIN.languages == ["en"] and COMICS.languages == ["en", "ka"]


def test_a_changed_storefront_negotiates_afresh() -> None:
    assert COMICS.locale_for(None, "de, ka") == "ka"
    changed = COMICS.model_copy(update={"locales": ["en", "de", "ka"], "revision": 2})
    assert changed.locale_for(None, "de, ka") == "de"


def test_the_pieces() -> None:
    assert accepted("en;q=0.5, ka-GE, de;q=0.7, *;q=0.1, fr;q=0") == ["ka-GE", "de", "en"]
    assert [normalize(tag) for tag in ("EN_gb", "sr-latn", "ka", "english", "k", "")] == [
        "en-GB", "sr-Latn", "ka", None, None, None]
    assert query_locale(b"search=fox&locale=ka") == "ka"
    assert query_locale(b"search=fox") is None
    assert query_locale(b"xlocale=ka") is None
