"""`atelier_catalog.imports.import_catalog`: categories and products moved in, keyed by the source's
primary keys, the integer id kept as `number` when free (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from decimal import Decimal

from atelier_catalog.imports import ImportedCategory, ImportedImage, ImportedProduct, import_catalog

CATEGORIES = [ImportedCategory(source_pk="2", name="Imported slabs")]
PRODUCTS = [
    ImportedProduct(source_pk="700", category_source_pk="2", name="Carrara", sku="IMP-CARRARA",
                    price=Decimal("185.50"), stock_quantity=12, tax_class="reduced",
                    images=[ImportedImage(url="https://cdn.example.com/carrara.jpg", is_primary=True)]),
    ImportedProduct(source_pk="701", category_source_pk="3", name="Orphan", sku="IMP-ORPHAN", price=Decimal("1")),
    ImportedProduct(source_pk="702", name="Bad SKU", sku="not a sku!", price=Decimal("1")),
    ImportedProduct(source_pk="703", name="Luxury", sku="IMP-LUX", price=Decimal("1"), tax_class="luxury"),
]


async def _run(harness, *, dry_run: bool = False):  # type: ignore[no-untyped-def]  # a test helper over untyped fixtures
    return await import_catalog(harness.runtime.db, CATEGORIES, PRODUCTS, source="marbelle", storefront=None,
                                dry_run=dry_run, context=harness.runtime.context)


class TestImportCatalog:
    async def test_imports_with_stock_images_and_the_old_id_as_number(self, harness, catalog) -> None:
        outcomes = await _run(harness)
        assert [(o.model, o.pk, o.status) for o in outcomes] == [
            ("category", "2", "imported"), ("product", "700", "imported"), ("product", "701", "refused"),
            ("product", "702", "refused"), ("product", "703", "refused")]
        assert "category 3 was not imported" in outcomes[2].reason and "sku" in outcomes[3].reason
        assert outcomes[4].reason.startswith("tax_class")
        body = (await harness.client.get("/api/v1/products/700")).json()
        assert (body["sku"], body["stock_quantity"], body["number"], body["tax_class"]) == (
            "IMP-CARRARA", 12, 700, "reduced")
        assert [i["url"] for i in body["images"]] == ["https://cdn.example.com/carrara.jpg"]

    async def test_a_taken_number_is_not_reused(self, harness, catalog) -> None:
        for _ in range(2):
            await catalog.product()
        taken = (await catalog.product())["number"]
        products = [PRODUCTS[0].model_copy(update={"source_pk": str(taken), "category_source_pk": None})]
        [outcome] = await import_catalog(harness.runtime.db, [], products, source="other", storefront=None,
                                         context=harness.runtime.context)
        assert outcome.status == "imported"
        body = (await harness.client.get("/api/v1/products/carrara")).json()
        assert body["number"] == taken + 1  # the next one, as for any new product

    async def test_a_second_run_and_a_dry_run_change_nothing(self, harness) -> None:
        dry = await _run(harness, dry_run=True)
        assert [o.status for o in dry] == ["imported", "imported", "refused", "refused", "refused"]
        assert (await harness.client.get("/api/v1/products")).json()["count"] == 0
        await _run(harness)
        again = await _run(harness)
        assert [o.status for o in again] == ["skipped", "skipped", "refused", "refused", "refused"]
        assert (await harness.client.get("/api/v1/products")).json()["count"] == 1
