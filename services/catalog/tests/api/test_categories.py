"""The category tree (public) and its administration (staff)."""

from __future__ import annotations

import uuid

import pytest

from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Catalog, assert_error


@pytest.fixture
async def stone_tree(catalog: Catalog) -> dict[str, dict]:
    """Natural Stone → Marble → Italian Marble; Natural Stone → Granite; Tools (empty)."""
    stone = await catalog.category(name="Natural Stone", description="Quarried")
    marble = await catalog.category(name="Marble", parent_id=stone["id"])
    italian = await catalog.category(name="Italian Marble", parent_id=marble["id"])
    granite = await catalog.category(name="Granite", parent_id=stone["id"])
    tools = await catalog.category(name="Tools")
    await catalog.product(sku="S-1", category_id=stone["id"])
    await catalog.product(sku="M-1", category_id=marble["id"])
    await catalog.product(sku="I-1", category_id=italian["id"])
    await catalog.product(sku="I-2", category_id=italian["id"])
    gone = await catalog.product(sku="I-GONE", category_id=italian["id"])
    await catalog.deactivate_product(gone["id"])
    await catalog.product(sku="G-1", category_id=granite["id"])
    return {"stone": stone, "marble": marble, "italian": italian, "granite": granite, "tools": tools}


class TestCategoryTree:
    async def test_tree_has_children_and_counts_active_products_of_descendants(self, harness: ServiceHarness,
                                                                               stone_tree) -> None:
        page = (await harness.client.get("/api/v1/categories")).json()
        assert (page["count"], page["next"], page["previous"]) == (2, None, None)
        stone, tools = page["results"]
        assert set(stone) == {"id", "name", "slug", "description", "parent_id", "is_active", "children",
                              "product_count", "created_at", "storefronts"}
        assert (stone["name"], stone["product_count"], tools["name"], tools["product_count"]) == (
            "Natural Stone", 5, "Tools", 0)
        assert [(c["name"], c["product_count"]) for c in stone["children"]] == [("Granite", 1), ("Marble", 3)]
        marble = stone["children"][1]
        assert [(c["slug"], c["product_count"], c["children"]) for c in marble["children"]] == [
            ("italian-marble", 2, [])]

    async def test_an_inactive_category_and_its_subtree_leave_the_tree(self, harness: ServiceHarness, staff,
                                                                       stone_tree) -> None:
        response = await harness.client.delete(f"/api/v1/categories/{stone_tree['marble']['id']}", headers=staff)
        assert response.status_code == 204
        stone = (await harness.client.get("/api/v1/categories")).json()["results"][0]
        assert [c["name"] for c in stone["children"]] == ["Granite"]
        assert stone["product_count"] == 2  # its own product and Granite's
        assert_error(await harness.client.get("/api/v1/categories/marble"), 404, "NOT_FOUND")
        assert_error(await harness.client.get("/api/v1/categories/marble/products"), 404, "NOT_FOUND")
        staff_view = await harness.client.get("/api/v1/categories?include_inactive=true", headers=staff)
        assert "Marble" in [c["name"] for c in staff_view.json()["results"][0]["children"]]


class TestGetCategory:
    async def test_by_id_and_by_slug_with_its_subtree(self, harness: ServiceHarness, stone_tree) -> None:
        by_slug = await harness.client.get("/api/v1/categories/marble")
        by_id = await harness.client.get(f"/api/v1/categories/{stone_tree['marble']['id']}")
        assert by_slug.status_code == 200 and by_slug.json() == by_id.json()
        assert by_slug.json()["product_count"] == 3
        assert by_slug.json()["parent_id"] == stone_tree["stone"]["id"]
        assert [c["name"] for c in by_slug.json()["children"]] == ["Italian Marble"]

    @pytest.mark.parametrize("ref", ["3f6b1c2e-8d4a-4e59-9b7c-1a2d3e4f5a6b", "no-such-category", "%27%3B--"])
    async def test_unknown_and_garbage_references_are_404(self, harness: ServiceHarness, ref: str) -> None:
        error = assert_error(await harness.client.get(f"/api/v1/categories/{ref}"), 404, "NOT_FOUND")
        assert error["message"] == "Category not found"


class TestCategoryProducts:
    async def test_products_of_the_category_and_its_descendants_paginated(self, harness: ServiceHarness,
                                                                          stone_tree) -> None:
        page = (await harness.client.get("/api/v1/categories/natural-stone/products?ordering=name&limit=4")).json()
        assert page["count"] == 5 and len(page["results"]) == 4 and "offset=4" in page["next"]
        marble = (await harness.client.get(
            f"/api/v1/categories/{stone_tree['marble']['id']}/products?ordering=-price")).json()
        assert sorted(p["sku"] for p in marble["results"]) == ["I-1", "I-2", "M-1"]

    async def test_the_product_filters_apply_too(self, harness: ServiceHarness, catalog: Catalog,
                                                 stone_tree) -> None:
        await catalog.product(sku="M-DEAR", name="Statuario", price="300.00",
                              category_id=stone_tree["marble"]["id"])
        page = (await harness.client.get("/api/v1/categories/marble/products?min_price=100")).json()
        assert [p["sku"] for p in page["results"]] == ["M-DEAR"]
        page = (await harness.client.get("/api/v1/categories/marble/products?search=statuario")).json()
        assert [p["sku"] for p in page["results"]] == ["M-DEAR"]

    async def test_unknown_category_is_404(self, harness: ServiceHarness) -> None:
        assert_error(await harness.client.get("/api/v1/categories/nothing/products"), 404, "NOT_FOUND")


class TestCategoryAdmin:
    async def test_staff_create_with_a_generated_or_chosen_slug(self, harness: ServiceHarness, staff) -> None:
        response = await harness.client.post("/api/v1/categories", headers=staff,
                                             json={"name": "Travertine & Limestone", "description": "Warm"})
        assert response.status_code == 201
        created = response.json()
        assert (created["slug"], created["parent_id"], created["is_active"]) == ("travertine-limestone", None, True)
        response = await harness.client.post("/api/v1/categories", headers=staff,
                                             json={"name": "Other", "slug": "travertine-limestone"})
        assert_error(response, 409, "SLUG_EXISTS")
        again = await harness.client.post("/api/v1/categories", headers=staff, json={"name": "Travertine Limestone"})
        assert again.json()["slug"] == "travertine-limestone-2"

    @pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
    async def test_only_staff(self, harness: ServiceHarness, catalog: Catalog, test_keys: TestKeys,
                              method: str) -> None:
        category = await catalog.category()
        url = "/api/v1/categories" if method == "post" else f"/api/v1/categories/{category['id']}"
        kwargs = {} if method == "delete" else {"json": {"name": "Mine"}}
        call = getattr(harness.client, method)
        assert_error(await call(url, **kwargs), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await call(url, headers=test_keys.user_headers(), **kwargs), 403, "PERMISSION_DENIED")

    async def test_the_parent_must_exist(self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        response = await harness.client.post("/api/v1/categories", headers=staff,
                                             json={"name": "Lost", "parent_id": str(uuid.uuid4())})
        assert "parent_id" in assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]
        category = await catalog.category()
        response = await harness.client.patch(f"/api/v1/categories/{category['id']}", headers=staff,
                                              json={"parent_id": str(uuid.uuid4())})
        assert_error(response, 400, "VALIDATION_ERROR")

    async def test_a_category_cannot_move_under_itself_or_a_descendant(self, harness: ServiceHarness, staff,
                                                                        stone_tree) -> None:
        stone, italian = stone_tree["stone"], stone_tree["italian"]
        url = f"/api/v1/categories/{stone['id']}"
        assert_error(await harness.client.patch(url, headers=staff, json={"parent_id": stone["id"]}),
                     409, "CATEGORY_CYCLE")
        assert_error(await harness.client.patch(url, headers=staff, json={"parent_id": italian["id"]}),
                     409, "CATEGORY_CYCLE")
        # moving a leaf elsewhere is fine, and so is making it a root again
        leaf = f"/api/v1/categories/{italian['id']}"
        moved = await harness.client.put(leaf, headers=staff, json={"parent_id": stone_tree["granite"]["id"]})
        assert moved.status_code == 200 and moved.json()["parent_id"] == stone_tree["granite"]["id"]
        root = await harness.client.patch(leaf, headers=staff, json={"parent_id": None, "name": "Italian"})
        assert (root.json()["parent_id"], root.json()["name"], root.json()["slug"]) == (
            None, "Italian", "italian-marble")

    async def test_unknown_category_is_404_for_staff_too(self, harness: ServiceHarness, staff) -> None:
        assert_error(await harness.client.delete("/api/v1/categories/nope", headers=staff), 404, "NOT_FOUND")


async def test_only_an_empty_category_is_deleted_for_good(harness, catalog, staff) -> None:
    client = harness.client
    parent = await catalog.category(name="Shelves")
    child = await catalog.category(name="Wall shelves", parent_id=parent["id"])
    stocked = await catalog.category(name="Stocked")
    product = await catalog.product(category_id=stocked["id"])
    await catalog.deactivate_product(product["id"])  # an inactive product still holds its category

    refused = assert_error(await client.delete(f"/api/v1/categories/{parent['id']}", headers=staff,
                                               params={"permanently": "true"}), 409, "CATEGORY_NOT_EMPTY")
    assert refused["details"] == {"children": 1, "products": 0}
    assert_error(await client.delete(f"/api/v1/categories/{stocked['id']}", headers=staff,
                                     params={"permanently": "true"}), 409, "CATEGORY_NOT_EMPTY")

    gone = await client.delete(f"/api/v1/categories/{child['id']}", headers=staff, params={"permanently": "true"})
    assert gone.status_code == 204, gone.text
    assert_error(await client.get(f"/api/v1/categories/{child['id']}", headers=staff,
                                  params={"include_inactive": "true"}), 404, "NOT_FOUND")
    assert (await client.delete(f"/api/v1/categories/{parent['id']}", headers=staff,
                                params={"permanently": "true"})).status_code == 204
