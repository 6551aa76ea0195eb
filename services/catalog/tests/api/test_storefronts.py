"""Storefronts: every public read sees only what the request's storefront offers
(`Storefront.offers`: its kinds, and products scoped to it or to every storefront); staff write
the scope and read everything (or one storefront's, `?storefront=`); /internal and the event carry
it unfiltered."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import select

from atelier_catalog.models import Category, Product
from atelier_common.auth import SERVICE_HEADER
from atelier_common.contracts.identity import ALL_KINDS
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.statements import statements
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import Catalog, assert_error, product_changed_events

A, B = on_storefront("a"), on_storefront("b")
REVIEW = {"rating": 5, "title": "Lovely", "comment": "Just as pictured."}


@pytest.fixture
def storefronts(harness: ServiceHarness) -> None:
    """A sells every kind; B sells physical goods and credit packs only; both in USD (the products'
    default currency), EU in EUR."""
    add_storefront(harness.app, make_storefront("a", sells=list(ALL_KINDS), currency="USD"))
    add_storefront(harness.app, make_storefront("b", sells=["physical", "credit_pack"], currency="USD"))
    add_storefront(harness.app, make_storefront("eu", currency="EUR"))


def user(test_keys: TestKeys, storefront: dict[str, str], user_id: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {test_keys.access_token(user_id)}", **storefront}


async def skus(harness: ServiceHarness, url: str, headers: dict[str, str]) -> set[str]:
    response = await harness.client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return {p["sku"] for p in response.json()["results"]}


@pytest.mark.usefixtures("storefronts")
class TestScopedProducts:
    async def test_a_product_of_a_is_absent_from_b_everywhere_and_an_unscoped_one_is_on_both(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        stone = await catalog.category(name="Stone")
        only_a = await catalog.product(sku="ONLY-A", name="Onyx slab", storefronts=["a"], category_id=stone["id"])
        both = await catalog.product(sku="BOTH", name="Onyx tile", category_id=stone["id"])
        assert (only_a["storefronts"], both["storefronts"]) == (["a"], [])

        for url in ("/api/v1/products", "/api/v1/products?search=onyx", "/api/v1/products?search=ONLY-A",
                    f"/api/v1/products?category={stone['slug']}", f"/api/v1/categories/{stone['slug']}/products"):
            assert "ONLY-A" in await skus(harness, url, A), url
            assert "ONLY-A" not in await skus(harness, url, B), url
        assert await skus(harness, "/api/v1/products?search=onyx", B) == {"BOTH"}
        assert (await harness.client.get("/api/v1/products", headers=B)).json()["count"] == 1

        # The category tree counts what the storefront offers.
        counts = {c["slug"]: c["product_count"] for c in
                  (await harness.client.get("/api/v1/categories", headers=B)).json()["results"]}
        assert counts[stone["slug"]] == 1
        counts = {c["slug"]: c["product_count"] for c in
                  (await harness.client.get("/api/v1/categories", headers=A)).json()["results"]}
        assert counts[stone["slug"]] == 2

        for ref in (only_a["id"], only_a["slug"]):
            assert (await harness.client.get(f"/api/v1/products/{ref}", headers=A)).status_code == 200
            # Another storefront's product is exactly as unknown as one that does not exist.
            assert_error(await harness.client.get(f"/api/v1/products/{ref}", headers=B), 404, "NOT_FOUND")
        assert (await harness.client.get(f"/api/v1/products/{both['id']}", headers=B)).status_code == 200

    async def test_without_a_header_the_default_storefront_sees_only_unscoped_products(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        await catalog.product(sku="ONLY-A", storefronts=["a"])
        await catalog.product(sku="EVERY")
        assert await skus(harness, "/api/v1/products", {}) == {"EVERY"}

    async def test_reviews_of_another_storefronts_product_are_not_found(
            self, harness: ServiceHarness, catalog: Catalog, test_keys: TestKeys) -> None:
        product = await catalog.product(storefronts=["a"])
        url = f"/api/v1/products/{product['id']}/reviews"
        someone = uuid.uuid4()
        assert_error(await harness.client.post(url, json=REVIEW, headers=user(test_keys, B, someone)), 404, "NOT_FOUND")
        assert_error(await harness.client.get(url, headers=B), 404, "NOT_FOUND")
        assert (await harness.client.post(url, json=REVIEW, headers=user(test_keys, A, someone))).status_code == 201
        assert (await harness.client.get(url, headers=A)).json()["count"] == 1

    async def test_the_wishlist_adds_and_lists_only_what_the_storefront_offers(
            self, harness: ServiceHarness, catalog: Catalog, test_keys: TestKeys) -> None:
        only_a, both = await catalog.product(storefronts=["a"]), await catalog.product(storefronts=["a", "b"])
        someone = uuid.uuid4()
        on_a, on_b = user(test_keys, A, someone), user(test_keys, B, someone)
        assert_error(await harness.client.post(f"/api/v1/products/{only_a['id']}/wishlist", headers=on_b),
                     404, "NOT_FOUND")
        for product in (only_a, both):
            response = await harness.client.post(f"/api/v1/products/{product['id']}/wishlist", headers=on_a)
            assert response.status_code == 201, response.text

        listed_on_b = (await harness.client.get("/api/v1/wishlist", headers=on_b)).json()
        assert (listed_on_b["count"], [i["product"]["id"] for i in listed_on_b["results"]]) == (1, [both["id"]])
        assert (await harness.client.get("/api/v1/wishlist", headers=on_a)).json()["count"] == 2

    async def test_a_storefront_does_not_list_kinds_it_does_not_sell(self, harness: ServiceHarness,
                                                                     catalog: Catalog) -> None:
        tier = await catalog.product(sku="TIER", kind="print_tier", attributes={"max_retries_per_unit": 3})
        await catalog.product(sku="PACK", kind="credit_pack", attributes={"credits": 5})
        await catalog.product(sku="STONE")
        assert await skus(harness, "/api/v1/products", B) == {"PACK", "STONE"}
        assert await skus(harness, "/api/v1/products?kind=print_tier", B) == set()
        assert await skus(harness, "/api/v1/products", A) == {"TIER", "PACK", "STONE"}
        assert_error(await harness.client.get(f"/api/v1/products/{tier['id']}", headers=B), 404, "NOT_FOUND")

        on_b = (await harness.client.get("/api/v1/pricing", headers=B)).json()
        on_a = (await harness.client.get("/api/v1/pricing", headers=A)).json()
        assert ([o["sku"] for o in on_b["credit_packs"]], on_b["print_tiers"]) == (["PACK"], [])
        assert [o["sku"] for o in on_a["print_tiers"]] == ["TIER"]

    async def test_pricing_offers_only_the_storefronts_scoped_offers(self, harness: ServiceHarness,
                                                                     catalog: Catalog) -> None:
        await catalog.product(sku="PACK-A", kind="credit_pack", attributes={"credits": 5}, storefronts=["a"])
        await catalog.product(sku="PACK-B", kind="credit_pack", attributes={"credits": 5}, storefronts=["b"])
        on_b = (await harness.client.get("/api/v1/pricing", headers=B)).json()
        assert [o["sku"] for o in on_b["credit_packs"]] == ["PACK-B"]


@pytest.mark.usefixtures("storefronts")
async def test_a_storefronts_pages_cost_the_statements_the_default_ones_do(harness: ServiceHarness,
                                                                          catalog: Catalog) -> None:
    product = await catalog.product(name="Marble 0")
    for n in range(1, 5):
        await catalog.product(name=f"Marble {n}", storefronts=["b"])
    await harness.drain()
    counts = {}
    for label, headers in (("default", {}), ("b", B)):
        with statements(harness.runtime.db, f"list page of {label}") as listed:
            assert (await harness.client.get("/api/v1/products?limit=3", headers=headers)).status_code == 200
        with statements(harness.runtime.db, f"search page of {label}") as searched:
            assert (await harness.client.get("/api/v1/products?search=marble", headers=headers)).status_code == 200
        with statements(harness.runtime.db, f"product of {label}") as detail:
            assert (await harness.client.get(f"/api/v1/products/{product['slug']}", headers=headers)).status_code == 200
        counts[label] = (len(listed), len(searched), len(detail))
    assert counts["b"] == counts["default"]


@pytest.mark.usefixtures("storefronts")
class TestScopedCategories:
    async def test_a_category_of_a_and_what_is_below_it_are_hidden_from_b(self, harness: ServiceHarness,
                                                                          catalog: Catalog) -> None:
        marble = await catalog.category(name="Marble", storefronts=["a"])
        italian = await catalog.category(name="Italian", parent_id=marble["id"])
        await catalog.product(sku="CARRARA", category_id=italian["id"])
        assert marble["storefronts"] == ["a"]

        assert [c["slug"] for c in (await harness.client.get("/api/v1/categories", headers=B)).json()["results"]] == []
        tree_a = (await harness.client.get("/api/v1/categories", headers=A)).json()["results"]
        assert [(c["slug"], c["product_count"], c["children"][0]["slug"]) for c in tree_a] == [
            ("marble", 1, "italian")]
        for url in (f"/api/v1/categories/{marble['slug']}", f"/api/v1/categories/{marble['id']}/products"):
            assert_error(await harness.client.get(url, headers=B), 404, "NOT_FOUND")
            assert (await harness.client.get(url, headers=A)).status_code == 200
        # Filtering by a category the storefront does not show finds nothing below it.
        assert await skus(harness, "/api/v1/products?category=marble", B) == set()
        assert await skus(harness, "/api/v1/products?category=marble", A) == {"CARRARA"}


@pytest.mark.usefixtures("storefronts")
class TestStaff:
    async def test_staff_write_the_storefronts_of_products_and_categories(self, harness: ServiceHarness,
                                                                         catalog: Catalog, staff) -> None:
        product = await catalog.product(storefronts=["a", "b", "a"])
        assert product["storefronts"] == ["a", "b"]
        response = await harness.client.patch(f"/api/v1/products/{product['id']}", headers=staff,
                                              json={"storefronts": ["b"]})
        assert (response.status_code, response.json()["storefronts"]) == (200, ["b"])
        assert_error(await harness.client.get(f"/api/v1/products/{product['id']}", headers=A), 404, "NOT_FOUND")
        response = await harness.client.patch(f"/api/v1/products/{product['id']}", headers=staff,
                                              json={"storefronts": []})
        assert (await harness.client.get(f"/api/v1/products/{product['id']}", headers=A)).status_code == 200

        category = await catalog.category(storefronts=["default", "a"])
        response = await harness.client.put(f"/api/v1/categories/{category['id']}", headers=staff,
                                            json={"storefronts": ["b"]})
        assert (response.status_code, response.json()["storefronts"]) == (200, ["b"])

    async def test_an_unknown_storefront_is_refused_and_nothing_is_written(
            self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        body = {"name": "Ghost", "sku": "GHOST-1", "price": "1.00", "storefronts": ["a", "nowhere"]}
        response = await harness.client.post("/api/v1/products", json=body, headers=staff)
        assert_error(response, 400, "UNKNOWN_STOREFRONT")
        assert response.json()["error"]["details"]["storefronts"] == ["nowhere"]
        assert_error(await harness.client.post("/api/v1/products", headers=staff,
                                               json={**body, "storefronts": ["Not A Slug"]}), 400, "VALIDATION_ERROR")
        assert_error(await harness.client.post("/api/v1/categories", headers=staff,
                                               json={"name": "Ghosts", "storefronts": ["nowhere"]}),
                     400, "UNKNOWN_STOREFRONT")
        async with harness.runtime.db.read_only() as session:
            assert (await session.exec(select(Product))).all() == []
            assert (await session.exec(select(Category))).all() == []

        product = await catalog.product(storefronts=["a"], name="Kept")
        category = await catalog.category(storefronts=["a"])
        events = len(await product_changed_events(harness))
        for url in (f"/api/v1/products/{product['id']}", f"/api/v1/categories/{category['id']}"):
            response = await harness.client.patch(url, headers=staff, json={"name": "Changed", "storefronts": ["zz"]})
            assert_error(response, 400, "UNKNOWN_STOREFRONT")
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}", headers=staff)).json()
        assert (detail["name"], detail["storefronts"]) == ("Kept", ["a"])
        tree = (await harness.client.get("/api/v1/categories", headers=staff)).json()["results"]
        assert [(c["name"], c["storefronts"]) for c in tree] == [(category["name"], ["a"])]
        assert len(await product_changed_events(harness)) == events

    async def test_a_product_its_storefronts_cannot_sell_is_refused_and_nothing_is_written(
            self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        # EU sells in EUR only: a USD product limited to it would be listed there and never bought.
        for scope in (["eu"], ["a", "eu"]):
            body = {"name": "Slab", "sku": f"SLAB-{len(scope)}", "price": "10.00", "currency": "USD",
                    "storefronts": scope}
            error = assert_error(await harness.client.post("/api/v1/products", json=body, headers=staff),
                                 409, "CURRENCY_NOT_SOLD")
            assert error["details"]["currency"] == "USD" and error["details"]["storefronts"] == {"eu": "EUR"}
            assert error["details"]["fields"] == {"currency": ["storefront 'eu' sells in EUR"]}
        async with harness.runtime.db.read_only() as session:
            assert (await session.exec(select(Product))).all() == []
        assert await product_changed_events(harness) == []
        # In EUR it is EU's; the default storefront sells any currency; unscoped, every storefront has it.
        eur = await catalog.product(sku="EUR-1", currency="EUR", storefronts=["eu", "default"])
        gel = await catalog.product(sku="GEL-1", currency="GEL", storefronts=["default"])
        await catalog.product(sku="ANY-1", currency="GEL")

        # An edit is judged on the currency and scope it leaves: either change alone can break it.
        events = len(await product_changed_events(harness))
        for ref, change in ((eur["id"], {"currency": "USD"}), (gel["id"], {"storefronts": ["default", "eu"]}),
                            (gel["id"], {"name": "Renamed", "storefronts": ["eu"]})):
            assert_error(await harness.client.patch(f"/api/v1/products/{ref}", headers=staff, json=change),
                         409, "CURRENCY_NOT_SOLD")
        detail = (await harness.client.get(f"/api/v1/products/{gel['id']}", headers=staff)).json()
        assert (detail["name"], detail["currency"], detail["storefronts"]) == (gel["name"], "GEL", ["default"])
        assert len(await product_changed_events(harness)) == events
        response = await harness.client.patch(f"/api/v1/products/{gel['id']}", headers=staff,
                                              json={"currency": "eur", "storefronts": ["eu"]})
        assert (response.status_code, response.json()["currency"]) == (200, "EUR"), response.text

    async def test_staff_read_every_storefront_or_the_one_they_name(self, harness: ServiceHarness,
                                                                   catalog: Catalog, staff) -> None:
        await catalog.product(sku="ONLY-A", storefronts=["a"])
        await catalog.product(sku="TIER", kind="print_tier", attributes={"max_retries_per_unit": 1})
        await catalog.product(sku="EVERY")
        assert await skus(harness, "/api/v1/products", {**staff, **B}) == {"ONLY-A", "TIER", "EVERY"}
        assert await skus(harness, "/api/v1/products?storefront=b", staff) == {"EVERY"}
        assert await skus(harness, "/api/v1/products?storefront=a", staff) == {"ONLY-A", "TIER", "EVERY"}
        assert_error(await harness.client.get("/api/v1/products?storefront=nowhere", headers=staff),
                     400, "UNKNOWN_STOREFRONT")
        # A customer cannot pick another storefront's catalog with the staff parameter.
        assert await skus(harness, "/api/v1/products?storefront=a", B) == {"EVERY"}


class TestContracts:
    @pytest.fixture
    def service(self, catalog_settings) -> dict[str, str]:
        return {SERVICE_HEADER: catalog_settings.service_token}

    async def test_internal_reads_carry_the_storefronts_unfiltered(
            self, harness: ServiceHarness, catalog: Catalog, storefronts: None, service: dict[str, str]) -> None:
        scoped = await catalog.product(sku="SCOPED", storefronts=["a", "b"], kind="print_tier",
                                       attributes={"max_retries_per_unit": 1})
        every = await catalog.product(sku="EVERY")
        snapshot = (await harness.client.get(f"/internal/products/{scoped['id']}", headers={**service, **B})).json()
        assert (snapshot["storefronts"], snapshot["is_active"]) == (["a", "b"], True)
        found = (await harness.client.post("/internal/products/lookup", headers={**service, **B},
                                           json={"ids": [scoped["id"], every["id"]]})).json()["results"]
        assert {s["sku"]: s["storefronts"] for s in found} == {"SCOPED": ["a", "b"], "EVERY": []}

    async def test_product_changed_carries_the_storefronts(self, harness: ServiceHarness, catalog: Catalog,
                                                           storefronts: None, staff) -> None:
        product = await catalog.product(storefronts=["a"])
        await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                                  json={"name": "Big", "sku": f"{product['sku']}-BIG"})
        await harness.client.patch(f"/api/v1/products/{product['id']}", headers=staff, json={"storefronts": ["a", "b"]})
        events: list[dict[str, Any]] = await product_changed_events(harness)
        assert [(e["variant_id"] is not None, e["storefronts"]) for e in events] == [
            (False, ["a"]), (True, ["a"]), (False, ["a", "b"]), (True, ["a", "b"])]
