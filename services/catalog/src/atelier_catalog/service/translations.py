"""Texts per locale: staff write a product's, a variant's or a category's translation, and every
read shows the caller's language, falling back field by field to the record's own text
(docs/back-office.md#translations)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.domain import EVERYTHING, CategoryNode, Language
from atelier_catalog.errors import CategoryNotFound, LocaleNotOffered, VariantNotFound
from atelier_catalog.models import Translation
from atelier_catalog.repository import CategoryRepository, ProductRepository, TranslationRepository
from atelier_catalog.schemas import TranslationWrite
from atelier_catalog.service._shared import load_product
from atelier_common import audit, locales
from atelier_common.auth import Principal
from atelier_common.columns import utcnow
from atelier_common.service import UseCase
from atelier_common.storefronts import Storefront, StorefrontDirectory
from atelier_common.storefronts import UnknownStorefront as NoSuchStorefront


class _Subject:
    """What a translation is of: the record and what it belongs to."""

    def __init__(self, kind: str, subject_id: uuid.UUID, storefronts_key: str, *,
                 product_id: uuid.UUID | None = None, category_id: uuid.UUID | None = None) -> None:
        self.kind, self.id, self.storefronts_key = kind, subject_id, storefronts_key
        self.product_id, self.category_id = product_id, category_id


class TranslationService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)
        self.categories = CategoryRepository(session)
        self.translations = TranslationRepository(session)

    async def list(self, kind: str, ref: str, variant_ref: str | None = None,
                   ) -> tuple[uuid.UUID, builtins.list[str], Sequence[Translation]]:
        """(the record's id, the locales it may be translated into, its translations)."""
        subject = await self._subject(kind, ref, variant_ref)
        offered = await self._offered(subject)
        return subject.id, sorted(offered), await self.translations.of(kind, subject.id)

    async def put(self, kind: str, ref: str, locale: str, data: TranslationWrite, *, variant_ref: str | None = None,
                  staff: Principal | None = None) -> Translation:
        """Set the record's texts in `locale`, one of its storefronts' languages other than their
        default (else `LocaleNotOffered`, 422)."""
        subject = await self._subject(kind, ref, variant_ref)
        locale = await self._check_locale(subject, locale)
        row = await self.translations.get(kind, subject.id, locale)
        before = None if row is None else {"name": row.name, "description": row.description}
        if row is None:
            row = Translation(subject=kind, subject_id=subject.id, locale=locale, product_id=subject.product_id,
                              category_id=subject.category_id)
            self.session.add(row)
        # Empty is as good as absent: the record's own text shows.
        row.name = data.name or None
        row.description = data.description or None
        row.updated_at = utcnow()
        await self.session.flush()
        if staff is not None:
            await audit.record(self.session, staff, "translation.set", kind, subject.id, before=before,
                               after={"locale": locale, "name": row.name, "description": row.description})
        return row

    async def delete(self, kind: str, ref: str, locale: str, *, variant_ref: str | None = None,
                     staff: Principal | None = None) -> None:
        """Remove the record's texts in `locale` (nothing to remove: done all the same)."""
        subject = await self._subject(kind, ref, variant_ref)
        tag = domain_locale(locale)
        if await self.translations.remove(kind, subject.id, tag) and staff is not None:
            await audit.record(self.session, staff, "translation.delete", kind, subject.id, after={"locale": tag})

    async def _subject(self, kind: str, ref: str, variant_ref: str | None) -> _Subject:
        if kind == "category":
            category = await self.categories.get_readable(ref, EVERYTHING)
            if category is None:
                raise CategoryNotFound()
            return _Subject(kind, category.id, category.storefronts_key, category_id=category.id)
        product = await load_product(self.products, ref)
        if kind == "product":
            return _Subject(kind, product.id, product.storefronts_key, product_id=product.id)
        variant_id = domain.parse_uuid(variant_ref or "")
        variant = next((v for v in product.variants if v.id == variant_id), None)
        if variant is None:
            raise VariantNotFound()
        return _Subject(kind, variant.id, product.storefronts_key, product_id=product.id)

    async def _offered(self, subject: _Subject) -> set[str]:
        storefronts = await _storefronts_of(self.context.storefronts, subject.storefronts_key)
        return domain.translatable_locales(storefronts)

    async def _check_locale(self, subject: _Subject, locale: str) -> str:
        offered = await self._offered(subject)
        tag = domain_locale(locale)
        if tag not in offered:
            raise LocaleNotOffered(details={"locale": locale, "locales": sorted(offered), "fields": {
                "locale": [f"not one of {', '.join(sorted(offered)) or 'no language'} (its storefronts' languages "
                           "other than their default)"]}})
        return tag


def domain_locale(locale: str) -> str:
    """A path's locale as stored (`en-gb` → `en-GB`); what is no tag stays as sent (and is offered nowhere)."""
    return locales.normalize(locale) or locale


async def _storefronts_of(directory: StorefrontDirectory, key: str) -> builtins.list[Storefront]:
    """The storefronts a record is shown on: those its scope names (a slug no storefront has any
    more is skipped), every one for an unscoped record."""
    slugs = domain.storefronts_of(key)
    if not slugs:
        return directory.all()
    found = []
    for slug in slugs:
        try:
            found.append(await directory.get(slug))
        except NoSuchStorefront:
            continue
    return found


class Texts:
    """The reads' side: views and category nodes shown in a `Language`, field by field."""

    def __init__(self, session: AsyncSession) -> None:
        self.translations = TranslationRepository(session)

    async def localize_products(self, language: Language | None, views: Iterable[dict[str, Any]]) -> None:
        if language is None or not language.translated:
            return
        views = builtins.list(views)
        if not views:
            return
        own = await self.translations.in_locale(language.locale, "product", (_uuid(view["id"]) for view in views))
        variant_ids = [_uuid(v["id"]) for view in views for v in view.get("variants") or ()]
        variants = await self.translations.in_locale(language.locale, "variant", variant_ids)
        for view in views:
            if (row := own.get(_uuid(view["id"]))) is not None:
                view["name"] = domain.translated_text(view["name"], row.name)
                view["description"] = domain.translated_text(view["description"], row.description)
            if variants and view.get("variants"):
                view["variants"] = [_localized_variant(v, variants) for v in view["variants"]]

    async def localize_categories(self, language: Language | None, nodes: Iterable[CategoryNode]) -> None:
        if language is None or not language.translated:
            return
        nodes = builtins.list(nodes)
        rows = await self.translations.in_locale(language.locale, "category", (node.id for node in nodes))
        for node in nodes:
            if (row := rows.get(node.id)) is not None:
                node.name = domain.translated_text(node.name, row.name)
                node.description = domain.translated_text(node.description, row.description)

    async def names(self, locale: str, product_ids: Iterable[uuid.UUID], variant_ids: Iterable[uuid.UUID],
                    ) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
        """The product and variant names translated into `locale` (those that have one)."""
        products = await self.translations.in_locale(locale, "product", product_ids)
        variants = await self.translations.in_locale(locale, "variant", variant_ids)
        return ({key: row.name for key, row in products.items() if row.name},
                {key: row.name for key, row in variants.items() if row.name})


def _localized_variant(variant: Any, rows: dict[uuid.UUID, Translation]) -> Any:
    row = rows.get(_uuid(variant["id"]))
    if row is None or not row.name:
        return variant
    return {**variant, "name": row.name}


def _uuid(value: Any) -> uuid.UUID:
    """A view's id: a UUID from a row, text from PostgreSQL's JSON."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
