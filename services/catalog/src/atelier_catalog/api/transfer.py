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
            responses={**STAFF_ONLY, 200: {"description": "The products, one a row", "content": {"text/csv": {
                "schema": {"type": "string"},
                "example": ("sku,name,slug,description,price,compare_price,currency,stock_quantity,category,storefronts,"
                            "is_active,kind\r\nPRINT-FOX-A3,Fox in Snow print,fox-in-snow-print,A3 giclée print,29.00,,"
                            "USD,25,prints,,true,physical\r\n")}}}})
async def export_products(staff: MerchandiserPrincipal, transfer: ProductTransferReaderDep) -> StreamingResponse:
    """Every product, active or not, one a row: sku, name, slug, description, price, compare_price, currency,
    stock_quantity, category (its slug), storefronts (slugs separated by spaces), is_active, kind."""
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
    rules of `POST`/`PATCH /products` (a changed `stock_quantity` is a stock adjustment, "CSV import"). A row in
    error is reported and skipped; the others apply. `dry_run` (the default) writes nothing and answers the
    same report; importing the same file again reports every row `unchanged`."""
    report: ImportReport = await transfer.import_csv(file.read, dry_run=dry_run, staff=staff)
    return {"dry_run": report.dry_run, "counts": report.counts, "rows": report.rows}
