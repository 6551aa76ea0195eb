"""Public product browsing: listing, filters, search, ordering, pagination, detail."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.statements import statements

from ..conftest import Catalog, assert_error

CANONICAL = {"id", "name", "slug", "sku", "description", "price", "compare_price", "currency", "stock_quantity",
             "in_stock", "track_inventory", "kind", "attributes", "category_id", "is_active", "is_featured",
             "images", "variants"}


async def listing(harness: ServiceHarness, query: str = "", path: str = "/api/v1/products") -> dict[str, Any]:
    response = await harness.client.get(f"{path}?{query}" if query else path)
    assert response.status_code == 200, response.text
    return response.json()


def skus(page: dict[str, Any]) -> list[str]:
    return [p["sku"] for p in page["results"]]


class TestListProducts:
    async def test_products_use_the_canonical_fields_and_money_strings(self, harness, catalog: Catalog) -> None:
        await catalog.product(sku="CARR-1", price=85.5, compare_price="99.00")
        page = await listing(harness)
        product = page["results"][0]
        assert set(product) >= CANONICAL
        assert (product["price"], product["compare_price"], product["currency"]) == ("85.50", "99.00", "USD")
        assert product["discount_percentage"] == 14 and product["in_stock"] is True

    async def test_pagination_with_limit_and_offset(self, harness, catalog: Catalog) -> None:
        for _ in range(5):
            await catalog.product()
        page = await listing(harness, "limit=2&offset=2")
        assert set(page) == {"count", "next", "previous", "results"}
        assert page["count"] == 5 and len(page["results"]) == 2
        assert "limit=2" in page["next"] and "offset=4" in page["next"]
        assert "offset=0" in page["previous"]
        last = await listing(harness, "limit=2&offset=4")
        assert len(last["results"]) == 1 and last["next"] is None

    async def test_pagination_with_page_and_page_size_matches_limit_offset(self, harness, catalog: Catalog) -> None:
        for _ in range(5):
            await catalog.product()
        by_page = await listing(harness, "page=2&page_size=2")
        by_offset = await listing(harness, "limit=2&offset=2")
        assert skus(by_page) == skus(by_offset) and by_page["count"] == 5
        first = await listing(harness, "page=1&page_size=2")
        assert first["previous"] is None and first["next"] is not None

    async def test_page_size_over_100_is_refused(self, harness) -> None:
        assert_error(await harness.client.get("/api/v1/products?page_size=101"), 400, "VALIDATION_ERROR")

    async def test_descending_price_holds_across_pages_without_gaps_or_repeats(self, harness, catalog: Catalog) -> None:
        prices = ["5.00", "12.50", "12.50", "99.99", "0.99", "12.50", "40.00"]
        for price in prices:
            await catalog.product(price=price)
        seen: list[dict[str, Any]] = []
        for offset in range(0, 9, 3):
            seen += (await listing(harness, f"ordering=-price&limit=3&offset={offset}"))["results"]
        assert [p["price"] for p in seen] == sorted(prices, key=float, reverse=True)
        assert len({p["id"] for p in seen}) == len(prices)
        # ties are broken by id, so the same request always gives the same pages
        again = (await listing(harness, "ordering=-price&limit=3&offset=0"))["results"]
        assert [p["id"] for p in again] == [p["id"] for p in seen[:3]]

    async def test_ordering_by_name_stock_and_created_at(self, harness, catalog: Catalog) -> None:
        await catalog.product(name="Beta", stock_quantity=3)
        await catalog.product(name="Alpha", stock_quantity=9)
        await catalog.product(name="Gamma", stock_quantity=1)
        names = lambda page: [p["name"] for p in page["results"]]  # noqa: E731
        assert names(await listing(harness, "ordering=name")) == ["Alpha", "Beta", "Gamma"]
        assert names(await listing(harness, "ordering=-stock_quantity")) == ["Alpha", "Beta", "Gamma"]
        assert names(await listing(harness, "ordering=created_at")) == ["Beta", "Alpha", "Gamma"]
        assert names(await listing(harness)) == ["Gamma", "Alpha", "Beta"]  # newest first by default
        assert len((await listing(harness, "ordering=-rating"))["results"]) == 3

    async def test_unknown_ordering_is_a_validation_error(self, harness) -> None:
        error = assert_error(await harness.client.get("/api/v1/products?ordering=-cost"), 400, "VALIDATION_ERROR")
        assert "ordering" in error["details"]["fields"]

    async def test_price_range(self, harness, catalog: Catalog) -> None:
        for sku, price in (("P-40", "40.00"), ("P-50", "50.00"), ("P-75", "75.50"), ("P-100", "100.00"),
                           ("P-101", "100.01")):
            await catalog.product(sku=sku, price=price)
        page = await listing(harness, "min_price=50&max_price=100&ordering=price")
        assert skus(page) == ["P-50", "P-75", "P-100"]

    async def test_in_stock_counts_untracked_digital_offers_as_available(self, harness, catalog: Catalog) -> None:
        await catalog.product(sku="FULL", stock_quantity=4)
        await catalog.product(sku="EMPTY", stock_quantity=0)
        await catalog.product(sku="PACK", stock_quantity=0, kind="credit_pack", attributes={"credits": 5})
        assert sorted(skus(await listing(harness, "in_stock=true"))) == ["FULL", "PACK"]
        out = await listing(harness, "in_stock=false")
        assert skus(out) == ["EMPTY"] and out["results"][0]["in_stock"] is False

    async def test_featured_and_kind_filters(self, harness, catalog: Catalog) -> None:
        await catalog.product(sku="STAR", is_featured=True)
        await catalog.product(sku="PLAIN")
        await catalog.product(sku="RETRY", kind="retry_pack", attributes={"retries": 3})
        assert skus(await listing(harness, "featured=true")) == ["STAR"]
        assert sorted(skus(await listing(harness, "featured=false"))) == ["PLAIN", "RETRY"]
        assert skus(await listing(harness, "kind=retry_pack")) == ["RETRY"]
        assert_error(await harness.client.get("/api/v1/products?kind=voucher"), 400, "VALIDATION_ERROR")

    async def test_category_filter_includes_products_of_descendant_categories(self, harness,
                                                                              catalog: Catalog) -> None:
        stone = await catalog.category(name="Natural Stone")
        marble = await catalog.category(name="Marble", parent_id=stone["id"])
        italian = await catalog.category(name="Italian Marble", parent_id=marble["id"])
        tools = await catalog.category(name="Tools")
        await catalog.product(sku="IN-STONE", category_id=stone["id"])
        await catalog.product(sku="IN-MARBLE", category_id=marble["id"])
        await catalog.product(sku="IN-ITALIAN", category_id=italian["id"])
        await catalog.product(sku="IN-TOOLS", category_id=tools["id"])
        await catalog.product(sku="NO-CATEGORY")
        by_slug = await listing(harness, "category=natural-stone&ordering=name")
        assert sorted(skus(by_slug)) == ["IN-ITALIAN", "IN-MARBLE", "IN-STONE"]
        by_id = await listing(harness, f"category={marble['id']}")
        assert sorted(skus(by_id)) == ["IN-ITALIAN", "IN-MARBLE"]
        assert (await listing(harness, "category=no-such-category"))["count"] == 0

    async def test_inactive_products_never_appear(self, harness, catalog: Catalog, staff) -> None:
        stone = await catalog.category(name="Stone")
        hidden = await catalog.product(sku="HIDDEN-1", name="Hidden onyx", category_id=stone["id"])
        await catalog.product(sku="SHOWN-1", name="Shown onyx", category_id=stone["id"])
        await catalog.deactivate_product(hidden["id"])
        for query in ("", "search=onyx", "category=stone", "in_stock=true", "include_inactive=true"):
            assert skus(await listing(harness, query)) == ["SHOWN-1"], query
        assert (await listing(harness, "search=hidden-1"))["count"] == 0
        assert skus(await listing(harness, path="/api/v1/categories/stone/products")) == ["SHOWN-1"]
        tree = (await listing(harness, path="/api/v1/categories"))["results"]
        assert tree[0]["product_count"] == 1

    async def test_products_under_an_inactive_category_never_appear(self, harness, catalog: Catalog, staff) -> None:
        stone = await catalog.category(name="Stone")
        marble = await catalog.category(name="Marble", parent_id=stone["id"])
        under_child = await catalog.product(sku="UNDER-MARBLE", name="Onyx under marble", category_id=marble["id"])
        await catalog.product(sku="UNDER-STONE", name="Onyx under stone", category_id=stone["id"])
        await catalog.product(sku="NO-CATEGORY", name="Onyx on its own")
        response = await harness.client.patch(f"/api/v1/categories/{stone['id']}", headers=staff,
                                              json={"is_active": False})
        assert response.status_code == 200, response.text
        for query in ("", "search=onyx", "ordering=-price", "in_stock=true"):
            assert skus(await listing(harness, query)) == ["NO-CATEGORY"], query
        assert (await harness.client.get(f"/api/v1/products/{under_child['slug']}")).status_code == 404
        staff_view = await harness.client.get("/api/v1/products?include_inactive=true", headers=staff)
        assert len(staff_view.json()["results"]) == 3

    async def test_staff_may_ask_to_see_inactive_products(self, harness, catalog: Catalog, staff,
                                                          test_keys: TestKeys) -> None:
        hidden = await catalog.product(sku="HIDDEN-2")
        await catalog.deactivate_product(hidden["id"])
        response = await harness.client.get("/api/v1/products?include_inactive=true", headers=staff)
        assert [p["sku"] for p in response.json()["results"]] == ["HIDDEN-2"]
        customer = await harness.client.get("/api/v1/products?include_inactive=true",
                                            headers=test_keys.user_headers())
        assert customer.json()["count"] == 0


    async def test_the_number_of_queries_does_not_grow_with_the_page(self, harness, catalog: Catalog,
                                                                     staff) -> None:
        async def add(n: int) -> None:
            for _ in range(n):
                product = await catalog.product()
                await harness.client.post(f"/api/v1/products/{product['id']}/images", headers=staff,
                                          json={"url": "/media/x.jpg"})
                await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                                          json={"name": "V", "sku": f"{product['sku']}-V"})

        async def statements_for_one_listing() -> int:
            await harness.drain()  # the products' events published and marked: not counted below
            with statements(harness.runtime.db, "one listing of 50") as seen:
                page = await listing(harness, "limit=50")
            assert all(p["images"] and p["variants"] for p in page["results"])
            return len(seen)

        await add(2)
        few = await statements_for_one_listing()
        await add(6)
        assert await statements_for_one_listing() == few


class TestSearchProducts:
    async def test_a_name_match_ranks_above_a_description_match(self, harness, catalog: Catalog) -> None:
        # Created first and priced higher, so no default ordering could put the name match first.
        await catalog.product(sku="DESC", name="Travertine Paver", price="90.00",
                              description="Pairs well with an onyx border.")
        await catalog.product(sku="NAME", name="Honey Onyx Slab", price="10.00", description="Translucent stone.")
        await catalog.product(sku="NONE", name="Granite Tile", description="Speckled grey.")
        page = await listing(harness, "search=onyx")
        assert skus(page) == ["NAME", "DESC"] and page["count"] == 2

    async def test_search_is_case_insensitive_and_matches_word_beginnings(self, harness, catalog: Catalog) -> None:
        await catalog.product(sku="CARR", name="Carrara White Marble Slab")
        await catalog.product(sku="NERO", name="Nero Marquina Tile")
        assert skus(await listing(harness, "search=CARRARA")) == ["CARR"]
        assert skus(await listing(harness, "search=carr")) == ["CARR"]
        assert skus(await listing(harness, "search=white%20marble")) == ["CARR"]
        assert skus(await listing(harness, "search=marble%20nero")) == []

    async def test_search_finds_skus_ignoring_case(self, harness, catalog: Catalog) -> None:
        await catalog.product(sku="ABS-BLACK-001", name="Absolute Black Granite")
        await catalog.product(sku="KASH-WHITE-001", name="Kashmir White")
        assert skus(await listing(harness, "search=abs-black-001")) == ["ABS-BLACK-001"]
        assert skus(await listing(harness, "search=white-001")) == ["KASH-WHITE-001"]

    async def test_an_exact_sku_ranks_first(self, harness, catalog: Catalog) -> None:
        await catalog.product(sku="SEAL-2", name="Sealer for seal-1 users")
        await catalog.product(sku="SEAL-1", name="Stone Sealer")
        assert skus(await listing(harness, "search=seal-1"))[0] == "SEAL-1"

    async def test_search_combines_with_filters_and_explicit_ordering(self, harness, catalog: Catalog) -> None:
        await catalog.product(sku="M-CHEAP", name="Marble Tile", price="5.00")
        await catalog.product(sku="M-DEAR", name="Marble Slab", price="500.00")
        await catalog.product(sku="M-MID", name="Tile", description="marble look", price="50.00")
        assert skus(await listing(harness, "search=marble&ordering=-price")) == ["M-DEAR", "M-MID", "M-CHEAP"]
        assert skus(await listing(harness, "search=marble&max_price=60&ordering=price")) == ["M-CHEAP", "M-MID"]

    async def test_punctuation_only_search_finds_nothing_rather_than_failing(self, harness, catalog) -> None:
        await catalog.product(sku="X-1")
        assert (await listing(harness, "search=%26%7C%21%3A*"))["count"] == 0


class TestGetProduct:
    @pytest.fixture
    async def carrara(self, harness, catalog: Catalog, staff) -> dict[str, Any]:
        product = await catalog.product(name="Carrara White", sku="CARR-W", price="85.50", compare_price="99.00",
                                        attributes={"origin": "Italy"})
        for url, order in (("/media/c-3.jpg", 3), ("/media/c-1.jpg", 1), ("https://cdn.example/c-2.jpg", 2)):
            response = await harness.client.post(f"/api/v1/products/{product['id']}/images",
                                                 json={"url": url, "display_order": order}, headers=staff)
            assert response.status_code == 201, response.text
        for body in ({"name": "2 cm", "sku": "CARR-W-2"}, {"name": "3 cm", "sku": "CARR-W-3", "price": "97.00"},
                     {"name": "Old", "sku": "CARR-W-OLD"}):
            response = await harness.client.post(f"/api/v1/products/{product['id']}/variants", json=body,
                                                 headers=staff)
            assert response.status_code == 201, response.text
        old = response.json()["id"]
        response = await harness.client.delete(f"/api/v1/products/{product['id']}/variants/{old}", headers=staff)
        assert response.status_code == 204
        return product

    async def test_detail_by_id_and_by_slug_is_the_same_product(self, harness, carrara) -> None:
        by_id = await harness.client.get(f"/api/v1/products/{carrara['id']}")
        by_slug = await harness.client.get("/api/v1/products/carrara-white")
        assert by_id.status_code == by_slug.status_code == 200
        assert by_id.json() == by_slug.json()
        # the gateway's clients are Django-style: a trailing slash is answered, not redirected
        assert (await harness.client.get("/api/v1/products/carrara-white/")).json() == by_slug.json()

    async def test_detail_has_images_in_display_order_and_active_variants(self, harness, carrara) -> None:
        product = (await harness.client.get("/api/v1/products/carrara-white")).json()
        assert CANONICAL | {"average_rating", "review_count", "discount_percentage"} <= set(product)
        assert [i["url"] for i in product["images"]] == [
            "/media/c-1.jpg", "https://cdn.example/c-2.jpg", "/media/c-3.jpg"]
        assert [i["is_primary"] for i in product["images"]] == [False, False, True]  # the first one added
        assert [(v["sku"], v["price"]) for v in product["variants"]] == [("CARR-W-2", "85.50"),
                                                                          ("CARR-W-3", "97.00")]
        assert set(product["variants"][0]) >= {"id", "name", "sku", "price", "stock_quantity", "attributes"}
        assert (product["in_stock"], product["average_rating"], product["review_count"],
                product["discount_percentage"]) == (True, 0.0, 0, 14)

    @pytest.mark.parametrize("ref", ["3f6b1c2e-8d4a-4e59-9b7c-1a2d3e4f5a6b", "no-such-product", "%25%25", "12345",
                                     "00000000-0000-0000-0000-00000000000g"])
    async def test_unknown_and_garbage_references_are_404_in_the_error_format(self, harness, ref) -> None:
        error = assert_error(await harness.client.get(f"/api/v1/products/{ref}"), 404, "NOT_FOUND")
        assert error["message"] == "Product not found"

    async def test_inactive_product_is_404_except_for_staff_who_ask(self, harness, catalog: Catalog, staff) -> None:
        product = await catalog.product(sku="GONE")
        await catalog.deactivate_product(product["id"])
        assert_error(await harness.client.get(f"/api/v1/products/{product['id']}"), 404, "NOT_FOUND")
        assert_error(await harness.client.get(f"/api/v1/products/{product['slug']}?include_inactive=true"),
                     404, "NOT_FOUND")
        response = await harness.client.get(f"/api/v1/products/{product['id']}?include_inactive=true",
                                            headers=staff)
        assert response.status_code == 200 and response.json()["is_active"] is False

    async def test_wrong_method_is_405_in_the_error_format(self, harness) -> None:
        assert_error(await harness.client.post("/api/v1/pricing"), 405, "METHOD_NOT_ALLOWED")
