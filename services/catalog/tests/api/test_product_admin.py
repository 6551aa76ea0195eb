"""Staff administration of products, variants, images and stock; ProductChanged for each change."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import col, select

from atelier_catalog.models import DEFAULT_LOCATION_ID, StockMovement
from atelier_common.auth import SERVICE_HEADER
from atelier_common.outbox import OutboxMessage
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Catalog, assert_error, product_changed_events

WRITES = [
    ("post", "/api/v1/products"),
    ("put", "/api/v1/products/{id}"),
    ("patch", "/api/v1/products/{id}"),
    ("delete", "/api/v1/products/{id}"),
    ("post", "/api/v1/products/{id}/stock"),
    ("post", "/api/v1/products/{id}/variants"),
    ("patch", "/api/v1/products/{id}/variants/{other}"),
    ("delete", "/api/v1/products/{id}/variants/{other}"),
    ("post", "/api/v1/products/{id}/images"),
    ("put", "/api/v1/products/{id}/images/{other}"),
    ("delete", "/api/v1/products/{id}/images/{other}"),
]


class TestAccess:
    @pytest.mark.parametrize(("method", "path"), WRITES)
    async def test_anonymous_callers_get_401_and_customers_403(self, harness: ServiceHarness, catalog: Catalog,
                                                               test_keys: TestKeys, method: str, path: str) -> None:
        product = await catalog.product(sku="LOCKED")
        url = path.format(id=product["id"], other=uuid.uuid4())
        body = {"name": "X", "sku": "X-1", "price": "1.00", "delta": 1, "reason": "x", "url": "/x.jpg"}
        kwargs: dict[str, Any] = {} if method == "delete" else {"json": body}
        call = getattr(harness.client, method)
        assert_error(await call(url, **kwargs), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await call(url, headers=test_keys.anon_headers(), **kwargs), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await call(url, headers=test_keys.user_headers(), **kwargs), 403, "PERMISSION_DENIED")
        product_now = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
        assert product_now["name"] == product["name"] and product_now["stock_quantity"] == 5

    async def test_a_bad_token_is_401_invalid_token(self, harness: ServiceHarness) -> None:
        response = await harness.client.post("/api/v1/products", json={}, headers={"Authorization": "Bearer nope"})
        assert_error(response, 401, "INVALID_TOKEN")


class TestCreateProduct:
    async def test_staff_create_a_product_and_carts_hear_of_it(self, harness: ServiceHarness, staff) -> None:
        category = (await harness.client.post("/api/v1/categories", json={"name": "Marble"}, headers=staff)).json()
        response = await harness.client.post("/api/v1/products", headers=staff, json={
            "name": "Carrara White Marble Slab", "sku": "CARR-WHITE-001", "price": "85.50", "compare_price": 99,
            "stock_quantity": 25, "category_id": category["id"], "attributes": {"unit_of_measure": "sqft"},
            "description": "Premium Italian marble", "unknown_field": "ignored"})
        assert response.status_code == 201, response.text
        product = response.json()
        assert product["slug"] == "carrara-white-marble-slab"
        assert (product["price"], product["compare_price"], product["kind"]) == ("85.50", "99.00", "physical")
        assert product["track_inventory"] is True and product["in_stock"] is True
        assert (await harness.client.get("/api/v1/products/carrara-white-marble-slab")).status_code == 200
        [event] = await product_changed_events(harness)
        assert event["product_id"] == product["id"] and event["variant_id"] is None
        assert (event["sku"], event["price"], event["stock_quantity"], event["is_active"]) == (
            "CARR-WHITE-001", "85.50", 25, True)

    async def test_the_event_is_in_the_outbox_of_the_same_transaction(self, harness: ServiceHarness,
                                                                      catalog: Catalog) -> None:
        product = await catalog.product(sku="OUTBOX-1")
        async with harness.runtime.db.read_only() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        changed = [r for r in rows if r.type == "catalog.product_changed"]
        assert [(r.producer, r.data["product_id"]) for r in changed] == [("catalog", product["id"])]
        # ...and the staff write's audit row with it.
        assert [(r.type, r.data["target_id"]) for r in rows if r not in changed] == [
            ("staff.action_recorded", product["id"])]

    async def test_initial_stock_is_recorded_as_a_movement(self, harness: ServiceHarness, catalog: Catalog) -> None:
        product = await catalog.product(stock_quantity=7)
        async with harness.runtime.db.read_only() as session:
            movements = (await session.exec(select(StockMovement))).all()
        assert [(str(m.product_id), m.delta, m.quantity_after, m.reason) for m in movements] == [
            (product["id"], 7, 7, "initial stock")]

    async def test_digital_offers_do_not_track_inventory_by_default(self, catalog: Catalog) -> None:
        pack = await catalog.product(sku="PACK_5", kind="credit_pack", attributes={"credits": 5}, stock_quantity=0)
        assert pack["track_inventory"] is False and pack["in_stock"] is True

    async def test_duplicate_sku_is_409_and_writes_nothing(self, harness: ServiceHarness, catalog: Catalog,
                                                           staff) -> None:
        await catalog.product(sku="DUP-1")
        before = len(await product_changed_events(harness))
        response = await harness.client.post("/api/v1/products", headers=staff,
                                             json={"name": "Other", "sku": "DUP-1", "price": "1.00"})
        assert assert_error(response, 409, "SKU_EXISTS")["details"] == {"sku": "DUP-1"}
        assert len(await product_changed_events(harness)) == before
        assert (await harness.client.get("/api/v1/products/other")).status_code == 404

    async def test_a_variant_sku_is_taken_too(self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        product = await catalog.product()
        await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                                  json={"name": "Big", "sku": "VAR-1"})
        response = await harness.client.post("/api/v1/products", headers=staff,
                                             json={"name": "Clash", "sku": "VAR-1", "price": "1.00"})
        assert_error(response, 409, "SKU_EXISTS")

    async def test_a_chosen_slug_must_be_free_but_a_generated_one_steps_aside(self, harness: ServiceHarness,
                                                                              catalog: Catalog, staff) -> None:
        first = await catalog.product(name="Stone Sealer")
        second = await catalog.product(name="Stone Sealer")
        third = await catalog.product(name="Stone  sealer!")
        assert [first["slug"], second["slug"], third["slug"]] == ["stone-sealer", "stone-sealer-2", "stone-sealer-3"]
        response = await harness.client.post("/api/v1/products", headers=staff, json={
            "name": "Anything", "slug": "stone-sealer", "sku": "NEW-1", "price": "1.00"})
        assert_error(response, 409, "SLUG_EXISTS")

    @pytest.mark.parametrize(("kind", "attributes", "field"), [
        ("credit_pack", {}, "attributes.credits"),
        ("credit_pack", {"credits": 0}, "attributes.credits"),
        ("credit_pack", {"credits": "5"}, "attributes.credits"),
        ("retry_pack", {"retries": -3}, "attributes.retries"),
        ("subscription_plan", {"interval": "month", "tier": "pro"}, "attributes.monthly_quota"),
        ("subscription_plan", {"interval": "weekly", "tier": "pro", "monthly_quota": 5}, "attributes.interval"),
        ("print_tier", {"max_retries_per_unit": 1.5}, "attributes.max_retries_per_unit"),
    ])
    async def test_kind_specific_attributes_are_checked(self, harness: ServiceHarness, staff, kind: str,
                                                        attributes: dict, field: str) -> None:
        response = await harness.client.post("/api/v1/products", headers=staff, json={
            "name": "Offer", "sku": "OFFER-1", "price": "1.00", "kind": kind, "attributes": attributes})
        assert field in assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]

    @pytest.mark.parametrize("body", [
        {"sku": "A-1", "price": "1.00"},
        {"name": "A", "sku": "A-1", "price": "abc"},
        {"name": "A", "sku": "A-1", "price": "1.005"},
        {"name": "A", "sku": "A-1", "price": "1.00", "stock_quantity": "5"},
        {"name": "A", "sku": "A-1", "price": "1.00", "stock_quantity": -1},
        {"name": "A", "sku": "has space", "price": "1.00"},
        {"name": "A", "sku": "A-1", "price": "1.00", "kind": "voucher"},
        {"name": "A", "sku": "A-1", "price": "1.00", "tax_class": "luxury"},
        {"name": "A", "sku": "A-1", "price": "1.00", "tax_class": None},
        {"name": "A", "sku": "A-1", "price": "1.00", "category_id": "not-a-uuid"},
    ])
    async def test_malformed_bodies_are_400_with_field_details(self, harness: ServiceHarness, staff,
                                                               body: dict) -> None:
        error = assert_error(await harness.client.post("/api/v1/products", headers=staff, json=body),
                             400, "VALIDATION_ERROR")
        assert error["details"]["fields"]

    async def test_the_category_must_exist(self, harness: ServiceHarness, staff) -> None:
        response = await harness.client.post("/api/v1/products", headers=staff, json={
            "name": "A", "sku": "A-1", "price": "1.00", "category_id": str(uuid.uuid4())})
        assert "category_id" in assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]


class TestUpdateProduct:
    async def test_patch_changes_only_what_was_sent_and_announces_it(self, harness: ServiceHarness,
                                                                     catalog: Catalog, staff) -> None:
        product = await catalog.product(sku="UPD-1", name="Old name", price="10.00", description="Keep me")
        await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                                  json={"name": "Only", "sku": "UPD-1-V"})
        response = await harness.client.patch(f"/api/v1/products/{product['slug']}", headers=staff,
                                              json={"price": "12.00", "compare_price": None})
        assert response.status_code == 200, response.text
        updated = response.json()
        assert (updated["price"], updated["name"], updated["description"]) == ("12.00", "Old name", "Keep me")
        events = await product_changed_events(harness)
        # the product, and its variant which sells at the product's price
        assert [(e["variant_id"] is None, e["price"]) for e in events[-2:]] == [(True, "12.00"), (False, "12.00")]

    async def test_put_takes_the_same_fields(self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        product = await catalog.product(sku="PUT-1")
        response = await harness.client.put(f"/api/v1/products/{product['id']}", headers=staff,
                                            json={"name": "Renamed", "is_featured": True})
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["is_featured"], response.json()["slug"]) == (
            "Renamed", True, product["slug"])

    async def test_required_fields_cannot_be_nulled(self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        product = await catalog.product()
        response = await harness.client.patch(f"/api/v1/products/{product['id']}", headers=staff,
                                              json={"name": None})
        assert "name" in assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]

    async def test_changing_kind_checks_the_attributes_against_the_new_kind(self, harness: ServiceHarness,
                                                                            catalog: Catalog, staff) -> None:
        product = await catalog.product(attributes={"colour": "white"})
        url = f"/api/v1/products/{product['id']}"
        assert_error(await harness.client.patch(url, headers=staff, json={"kind": "credit_pack"}),
                     400, "VALIDATION_ERROR")
        response = await harness.client.patch(url, headers=staff,
                                              json={"kind": "credit_pack", "attributes": {"credits": 5}})
        assert response.json()["kind"] == "credit_pack" and response.json()["attributes"] == {"credits": 5}

    async def test_a_gift_card_sells_fixed_amounts_untaxed_and_unstocked(self, harness: ServiceHarness,
                                                                         catalog: Catalog, staff) -> None:
        card = await catalog.product(sku="GIFT", kind="gift_card", price="25.00", stock_quantity=0)
        assert (card["kind"], card["tax_class"], card["track_inventory"], card["in_stock"]) == (
            "gift_card", "zero", False, True)
        # its amounts are its variants' prices
        fifty = await catalog.variant(card, "Fifty", price="50.00")
        assert fifty["price"] == "50.00"
        url = f"/api/v1/products/{card['id']}"
        # taxed when redeemed, never at sale; never out of stock
        for body, field in (({"tax_class": "standard"}, "tax_class"), ({"track_inventory": True}, "track_inventory")):
            error = assert_error(await harness.client.patch(url, headers=staff, json=body), 400, "VALIDATION_ERROR")
            assert field in error["details"]["fields"]
        error = assert_error(await harness.client.post("/api/v1/products", headers=staff, json={
            "name": "Card", "sku": "GIFT-2", "price": "10.00", "kind": "gift_card", "tax_class": "reduced"}),
            400, "VALIDATION_ERROR")
        assert "tax_class" in error["details"]["fields"]
        # a product made a gift card leaves its tax class and stock count behind
        book = await catalog.product(sku="BOOK-G")
        response = await harness.client.patch(f"/api/v1/products/{book['id']}", headers=staff, json={"kind": "gift_card"})
        assert response.status_code == 200, response.text
        assert (response.json()["tax_class"], response.json()["track_inventory"]) == ("zero", False)

    async def test_the_tax_class_is_kept_announced_and_given_to_orders_variants_included(
            self, harness: ServiceHarness, catalog: Catalog, staff, catalog_settings) -> None:
        product = await catalog.product(sku="BOOK-1")
        assert product["tax_class"] == "standard"
        await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                                  json={"name": "Paperback", "sku": "BOOK-1-P"})
        url = f"/api/v1/products/{product['id']}"
        response = await harness.client.patch(url, headers=staff, json={"tax_class": "reduced"})
        assert response.status_code == 200 and response.json()["tax_class"] == "reduced", response.text
        assert (await harness.client.get(f"/api/v1/products/{product['slug']}")).json()["tax_class"] == "reduced"
        events = await product_changed_events(harness)
        # the product, and its variant, taxed as it is
        assert [(e["variant_id"] is None, e["tax_class"]) for e in events[-2:]] == [(True, "reduced"), (False, "reduced")]
        internal = await harness.client.post("/internal/products/lookup", json={"ids": [product["id"]]},
                                             headers={SERVICE_HEADER: catalog_settings.service_token})
        assert internal.status_code == 200, internal.text
        assert internal.json()["results"][0]["tax_class"] == "reduced"
        error = assert_error(await harness.client.patch(url, headers=staff, json={"tax_class": "luxury"}),
                             400, "VALIDATION_ERROR")
        assert "tax_class" in error["details"]["fields"]
        created = await harness.client.post("/api/v1/products", headers=staff, json={
            "name": "Bread", "sku": "BREAD-1", "price": "2.00", "tax_class": "zero"})
        assert created.status_code == 201 and created.json()["tax_class"] == "zero", created.text

    async def test_sku_and_slug_stay_unique(self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        await catalog.product(sku="TAKEN", name="Taken")
        product = await catalog.product(sku="MINE")
        url = f"/api/v1/products/{product['id']}"
        assert_error(await harness.client.patch(url, headers=staff, json={"sku": "TAKEN"}), 409, "SKU_EXISTS")
        assert_error(await harness.client.patch(url, headers=staff, json={"slug": "taken"}), 409, "SLUG_EXISTS")
        same = await harness.client.patch(url, headers=staff, json={"sku": "MINE", "slug": product["slug"]})
        assert same.status_code == 200

    @pytest.mark.parametrize("ref", ["3f6b1c2e-8d4a-4e59-9b7c-1a2d3e4f5a6b", "garbage%20id"])
    async def test_unknown_product_is_404(self, harness: ServiceHarness, staff, ref: str) -> None:
        assert_error(await harness.client.patch(f"/api/v1/products/{ref}", headers=staff, json={"name": "X"}),
                     404, "NOT_FOUND")


class TestDeactivateProduct:
    async def test_delete_deactivates_hides_and_announces(self, harness: ServiceHarness, catalog: Catalog,
                                                          staff) -> None:
        product = await catalog.product(sku="BYE")
        response = await harness.client.delete(f"/api/v1/products/{product['id']}", headers=staff)
        assert response.status_code == 204 and response.content == b""
        assert_error(await harness.client.get(f"/api/v1/products/{product['id']}"), 404, "NOT_FOUND")
        assert (await product_changed_events(harness))[-1]["is_active"] is False
        # staff can bring it back
        response = await harness.client.patch(f"/api/v1/products/{product['id']}", headers=staff,
                                              json={"is_active": True})
        assert response.json()["is_active"] is True
        assert (await harness.client.get(f"/api/v1/products/{product['id']}")).status_code == 200


class TestAdjustStock:
    async def test_stock_goes_up_and_down_and_is_announced(self, harness: ServiceHarness, catalog: Catalog,
                                                           staff) -> None:
        product = await catalog.product(stock_quantity=5)
        url = f"/api/v1/products/{product['id']}/stock"
        response = await harness.client.post(url, headers=staff, json={"delta": 10, "reason": "delivery"})
        assert response.status_code == 200, response.text
        assert response.json()["stock_quantity"] == 15
        response = await harness.client.post(url, headers=staff, json={"delta": -15, "reason": "sold in shop"})
        assert response.json() | {"created_at": None} == {
            "product_id": product["id"], "variant_id": None, "delta": -15, "reason": "sold in shop",
            "stock_quantity": 0, "location_id": str(DEFAULT_LOCATION_ID), "created_at": None}
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
        assert (detail["stock_quantity"], detail["in_stock"]) == (0, False)
        assert [e["stock_quantity"] for e in (await product_changed_events(harness))] == [5, 15, 0]

    async def test_stock_never_goes_negative(self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        product = await catalog.product(stock_quantity=3)
        response = await harness.client.post(f"/api/v1/products/{product['id']}/stock", headers=staff,
                                             json={"delta": -4, "reason": "breakage"})
        error = assert_error(response, 409, "INSUFFICIENT_STOCK")
        assert error["details"] == {"requested": 4, "available": 3}
        assert (await harness.client.get(f"/api/v1/products/{product['id']}")).json()["stock_quantity"] == 3
        async with harness.runtime.db.read_only() as session:
            reasons = (await session.exec(select(StockMovement.reason))).all()
        assert reasons == ["initial stock"]

    async def test_variant_stock_is_adjusted_on_its_own(self, harness: ServiceHarness, catalog: Catalog,
                                                        staff) -> None:
        product = await catalog.product(stock_quantity=5)
        variant = (await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                                             json={"name": "3 cm", "sku": "V-3", "stock_quantity": 2})).json()
        url = f"/api/v1/products/{product['id']}/stock"
        response = await harness.client.post(url, headers=staff,
                                             json={"delta": -2, "reason": "sold", "variant_id": variant["id"]})
        assert (response.json()["variant_id"], response.json()["stock_quantity"]) == (variant["id"], 0)
        assert_error(await harness.client.post(url, headers=staff, json={
            "delta": -1, "reason": "sold", "variant_id": variant["id"]}), 409, "INSUFFICIENT_STOCK")
        detail = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()
        assert (detail["stock_quantity"], detail["variants"][0]["stock_quantity"]) == (5, 0)
        last = (await product_changed_events(harness))[-1]
        assert (last["variant_id"], last["sku"], last["stock_quantity"]) == (variant["id"], "V-3", 0)
        assert_error(await harness.client.post(url, headers=staff, json={
            "delta": 1, "reason": "x", "variant_id": str(uuid.uuid4())}), 404, "NOT_FOUND")

    async def test_zero_delta_is_a_validation_error(self, harness: ServiceHarness, catalog: Catalog, staff) -> None:
        product = await catalog.product()
        response = await harness.client.post(f"/api/v1/products/{product['id']}/stock", headers=staff,
                                             json={"delta": 0, "reason": "nothing"})
        assert_error(response, 400, "VALIDATION_ERROR")


class TestVariants:
    async def test_variants_are_created_updated_and_deactivated(self, harness: ServiceHarness, catalog: Catalog,
                                                               staff) -> None:
        product = await catalog.product(price="50.00")
        base = f"/api/v1/products/{product['id']}/variants"
        response = await harness.client.post(base, headers=staff, json={
            "name": "Honed", "sku": "VAR-HON", "attributes": {"finish": "honed"}, "stock_quantity": 4})
        assert response.status_code == 201, response.text
        variant = response.json()
        assert variant["price"] is None  # follows the product
        assert_error(await harness.client.post(base, headers=staff, json={"name": "Again", "sku": "VAR-HON"}),
                     409, "SKU_EXISTS")
        response = await harness.client.patch(f"{base}/{variant['id']}", headers=staff, json={"price": "55.00"})
        assert response.json()["price"] == "55.00"
        events = await product_changed_events(harness)
        assert [(e["variant_id"], e["price"], e["variant_name"]) for e in events[-2:]] == [
            (variant["id"], "50.00", "Honed"), (variant["id"], "55.00", "Honed")]
        assert (await harness.client.delete(f"{base}/{variant['id']}", headers=staff)).status_code == 204
        assert (await harness.client.get(f"/api/v1/products/{product['id']}")).json()["variants"] == []
        assert (await product_changed_events(harness))[-1]["is_active"] is False

    @pytest.mark.parametrize("variant_ref", ["3f6b1c2e-8d4a-4e59-9b7c-1a2d3e4f5a6b", "not-an-id"])
    async def test_unknown_variant_is_404(self, harness: ServiceHarness, catalog: Catalog, staff,
                                          variant_ref: str) -> None:
        product = await catalog.product()
        response = await harness.client.patch(f"/api/v1/products/{product['id']}/variants/{variant_ref}",
                                              headers=staff, json={"name": "X"})
        assert_error(response, 404, "NOT_FOUND")

    async def test_a_variant_of_another_product_is_not_found(self, harness: ServiceHarness, catalog: Catalog,
                                                              staff) -> None:
        one, two = await catalog.product(), await catalog.product()
        variant = (await harness.client.post(f"/api/v1/products/{one['id']}/variants", headers=staff,
                                             json={"name": "V", "sku": "ONE-V"})).json()
        response = await harness.client.delete(f"/api/v1/products/{two['id']}/variants/{variant['id']}",
                                               headers=staff)
        assert_error(response, 404, "NOT_FOUND")


class TestImages:
    async def test_one_primary_image_and_carts_see_it(self, harness: ServiceHarness, catalog: Catalog,
                                                      staff) -> None:
        product = await catalog.product()
        base = f"/api/v1/products/{product['id']}/images"
        first = (await harness.client.post(base, headers=staff, json={"url": "/media/a.jpg"})).json()
        second = (await harness.client.post(base, headers=staff,
                                            json={"url": "/media/b.jpg", "alt_text": "B", "display_order": 1})).json()
        assert (first["is_primary"], second["is_primary"]) == (True, False)
        response = await harness.client.patch(f"{base}/{second['id']}", headers=staff, json={"is_primary": True})
        assert response.json()["is_primary"] is True
        images = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()["images"]
        assert [(i["url"], i["is_primary"]) for i in images] == [("/media/a.jpg", False), ("/media/b.jpg", True)]
        assert (await product_changed_events(harness))[-1]["image_url"] == "/media/b.jpg"
        assert (await harness.client.delete(f"{base}/{second['id']}", headers=staff)).status_code == 204
        images = (await harness.client.get(f"/api/v1/products/{product['id']}")).json()["images"]
        assert [i["url"] for i in images] == ["/media/a.jpg"]
        assert (await product_changed_events(harness))[-1]["image_url"] == "/media/a.jpg"
        assert_error(await harness.client.delete(f"{base}/{second['id']}", headers=staff), 404, "NOT_FOUND")

    async def test_image_urls_must_be_http_or_site_paths(self, harness: ServiceHarness, catalog: Catalog,
                                                          staff) -> None:
        product = await catalog.product()
        response = await harness.client.post(f"/api/v1/products/{product['id']}/images", headers=staff,
                                             json={"url": "javascript:alert(1)"})
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_outbox_rows_only_for_committed_changes(harness: ServiceHarness, catalog: Catalog, staff) -> None:
    product = await catalog.product(stock_quantity=1)
    await harness.client.post(f"/api/v1/products/{product['id']}/stock", headers=staff,
                              json={"delta": -5, "reason": "x"})
    await harness.client.patch(f"/api/v1/products/{product['id']}", headers=staff, json={"kind": "credit_pack"})
    async with harness.runtime.db.read_only() as session:
        count = len((await session.exec(select(OutboxMessage).where(
            col(OutboxMessage.type) == "catalog.product_changed"))).all())
    assert count == 1
