"""Translations: staff keep a product's, a variant's and a category's texts per locale (validated
against the storefronts' languages), and every public read answers in the caller's language
(`?locale=`, then `Accept-Language`, else the storefront's default), field by field falling back
to the default text; a search in a language matches its translations too (on SQLite and, with
ATELIER_TEST_POSTGRES_URL, PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_common.cache import PUBLIC_AUDIENCE, entry_key
from atelier_testing import ServiceHarness
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import Catalog, assert_error

COMICS, PLAIN = on_storefront("comics"), on_storefront("plain")
FOX_KA = "მელია თოვლში"
FOX_KA_TEXT = "ჟიკლე ბეჭდვა ქაღალდზე"


@pytest.fixture
def storefronts(harness: ServiceHarness) -> None:
    """`comics` shows English (its default) and Georgian; `plain` English only."""
    add_storefront(harness.app, make_storefront("comics", currency="USD", locales=["en", "ka"], default_locale="en"))
    add_storefront(harness.app, make_storefront("plain", currency="USD"))


async def fox(catalog: Catalog, **fields: Any) -> dict[str, Any]:
    return await catalog.product(name="Fox in Snow print", description="Giclée print on paper", sku="FOX-1",
                                 **fields)


async def put(harness: ServiceHarness, staff: dict[str, str], path: str, body: dict[str, Any],
              status: int = 200) -> dict[str, Any]:
    response = await harness.client.put(path, json=body, headers=staff)
    assert response.status_code == status, response.text
    return response.json()


async def read(harness: ServiceHarness, path: str, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
    response = await harness.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["content-language"]


@pytest.mark.usefixtures("storefronts")
class TestNegotiation:
    async def test_the_query_wins_then_accept_language_then_the_default(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        await put(harness, staff, f"/api/v1/products/{product['id']}/translations/ka",
                  {"name": FOX_KA, "description": FOX_KA_TEXT})
        path = f"/api/v1/products/{product['id']}"

        body, language = await read(harness, f"{path}?locale=ka", {**COMICS, "Accept-Language": "en"})
        assert (body["name"], body["description"], language) == (FOX_KA, FOX_KA_TEXT, "ka")
        body, language = await read(harness, path, {**COMICS, "Accept-Language": "ka-GE,ka;q=0.9,en;q=0.8"})
        assert (body["name"], language) == (FOX_KA, "ka")
        body, language = await read(harness, path, {**COMICS, "Accept-Language": "de, en;q=0.5, ka;q=0.2"})
        assert (body["name"], language) == ("Fox in Snow print", "en")
        body, language = await read(harness, path, {**COMICS, "Accept-Language": "fr"})
        assert (body["name"], language) == ("Fox in Snow print", "en")
        # A locale the storefront does not show is as if not asked for.
        body, language = await read(harness, f"{path}?locale=fr", {**COMICS, "Accept-Language": "ka"})
        assert (body["name"], language) == (FOX_KA, "ka")

    async def test_a_single_language_storefront_answers_in_its_default_whatever_is_asked(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        await put(harness, staff, f"/api/v1/products/{product['id']}/translations/ka", {"name": FOX_KA})
        body, language = await read(harness, f"/api/v1/products/{product['id']}?locale=ka",
                                    {**PLAIN, "Accept-Language": "ka"})
        assert (body["name"], language) == ("Fox in Snow print", "en")

    @pytest.mark.databases("sqlite", "postgres", why="PostgreSQL builds a product's view (variants as JSON) in SQL")
    async def test_each_field_falls_back_to_the_default_text(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        big = await catalog.variant(product, "Big")
        small = await catalog.variant(product, "Small")
        await put(harness, staff, f"/api/v1/products/{product['id']}/translations/ka", {"name": FOX_KA})
        await put(harness, staff, f"/api/v1/products/{product['id']}/variants/{big['id']}/translations/ka",
                  {"name": "დიდი"})
        body, _ = await read(harness, f"/api/v1/products/{product['id']}?locale=ka", COMICS)
        assert (body["name"], body["description"]) == (FOX_KA, "Giclée print on paper")
        assert {v["sku"]: v["name"] for v in body["variants"]} == {big["sku"]: "დიდი", small["sku"]: "Small"}
        listed, language = await read(harness, "/api/v1/products?locale=ka", COMICS)
        assert ([p["name"] for p in listed["results"]], language) == ([FOX_KA], "ka")

    async def test_categories_are_read_in_the_callers_language(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        parent = await catalog.category(name="Prints")
        child = await catalog.category(name="Animals", parent_id=parent["id"])
        await put(harness, staff, f"/api/v1/categories/{child['id']}/translations/ka", {"name": "ცხოველები"})
        tree, language = await read(harness, "/api/v1/categories", {**COMICS, "Accept-Language": "ka"})
        assert language == "ka"
        assert [(c["name"], [k["name"] for k in c["children"]]) for c in tree["results"]] == [
            ("Prints", ["ცხოველები"])]
        one, _ = await read(harness, f"/api/v1/categories/{child['slug']}?locale=ka", COMICS)
        assert one["name"] == "ცხოველები"

    async def test_each_language_has_its_own_cached_entry(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        await put(harness, staff, f"/api/v1/products/{product['id']}/translations/ka", {"name": FOX_KA})
        path = f"/api/v1/products/{product['id']}"
        first, _ = await read(harness, path, {**COMICS, "Accept-Language": "ka"})
        second, language = await read(harness, path, {**COMICS, "Accept-Language": "en"})
        assert (first["name"], second["name"], language) == (FOX_KA, "Fox in Snow print", "en")
        # Served again from the store, each language still gets its own answer.
        assert (await read(harness, path, {**COMICS, "Accept-Language": "ka"}))[0]["name"] == FOX_KA
        store = harness.runtime.cache
        host = harness.client.base_url.host.encode()
        for locale in ("ka", "en"):
            assert await store.get(entry_key("http", host, path, b"", PUBLIC_AUDIENCE, b"comics", locale)) is not None
        # A single-language storefront's key is as it always was.
        await read(harness, path, PLAIN)
        assert await store.get(entry_key("http", host, path, b"", PUBLIC_AUDIENCE, b"plain")) is not None

    async def test_a_translation_written_drops_the_cached_answers(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        path = f"/api/v1/products/{product['id']}?locale=ka"
        assert (await read(harness, path, COMICS))[0]["name"] == "Fox in Snow print"
        await put(harness, staff, f"/api/v1/products/{product['id']}/translations/ka", {"name": FOX_KA})
        assert (await read(harness, path, COMICS))[0]["name"] == FOX_KA


@pytest.mark.usefixtures("storefronts")
class TestStaffApi:
    async def test_set_read_and_delete_a_translation(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        base = f"/api/v1/products/{product['id']}/translations"
        written = await put(harness, staff, f"{base}/ka", {"name": FOX_KA, "description": ""})
        assert (written["locale"], written["name"], written["description"]) == ("ka", FOX_KA, None)
        listed = (await harness.client.get(base, headers=staff)).json()
        assert listed["locales"] == ["ka"]
        assert [(t["locale"], t["name"]) for t in listed["results"]] == [("ka", FOX_KA)]
        assert (await harness.client.delete(f"{base}/ka", headers=staff)).status_code == 204
        assert (await harness.client.get(base, headers=staff)).json()["results"] == []
        body, _ = await read(harness, f"/api/v1/products/{product['id']}?locale=ka", COMICS)
        assert body["name"] == "Fox in Snow print"

    async def test_a_locale_none_of_its_storefronts_shows_is_422(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        only_plain = await catalog.product(name="Plain thing", storefronts=["plain"])
        everywhere = await fox(catalog)
        for path in (f"/api/v1/products/{only_plain['id']}/translations/ka",
                     f"/api/v1/products/{everywhere['id']}/translations/fr",
                     # The default language's texts are the product's own.
                     f"/api/v1/products/{everywhere['id']}/translations/en",
                     f"/api/v1/products/{everywhere['id']}/translations/not a tag"):
            response = await harness.client.put(path, json={"name": "x"}, headers=staff)
            assert_error(response, 422, "LOCALE_NOT_OFFERED")
        scoped = await catalog.product(name="Comic", storefronts=["comics"])
        await put(harness, staff, f"/api/v1/products/{scoped['id']}/translations/ka", {"name": "კომიქსი"})

    async def test_customers_may_not_write_and_unknown_records_are_404(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        response = await harness.client.put(f"/api/v1/products/{product['id']}/translations/ka", json={"name": "x"})
        assert response.status_code == 401
        response = await harness.client.put("/api/v1/products/no-such-thing/translations/ka", json={"name": "x"},
                                            headers=staff)
        assert_error(response, 404, "NOT_FOUND")
        response = await harness.client.put(
            f"/api/v1/products/{product['id']}/variants/{product['id']}/translations/ka", json={"name": "x"},
            headers=staff)
        assert_error(response, 404, "NOT_FOUND")


@pytest.mark.usefixtures("storefronts")
@pytest.mark.databases("sqlite", "postgres", why="PostgreSQL searches translations with full text, SQLite with LIKE")
class TestSearch:
    async def test_a_georgian_search_finds_the_georgian_name_and_an_english_one_the_english(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        other = await catalog.product(name="Owl at night", description="Poster", sku="OWL-1")
        await put(harness, staff, f"/api/v1/products/{product['id']}/translations/ka",
                  {"name": FOX_KA, "description": FOX_KA_TEXT})
        await put(harness, staff, f"/api/v1/products/{other['id']}/translations/ka", {"name": "ბუ ღამით"})

        async def found(query: str, headers: dict[str, str]) -> list[str]:
            body, _ = await read(harness, f"/api/v1/products?search={query}", headers)
            return [p["sku"] for p in body["results"]]

        georgian = {**COMICS, "Accept-Language": "ka"}
        assert await found("მელია", georgian) == ["FOX-1"]
        assert await found("მელ", georgian) == ["FOX-1"]        # a prefix, as in English
        assert await found("ქაღალდზე", georgian) == ["FOX-1"]   # the translated description
        assert await found("fox", georgian) == ["FOX-1"]        # the default text still matches
        assert await found("fox", {**COMICS, "Accept-Language": "en"}) == ["FOX-1"]
        assert await found("მელია", {**COMICS, "Accept-Language": "en"}) == []
        assert await found("მელია", PLAIN) == []


@pytest.mark.usefixtures("storefronts")
class TestCsv:
    async def test_a_locales_translations_go_out_and_come_back_in(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product = await fox(catalog)
        big = await catalog.variant(product, "Big")
        await put(harness, staff, f"/api/v1/products/{product['id']}/translations/ka", {"name": FOX_KA})
        exported = await harness.client.get("/api/v1/products/translations.csv", params={"locale": "ka"},
                                            headers=staff)
        assert exported.status_code == 200, exported.text
        assert exported.text.splitlines() == [
            "sku,variant_sku,default_name,default_description,name,description",
            f"FOX-1,,Fox in Snow print,Giclée print on paper,{FOX_KA},",
            f"FOX-1,{big['sku']},Big,,,"]

        filled = (f"sku,variant_sku,name,description\r\nFOX-1,,{FOX_KA},{FOX_KA_TEXT}\r\n"
                  f"FOX-1,{big['sku']},დიდი,\r\nNO-SUCH,,x,\r\n")

        async def imported(dry_run: bool) -> dict[str, Any]:
            response = await harness.client.post(
                "/api/v1/products/translations/import", params={"locale": "ka", "dry_run": str(dry_run).lower()},
                files={"file": ("ka.csv", filled.encode(), "text/csv")}, headers=staff)
            assert response.status_code == 200, response.text
            return response.json()

        report = await imported(dry_run=True)
        assert [(r["line"], r["status"]) for r in report["rows"]] == [(2, "updated"), (3, "created"), (4, "error")]
        body, _ = await read(harness, f"/api/v1/products/{product['id']}?locale=ka", COMICS)
        assert body["description"] == "Giclée print on paper"  # a dry run wrote nothing
        await imported(dry_run=False)
        body, _ = await read(harness, f"/api/v1/products/{product['id']}?locale=ka", COMICS)
        assert (body["description"], body["variants"][0]["name"]) == (FOX_KA_TEXT, "დიდი")
        again = await imported(dry_run=False)
        assert [r["status"] for r in again["rows"]] == ["unchanged", "unchanged", "error"]

    async def test_a_locale_no_storefront_shows_is_an_error_on_each_row(
            self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        await fox(catalog)
        response = await harness.client.post(
            "/api/v1/products/translations/import", params={"locale": "fr", "dry_run": "false"},
            files={"file": ("fr.csv", b"sku,name\r\nFOX-1,Renard\r\n", "text/csv")}, headers=staff)
        [row] = response.json()["rows"]
        assert row["status"] == "error" and row["message"].startswith("LOCALE_NOT_OFFERED")
