"""Translations (merchandisers and admins): a product's, a variant's or a category's texts per locale."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from atelier_catalog.api.deps import NOT_FOUND, STAFF_ONLY, TranslationReaderDep, TranslationServiceDep
from atelier_catalog.models import Translation
from atelier_catalog.schemas import TranslationRead, TranslationsRead, TranslationWrite
from atelier_common.auth import MerchandiserPrincipal
from atelier_common.responses import ErrorResponses

router = APIRouter(prefix="/api/v1", tags=["translations"])
WRITE: ErrorResponses = {**STAFF_ONLY, **NOT_FOUND,
                         422: {"description": "LOCALE_NOT_OFFERED: none of the record's storefronts shows it"}}
Locale = Annotated[str, Path(max_length=35, description="A language tag, one of the record's storefronts' locales")]


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
    await translations.delete("product", product_ref, locale, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/products/{product_ref}/variants/{variant_id}/translations", summary="List a variant's translations",
            response_model=TranslationsRead, responses={**STAFF_ONLY, **NOT_FOUND})
async def list_variant_translations(product_ref: str, variant_id: str, _staff: MerchandiserPrincipal,
                                    translations: TranslationReaderDep) -> TranslationsRead:
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
    await translations.delete("variant", product_ref, locale, variant_ref=variant_id, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/categories/{category_ref}/translations", summary="List a category's translations",
            response_model=TranslationsRead, responses={**STAFF_ONLY, **NOT_FOUND})
async def list_category_translations(category_ref: str, _staff: MerchandiserPrincipal,
                                     translations: TranslationReaderDep) -> TranslationsRead:
    return _read(*await translations.list("category", category_ref))


@router.put("/categories/{category_ref}/translations/{locale}", summary="Set a category's translation",
            response_model=TranslationRead, responses=WRITE)
async def put_category_translation(category_ref: str, locale: Locale, data: TranslationWrite,
                                   staff: MerchandiserPrincipal, translations: TranslationServiceDep) -> Translation:
    return await translations.put("category", category_ref, locale, data, staff=staff)


@router.delete("/categories/{category_ref}/translations/{locale}", summary="Delete a category's translation",
               status_code=status.HTTP_204_NO_CONTENT, responses={**STAFF_ONLY, **NOT_FOUND})
async def delete_category_translation(category_ref: str, locale: Locale, staff: MerchandiserPrincipal,
                                      translations: TranslationServiceDep) -> Response:
    await translations.delete("category", category_ref, locale, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
