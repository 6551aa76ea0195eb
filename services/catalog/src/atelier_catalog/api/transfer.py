"""/api/v1/products/export.csv and /api/v1/products/import: the catalog as a CSV file, both ways (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import StreamingResponse

from atelier_catalog.api.deps import STAFF_ONLY, ProductTransferReaderDep, ProductTransferServiceDep
from atelier_catalog.schemas import ImportReportRead
from atelier_catalog.service.transfer import ImportReport, to_csv
from atelier_common.auth import MerchandiserPrincipal

# Before the public product routes: `export.csv` is no product slug, but `/products/{ref}` would take it.
router = APIRouter(prefix="/api/v1", tags=["products"])


@router.get("/products/export.csv", summary="Export products as CSV", response_class=StreamingResponse,
            responses={**STAFF_ONLY, 200: {"description": "The products, a row per variant or image", "content": {
                "text/csv": {"schema": {"type": "string"}, "example": (
                    "sku,name,slug,description,price,compare_price,currency,stock_quantity,category,storefronts,"
                    "is_active,kind,tax_class,variant_sku,variant_name,variant_price,variant_stock_quantity,"
                    "variant_is_active,image_url,image_alt_text\r\n"
                    "PRINT-FOX,Fox in Snow print,fox-in-snow-print,Giclée print,29.00,,USD,0,prints,,true,physical,"
                    "standard,PRINT-FOX-A3,A3,,25,true,https://cdn.example.com/fox.jpg,Fox in snow\r\n"
                    "PRINT-FOX,,,,,,,,,,,,,PRINT-FOX-A2,A2,39.00,10,true,,\r\n")}}}})
async def export_products(staff: MerchandiserPrincipal, transfer: ProductTransferReaderDep) -> StreamingResponse:
    """Every product, active or not, in Shopify's layout: one row per variant, the product's own columns
    (sku, name, slug, description, price, compare_price, currency, stock_quantity, category (its slug),
    storefronts (slugs separated by spaces), is_active, kind, tax_class) on its first row only; every row
    repeats the product's `sku` and carries a variant (variant_sku, variant_name, variant_price (empty: the
    product's), variant_stock_quantity, variant_is_active) and the product's image of that position
    (image_url, image_alt_text), a row of its own for each image beyond the variants."""
    rows = await transfer.export_rows()
    return StreamingResponse(to_csv(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="products.csv"'})


@router.post("/products/import", summary="Import products from CSV", response_model=ImportReportRead,
             responses={**STAFF_ONLY, 400: {"description": "VALIDATION_ERROR or INVALID_CSV"},
                        413: {"description": "FILE_TOO_LARGE"}})
async def import_products(file: Annotated[UploadFile, File(description="A CSV with the export's columns; sku required")],
                          staff: MerchandiserPrincipal, transfer: ProductTransferServiceDep,
                          dry_run: Annotated[bool, Query(description="Check every row, write nothing")] = True,
                          ) -> dict[str, object]:
    """Create the products whose SKU is new and update the others (the columns given), row by row, with the
    rules of `POST`/`PATCH /products` (a changed `stock_quantity` is a stock adjustment, "CSV import"); a SKU's
    first row holds the product's columns, each of its rows may add or update a variant (by `variant_sku`, with
    the rules of the variant routes) and an image (by `image_url`; none is removed or deactivated). A row in
    error is reported and skipped; the others apply. `dry_run` (the default) writes nothing and answers the
    same report; importing the same file again reports every row `unchanged`."""
    report: ImportReport = await transfer.import_csv(file.read, dry_run=dry_run, staff=staff)
    return {"dry_run": report.dry_run, "counts": report.counts, "rows": report.rows}
