"""Products to and from CSV: the staff export, and the import that creates or updates products by
SKU through the same use cases as the API (`ProductService.create` / `update`, `StockService.adjust`),
so a file row obeys exactly the rules a request does. Each row runs in a savepoint: a refused row
leaves nothing behind and the others still apply; a dry run rolls the whole file back and answers
the same report. Importing the same file twice changes nothing the second time (every row is
`unchanged`).

The layout is Shopify's product CSV: one row per variant, the product's own columns on its first row
only; the rows after it repeat the product's `sku` (Shopify's Handle) and carry a variant, an image
(a product's n-th image on its n-th row, in display order), or both. An import adds and updates
variants (by `variant_sku`) and images (by `image_url`) through `VariantService` / `ImageService`;
it deactivates and removes none (a variant or image left out of the file stays as it is).

Where `atelier import` (`atelier_catalog.imports`) moves another product's database in once, keyed
by that source's primary keys and creating only, this is a merchandiser's round trip of the live
catalog, keyed by SKU, creating and updating.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_catalog import domain
from atelier_catalog.context import CatalogContext
from atelier_catalog.errors import FileTooLarge, InvalidCsv
from atelier_catalog.models import Product, ProductImage, ProductVariant
from atelier_catalog.repository import CategoryRepository, ProductRepository
from atelier_catalog.schemas import (
    ImageCreate,
    ImageUpdate,
    ProductCreate,
    ProductUpdate,
    StockAdjustment,
    VariantCreate,
    VariantUpdate,
)
from atelier_catalog.service.images import ImageService
from atelier_catalog.service.products import ProductService
from atelier_catalog.service.stock import StockService
from atelier_catalog.service.variants import VariantService
from atelier_common.auth import Principal
from atelier_common.errors import AtelierError
from atelier_common.service import UseCase

# The columns of an export, in order; an import needs `sku` and takes any others of these.
PRODUCT_COLUMNS = ("sku", "name", "slug", "description", "price", "compare_price", "currency", "stock_quantity",
                   "category", "storefronts", "is_active", "kind", "tax_class")
VARIANT_COLUMNS = ("variant_sku", "variant_name", "variant_price", "variant_stock_quantity", "variant_is_active")
IMAGE_COLUMNS = ("image_url", "image_alt_text")
COLUMNS = PRODUCT_COLUMNS + VARIANT_COLUMNS + IMAGE_COLUMNS
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
EXPORT_PAGE = 500
IMPORT_REASON = "CSV import"
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}

RowStatus = Literal["created", "updated", "unchanged", "error"]


@dataclass(frozen=True)
class RowReport:
    line: int
    sku: str
    status: RowStatus
    message: str = ""


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowReport] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("created", "updated", "unchanged", "error"), 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts


class _RowError(Exception):
    """A row the file itself gets wrong (a cell that is no number, an unknown category)."""


class ProductTransferService(UseCase[CatalogContext]):
    def __init__(self, session: AsyncSession, context: CatalogContext) -> None:
        super().__init__(session, context)
        self.products = ProductRepository(session)
        self.categories = CategoryRepository(session)

    async def export_rows(self) -> list[list[str]]:
        """The header and every product, active or not: a row per variant or image (at least one)."""
        rows = [list(COLUMNS)]
        after: tuple[int, uuid.UUID] | None = None
        while page := await self.products.export_page(after=after, limit=EXPORT_PAGE):
            rows += [row for product, slug in page for row in _export_rows(product, slug)]
            last = page[-1][0]
            after = (last.number or 0, last.id)
        return rows

    async def import_csv(self, read: Callable[[int], Awaitable[bytes]], *, dry_run: bool, staff: Principal) -> ImportReport:
        """Apply a CSV of products (the export's columns; `sku` required), row by row: a SKU's first
        row sets the product, each of its rows its variant and image."""
        header, rows = await read_csv(read, COLUMNS, required="sku")
        report = ImportReport(dry_run=dry_run)
        categories = await self.categories.ids_by_slug() if "category" in header else {}
        first_lines: dict[str, int] = {}  # each product's first row: the one with its own columns
        products, stock = ProductService(self.session, self.context), StockService(self.session, self.context)
        async with self.session.begin_nested() as whole:
            for line, cells in rows:
                sku = cells[header.index("sku")].strip() if len(cells) > header.index("sku") else ""
                try:
                    if len(cells) != len(header):
                        raise _RowError(f"{len(cells)} cells where the header has {len(header)}")
                    if not sku:
                        raise _RowError("sku: required")
                    row = dict(zip(header, cells, strict=True))
                    own = {name: cell for name, cell in row.items() if name in PRODUCT_COLUMNS}
                    first = first_lines.setdefault(sku, line)
                    if first != line and any(cell.strip() for name, cell in own.items() if name != "sku"):
                        raise _RowError(f"the product's columns belong on its first row (line {first}): "
                                        "leave them empty on its variant and image rows")
                    variant, image = _variant_values(row), _image_values(row)
                    async with self.session.begin_nested():
                        status: RowStatus = "unchanged"
                        if first == line:
                            status = await self._apply(products, stock, sku, _values(own, categories), staff)
                        if variant is not None or image is not None:
                            status = _merged(status, await self._apply_children(stock, sku, first, variant, image, staff))
                    report.rows.append(RowReport(line, sku, status))
                except _RowError as exc:
                    report.rows.append(RowReport(line, sku, "error", str(exc)))
                except ValidationError as exc:
                    report.rows.append(RowReport(line, sku, "error", _first_error(exc)))
                except AtelierError as exc:
                    report.rows.append(RowReport(line, sku, "error", f"{exc.code}: {exc}{_fields(exc)}"))
            if dry_run:
                await whole.rollback()
        return report

    async def _apply(self, products: ProductService, stock: StockService, sku: str, values: dict[str, Any],
                     staff: Principal) -> RowStatus:
        quantity = values.pop("stock_quantity", None)
        if values.get("slug") is None:  # an empty slug cell: made from the name, or kept
            values.pop("slug", None)
        existing = next(iter(await self.products.get_many(skus=[sku])), None)
        if existing is None:
            data = ProductCreate.model_validate({**values, "sku": sku,
                                                 **({"stock_quantity": quantity} if quantity is not None else {})})
            await products.create(data, actor_id=staff.user_id, staff=staff)
            return "created"
        wanted = ProductUpdate.model_validate(values).changes()
        changes = {name: value for name, value in wanted.items() if _current(existing, name) != value}
        delta = quantity - existing.stock_quantity if quantity is not None and existing.track_inventory else 0
        if not changes and not delta:
            return "unchanged"
        if changes:
            await products.update(str(existing.id), ProductUpdate.model_validate(changes), staff=staff)
        if delta:
            await stock.adjust(str(existing.id), StockAdjustment(delta=delta, reason=IMPORT_REASON),
                               actor_id=staff.user_id, staff=staff)
        return "updated"


    async def _apply_children(self, stock: StockService, sku: str, first: int, variant: dict[str, Any] | None,
                              image: tuple[str, str | None] | None, staff: Principal) -> RowStatus:
        """A row's variant and image, added to or updated on the product `sku`."""
        product = next(iter(await self.products.get_many(skus=[sku])), None)
        if product is None:
            raise _RowError(f"no product has the SKU {sku}: its first row (line {first}) made none")
        status: RowStatus = "unchanged"
        if variant is not None:
            status = await self._apply_variant(stock, product, variant, staff)
        if image is not None:
            status = _merged(status, await self._apply_image(product, *image))
        return status

    async def _apply_variant(self, stock: StockService, product: Product, values: dict[str, Any],
                             staff: Principal) -> RowStatus:
        variants = VariantService(self.session, self.context)
        quantity = values.pop("stock_quantity", None)
        existing = next((v for v in product.variants if v.sku == values["sku"]), None)
        if existing is None:
            data = VariantCreate.model_validate({**values, **({"stock_quantity": quantity} if quantity is not None else {})})
            await variants.add(str(product.id), data, actor_id=staff.user_id)
            return "created"
        wanted = VariantUpdate.model_validate(values).changes()
        changes = {name: value for name, value in wanted.items() if _current_variant(existing, name) != value}
        delta = quantity - existing.stock_quantity if quantity is not None else 0
        if not changes and not delta:
            return "unchanged"
        if changes:
            await variants.update(str(product.id), str(existing.id), VariantUpdate.model_validate(changes))
        if delta:
            await stock.adjust(str(product.id), StockAdjustment(delta=delta, reason=IMPORT_REASON, variant_id=existing.id),
                               actor_id=staff.user_id, staff=staff)
        return "updated"

    async def _apply_image(self, product: Product, url: str, alt_text: str | None) -> RowStatus:
        images = ImageService(self.session, self.context)
        existing = next((i for i in product.images if i.url == url), None)
        if existing is None:
            # After the product's images, in the file's order (the first of a product with none is its primary one).
            order = max((i.display_order for i in product.images), default=-1) + 1
            await images.add(str(product.id), ImageCreate.model_validate(
                {"url": url, "alt_text": alt_text or "", "display_order": order}))
            return "created"
        if alt_text is not None and alt_text != existing.alt_text:
            await images.update(str(product.id), str(existing.id), ImageUpdate.model_validate({"alt_text": alt_text}))
            return "updated"
        return "unchanged"


def to_csv(rows: list[list[str]]) -> Iterator[str]:
    """The rows as CSV text, a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for start in range(0, len(rows), EXPORT_PAGE):
        writer.writerows(rows[start:start + EXPORT_PAGE])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _export_rows(product: Product, category_slug: str | None) -> list[list[str]]:
    """The product's rows: its own columns on the first, then its n-th variant and image on the n-th."""
    own = _product_cells(product, category_slug)
    repeated = [product.sku] + [""] * (len(PRODUCT_COLUMNS) - 1)
    variants, images = list(product.variants), list(product.images)
    return [[*(own if n == 0 else repeated),
             *_variant_cells(variants[n] if n < len(variants) else None),
             *_image_cells(images[n] if n < len(images) else None)]
            for n in range(max(1, len(variants), len(images)))]


def _variant_cells(variant: ProductVariant | None) -> list[str]:
    if variant is None:
        return [""] * len(VARIANT_COLUMNS)
    return [variant.sku, variant.name, "" if variant.price is None else str(variant.price), str(variant.stock_quantity),
            "true" if variant.is_active else "false"]


def _image_cells(image: ProductImage | None) -> list[str]:
    return ["", ""] if image is None else [image.url, image.alt_text]


def _product_cells(product: Product, category_slug: str | None) -> list[str]:
    return [product.sku, product.name, product.slug, product.description, str(product.price),
            "" if product.compare_price is None else str(product.compare_price), product.currency,
            str(product.stock_quantity), category_slug or "", " ".join(domain.storefronts_of(product.storefronts_key)),
            "true" if product.is_active else "false", product.kind, product.tax_class]


async def read_csv(read: Callable[[int], Awaitable[bytes]], columns: tuple[str, ...], *, required: str,
                   ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """An uploaded CSV of `columns` (`required` among its header) as (the header, [(line number,
    cells)]): `FileTooLarge` past MAX_CSV_BYTES, `InvalidCsv` for a file that is no such CSV."""
    data = await read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise FileTooLarge(details={"max_bytes": MAX_CSV_BYTES})
    return _parse(data, columns, required)


def _parse(data: bytes, columns: tuple[str, ...], required: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(the header, [(line number, cells)]); a file that is no CSV of these columns is `InvalidCsv`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidCsv("The file is not UTF-8 text", details={"byte": exc.start}) from exc
    if "\x00" in text:
        raise InvalidCsv("The file holds a NUL character")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if not header or header == [""]:
            raise InvalidCsv("The file is empty: its first line must name the columns")
        unknown = [name for name in header if name not in columns]
        if unknown:
            raise InvalidCsv("Unknown columns", details={"unknown": unknown, "allowed": list(columns)})
        if len(set(header)) != len(header):
            raise InvalidCsv("A column is named twice", details={"columns": header})
        if required not in header:
            raise InvalidCsv(f"The file has no {required} column", details={"allowed": list(columns)})
        rows: list[tuple[int, list[str]]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(rows) == MAX_ROWS:
                raise InvalidCsv("The file has too many rows", details={"max_rows": MAX_ROWS})
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InvalidCsv(f"The file is not valid CSV (line {reader.line_num}): {exc}",
                         details={"line": reader.line_num}) from exc
    return header, rows


def _values(row: dict[str, str], categories: dict[str, uuid.UUID]) -> dict[str, Any]:
    """A row's cells as the API's fields (strings where the API parses them itself)."""
    values: dict[str, Any] = {}
    for name, raw in row.items():
        cell = raw.strip() if name != "description" else raw
        if name == "sku":
            continue
        if name == "compare_price" or name == "slug":
            values[name] = cell or None
        elif name == "stock_quantity":
            if not cell.isdigit():
                raise _RowError("stock_quantity: must be a whole number of units, 0 or more")
            values[name] = int(cell)
        elif name == "is_active":
            if cell.lower() not in _TRUE | _FALSE:
                raise _RowError("is_active: must be true or false")
            values[name] = cell.lower() in _TRUE
        elif name == "category":
            if cell and cell not in categories:
                raise _RowError(f"category: no category has the slug {cell!r}")
            values["category_id"] = categories[cell] if cell else None
        elif name == "storefronts":
            values[name] = cell.split()
        else:
            values[name] = cell
    return values


def _variant_values(row: dict[str, str]) -> dict[str, Any] | None:
    """A row's variant as `VariantCreate`/`VariantUpdate` fields (an empty cell: left as it is;
    an empty `variant_price`: the product's price); None when the row names no variant."""
    cells = {name: row[name].strip() for name in VARIANT_COLUMNS if name in row}
    sku = cells.get("variant_sku", "")
    if not sku:
        if any(cells.values()):
            raise _RowError("variant_sku: required where a variant's columns are filled")
        return None
    values: dict[str, Any] = {"sku": sku}
    if cells.get("variant_name"):
        values["name"] = cells["variant_name"]
    if "variant_price" in cells:
        values["price"] = cells["variant_price"] or None
    if quantity := cells.get("variant_stock_quantity"):
        if not quantity.isdigit():
            raise _RowError("variant_stock_quantity: must be a whole number of units, 0 or more")
        values["stock_quantity"] = int(quantity)
    if active := cells.get("variant_is_active", "").lower():
        if active not in _TRUE | _FALSE:
            raise _RowError("variant_is_active: must be true or false")
        values["is_active"] = active in _TRUE
    return values


def _image_values(row: dict[str, str]) -> tuple[str, str | None] | None:
    """A row's image: (url, alt text, None when the file has no such column); None when it has none."""
    url = row.get("image_url", "").strip()
    alt_text = row["image_alt_text"].strip() if "image_alt_text" in row else None
    if not url:
        if alt_text:
            raise _RowError("image_url: required where an image's alt text is filled")
        return None
    return url, alt_text


def _merged(first: RowStatus, second: RowStatus) -> RowStatus:
    """What a row did, all told: it created something, else updated something, else nothing."""
    return next((status for status in ("created", "updated") if status in (first, second)), "unchanged")


def _current_variant(variant: ProductVariant, name: str) -> Any:
    value = getattr(variant, name)
    return Decimal(value) if name == "price" and value is not None else value


def _current(product: Product, name: str) -> Any:
    if name == "storefronts":
        return domain.storefronts_of(product.storefronts_key)
    value = getattr(product, name)
    return Decimal(value) if name in ("price", "compare_price") and value is not None else value


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"


def _fields(exc: AtelierError) -> str:
    fields = (exc.details or {}).get("fields") if isinstance(exc.details, dict) else None
    if not isinstance(fields, dict):
        return ""
    return " (" + "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in fields.items()) + ")"
