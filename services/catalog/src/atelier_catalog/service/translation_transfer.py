"""Products' and variants' translations in one locale as CSV, both ways (staff)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog.context import CatalogContext
from atelier_catalog.repository import ProductRepository, TranslationRepository
from atelier_catalog.schemas import TranslationWrite
from atelier_catalog.service.transfer import EXPORT_PAGE, ImportReport, RowReport, RowStatus, read_csv
from atelier_catalog.service.translations import TranslationService, domain_locale
from atelier_common.auth import Principal
from atelier_common.errors import AtelierError
from atelier_common.service import UseCase

# The columns of a translations file: the record (`sku`, and `variant_sku` for a variant's row), its
# own texts beside the translation for whoever translates (ignored on import), and the translation.
CSV_COLUMNS = ("sku", "variant_sku", "default_name", "default_description", "name", "description")


class TranslationTransferService(UseCase[CatalogContext]):
    """Products' and variants' translations in one locale as CSV, both ways (staff): the export
    lists every product and variant with its own texts and its translation (empty: none); the
    import sets each row's translation through `TranslationService.put` (its rules, row by row in a
    savepoint: a refused row is reported and skipped), and removes it where both cells are empty."""

    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)
        self.translations = TranslationRepository(session)

    async def export_rows(self, locale: str) -> builtins.list[builtins.list[str]]:
        tag = domain_locale(locale)
        rows = [list(CSV_COLUMNS)]
        after: tuple[int, uuid.UUID] | None = None
        while page := await self.products.export_page(after=after, limit=EXPORT_PAGE):
            texts = {(row.subject, row.subject_id): row
                     for row in await self.translations.of_products(p.id for p, _ in page) if row.locale == tag}
            for product, _ in page:
                own = texts.get(("product", product.id))
                rows.append([product.sku, "", product.name, product.description,
                             (own.name or "") if own else "", (own.description or "") if own else ""])
                for variant in product.variants:
                    other = texts.get(("variant", variant.id))
                    rows.append([product.sku, variant.sku, variant.name, "", (other.name or "") if other else "", ""])
            last = page[-1][0]
            after = (last.number or 0, last.id)
        return rows

    async def import_csv(self, locale: str, read: Callable[[int], Awaitable[bytes]], *, dry_run: bool,
                         staff: Principal) -> ImportReport:
        """Apply a translations file in `locale`, row by row; `dry_run` writes nothing and answers
        the same report. The file is read as the products' import reads its (`transfer.read_csv`)."""
        header, rows = await read_csv(read, CSV_COLUMNS, required="sku")
        service = TranslationService(self.session, self.context)
        report = ImportReport(dry_run=dry_run)
        async with self.session.begin_nested() as whole:
            for line, cells in rows:
                row = dict(zip(header, cells, strict=False))
                sku, variant_sku = row.get("sku", "").strip(), row.get("variant_sku", "").strip()
                try:
                    if len(cells) != len(header):
                        raise LocaleCsvRowError(f"{len(cells)} cells where the header has {len(header)}")
                    async with self.session.begin_nested():
                        status = await self._apply(service, locale, sku, variant_sku, row, staff)
                    report.rows.append(RowReport(line, sku, status))
                except LocaleCsvRowError as exc:
                    report.rows.append(RowReport(line, sku, "error", str(exc)))
                except AtelierError as exc:
                    report.rows.append(RowReport(line, sku, "error", f"{exc.code}: {exc}"))
            if dry_run:
                await whole.rollback()
        return report

    async def _apply(self, service: TranslationService, locale: str, sku: str, variant_sku: str,
                     row: dict[str, str], staff: Principal) -> RowStatus:
        product = next(iter(await self.products.get_many(skus=[sku])), None) if sku else None
        if product is None:
            raise LocaleCsvRowError(f"sku: no product has the SKU {sku!r}")
        kind, variant_ref = "product", None
        subject_id = product.id
        if variant_sku:
            variant = next((v for v in product.variants if v.sku == variant_sku), None)
            if variant is None:
                raise LocaleCsvRowError(f"variant_sku: {product.sku} has no variant {variant_sku!r}")
            kind, variant_ref, subject_id = "variant", str(variant.id), variant.id
        name, description = row.get("name", "").strip(), row.get("description", "")
        current = await self.translations.get(kind, subject_id, domain_locale(locale))
        if not name and not description.strip():
            if current is None:
                return "unchanged"
            await service.delete(kind, str(product.id), locale, variant_ref=variant_ref, staff=staff)
            return "updated"
        data = TranslationWrite.model_validate({
            "name": name or None, "description": (description or None) if kind == "product" else None})
        if current is not None and (current.name, current.description) == (data.name or None, data.description or None):
            return "unchanged"
        await service.put(kind, str(product.id), locale, data, variant_ref=variant_ref, staff=staff)
        return "created" if current is None else "updated"


class LocaleCsvRowError(Exception):
    """A row of a translations file that names no record of the catalog, or is malformed."""
