"""Translations (merchandisers and admins): a product's, a variant's or a category's texts per locale."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from atelier_catalog.api.deps import (
    NOT_FOUND,
    STAFF_ONLY,
    TranslationReaderDep,
    TranslationServiceDep,
    TranslationTransferReaderDep,
    TranslationTransferServiceDep,
)
from atelier_catalog.models import Translation
from atelier_catalog.schemas import ImportReportRead, TranslationRead, TranslationsRead, TranslationWrite
from atelier_catalog.service.transfer import to_csv
from atelier_common.auth import MerchandiserPrincipal
from atelier_common.responses import ErrorResponses

router = APIRouter(prefix="/api/v1", tags=["translations"])
WRITE: ErrorResponses = {**STAFF_ONLY, **NOT_FOUND,
                         422: {"description": "LOCALE_NOT_OFFERED: none of the record's storefronts shows it"}}
Locale = Annotated[str, Path(max_length=35, description="A language tag, one of the record's storefronts' locales")]


CsvLocale = Annotated[str, Query(max_length=35, description="The language of the translations")]


# Before `/products/{ref}/…`: `translations.csv` is no product reference.
@router.get("/products/translations.csv", summary="Export products' translations as CSV",
            response_class=StreamingResponse,
            responses={**STAFF_ONLY, 200: {"description": "A row per product and per variant", "content": {
                "text/csv": {"schema": {"type": "string"}, "example": (
                    "sku,variant_sku,default_name,default_description,name,description\r\n"
                    "PRINT-FOX,,Fox in Snow print,Giclée print,მელია თოვლში,\r\n"
                    "PRINT-FOX,PRINT-FOX-A2,A2,,,\r\n")}}}})
async def export_translations(locale: CsvLocale, _staff: MerchandiserPrincipal,
                              transfer: TranslationTransferReaderDep) -> StreamingResponse:
    """Every product and variant, with its own name and description beside its translation in `locale`
    (empty: none), for a translator to fill in and import."""
    rows = await transfer.export_rows(locale)
    return StreamingResponse(to_csv(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="translations-{locale}.csv"'})


@router.post("/products/translations/import", summary="Import products' translations from CSV",
             response_model=ImportReportRead,
             responses={**STAFF_ONLY, 400: {"description": "VALIDATION_ERROR or INVALID_CSV"},
                        413: {"description": "FILE_TOO_LARGE"}})
async def import_translations(file: Annotated[UploadFile, File(description="The export's columns; sku required")],
                              locale: CsvLocale, staff: MerchandiserPrincipal,
                              transfer: TranslationTransferServiceDep,
                              dry_run: Annotated[bool, Query(description="Check every row, write nothing")] = True,
                              ) -> dict[str, object]:
    """Set each row's translation in `locale` (a product's row: `sku`; a variant's: `sku` and `variant_sku`),
    with the rules of `PUT …/translations/{locale}`; both `name` and `description` empty removes it. The
    `default_*` columns are ignored. A row in error is reported and skipped; `dry_run` (the default) writes
    nothing."""
    report = await transfer.import_csv(locale, file.read, dry_run=dry_run, staff=staff)
    return {"dry_run": report.dry_run, "counts": report.counts, "rows": report.rows}


def _read(subject_id: object, offered: list[str], rows: object) -> TranslationsRead:
    return TranslationsRead.model_validate({"id": subject_id, "locales": offered, "results": rows},
                                           from_attributes=True)


@router.get("/products/{product_ref}/translations", summary="List a product's translations",
            response_model=TranslationsRead, responses={**STAFF_ONLY, **NOT_FOUND})
async def list_product_translations(product_ref: str, _staff: MerchandiserPrincipal,
                                    translations: TranslationReaderDep) -> TranslationsRead:
    """The product's texts in each locale it has, and the locales it may have (`locales`)."""
    return _read(*await translations.list("product", product_ref))


@router.put("/products/{product_ref}/translations/{locale}", summary="Set a product's translation",
            response_model=TranslationRead, responses=WRITE)
async def put_product_translation(product_ref: str, locale: Locale, data: TranslationWrite,
                                  staff: MerchandiserPrincipal, translations: TranslationServiceDep) -> Translation:
    """The product's name and description in `locale` (replaced whole; a field left out shows the default text)."""
    return await translations.put("product", product_ref, locale, data, staff=staff)


@router.delete("/products/{product_ref}/translations/{locale}", summary="Delete a product's translation",
               status_code=status.HTTP_204_NO_CONTENT, responses={**STAFF_ONLY, **NOT_FOUND})
async def delete_product_translation(product_ref: str, locale: Locale, staff: MerchandiserPrincipal,
                                     translations: TranslationServiceDep) -> Response:
    """Remove the product's texts in `locale`: its own show there again (204 also when it had none)."""
    await translations.delete("product", product_ref, locale, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/products/{product_ref}/variants/{variant_id}/translations", summary="List a variant's translations",
            response_model=TranslationsRead, responses={**STAFF_ONLY, **NOT_FOUND})
async def list_variant_translations(product_ref: str, variant_id: str, _staff: MerchandiserPrincipal,
                                    translations: TranslationReaderDep) -> TranslationsRead:
    """The variant's name in each locale it has, and the locales it may have (its product's storefronts')."""
    return _read(*await translations.list("variant", product_ref, variant_id))


@router.put("/products/{product_ref}/variants/{variant_id}/translations/{locale}",
            summary="Set a variant's translation", response_model=TranslationRead, responses=WRITE)
async def put_variant_translation(product_ref: str, variant_id: str, locale: Locale, data: TranslationWrite,
                                  staff: MerchandiserPrincipal, translations: TranslationServiceDep) -> Translation:
    """The variant's name in `locale` (a variant has no description: one sent is kept and not shown)."""
    return await translations.put("variant", product_ref, locale, data, variant_ref=variant_id, staff=staff)


@router.delete("/products/{product_ref}/variants/{variant_id}/translations/{locale}",
               summary="Delete a variant's translation", status_code=status.HTTP_204_NO_CONTENT,
               responses={**STAFF_ONLY, **NOT_FOUND})
async def delete_variant_translation(product_ref: str, variant_id: str, locale: Locale, staff: MerchandiserPrincipal,
                                     translations: TranslationServiceDep) -> Response:
    """Remove the variant's name in `locale` (204 also when it had none)."""
    await translations.delete("variant", product_ref, locale, variant_ref=variant_id, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/categories/{category_ref}/translations", summary="List a category's translations",
            response_model=TranslationsRead, responses={**STAFF_ONLY, **NOT_FOUND})
async def list_category_translations(category_ref: str, _staff: MerchandiserPrincipal,
                                     translations: TranslationReaderDep) -> TranslationsRead:
    """The category's texts in each locale it has, and the locales it may have."""
    return _read(*await translations.list("category", category_ref))


@router.put("/categories/{category_ref}/translations/{locale}", summary="Set a category's translation",
            response_model=TranslationRead, responses=WRITE)
async def put_category_translation(category_ref: str, locale: Locale, data: TranslationWrite,
                                   staff: MerchandiserPrincipal, translations: TranslationServiceDep) -> Translation:
    """The category's name and description in `locale` (replaced whole; a field left out shows the default text)."""
    return await translations.put("category", category_ref, locale, data, staff=staff)


@router.delete("/categories/{category_ref}/translations/{locale}", summary="Delete a category's translation",
               status_code=status.HTTP_204_NO_CONTENT, responses={**STAFF_ONLY, **NOT_FOUND})
async def delete_category_translation(category_ref: str, locale: Locale, staff: MerchandiserPrincipal,
                                      translations: TranslationServiceDep) -> Response:
    """Remove the category's texts in `locale` (204 also when it had none)."""
    await translations.delete("category", category_ref, locale, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
