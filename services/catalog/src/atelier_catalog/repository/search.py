"""Product pages and the search walk: statements built once, counts exact or estimated."""

from __future__ import annotations

import builtins
import functools
import re
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    true,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR, aggregate_order_by
from sqlalchemy.sql import visitors
from sqlmodel import col

from atelier_catalog.domain import (
    DEFAULT_ORDERING,
    LOW_STOCK,
    OrderKey,
    ProductFilter,
    Visibility,
    parse_number,
    parse_uuid,
    search_config,
)
from atelier_catalog.models import (
    Product,
    Translation,
)
from atelier_catalog.repository._shared import _IMAGE, _PRODUCT, _VARIANT, SessionRepository, ref_condition
from atelier_catalog.repository.categories import CategoryRepository
from atelier_catalog.visibility import CATEGORY_ON_SALE, readable
from atelier_common.columns import table_of
from atelier_common.counting import CountEstimates, capped_count, planned_rows
from atelier_common.db import Statement

# The text-search configuration of the generated `product.search_vector` (see the migration).
SEARCH_CONFIG = "english"
# How many of the newest rows (in page order) a search reads for its page before it falls back
# to ranking every match through the full-text index: the bound on a search page's cost. Deeper
# pages may read more, up to this many rows per result up to the page's end.
SEARCH_WALK_ROWS = 4_000
SEARCH_WALK_ROWS_PER_RESULT = 200
# Not mapped (PostgreSQL only, made by the migration), so referred to by name.
_SEARCH_VECTOR = literal_column("product.search_vector", type_=TSVECTOR)
# The names' own tsvector, as the migration indexes it (GIN on this very expression).
_NAME_VECTOR = func.to_tsvector(literal_column(f"'{SEARCH_CONFIG}'::regconfig"), _PRODUCT.c.name)
_TRANSLATION = table_of(Translation)
_SKU_TEXT = re.compile(r"[A-Za-z0-9_.\-]+")  # the characters a SKU is made of (schemas.Sku)
_ORDER_FIELDS = {"name": "name", "price": "price", "created_at": "created_at",
                 "stock_quantity": "stock_quantity", "rating": "rating_avg"}


def _order_clauses(ordering: Sequence[OrderKey], columns: Any) -> builtins.list[Any]:
    """ORDER BY terms for `ordering` over `columns` (the product table's or a subquery's)."""
    clauses = [columns[_ORDER_FIELDS[key.field]].desc() if key.descending else columns[_ORDER_FIELDS[key.field]].asc()
               for key in ordering]
    # Equal values would otherwise come back in any order, and pages could overlap. The id goes
    # the way of the first key, so that one (is_active, column, id) index serves either direction.
    return [*clauses, columns.id.desc() if ordering and ordering[0].descending else columns.id.asc()]


# The statements of product views are built once: building one costs more than running it.

@functools.cache
def _children_json(include_inactive: bool) -> tuple[Any, Any]:
    """Scalar subqueries: a product's images and (visible) variants as JSON arrays, in order."""
    image, variant = _IMAGE.c, _VARIANT.c
    image_fields = func.json_build_object("id", image.id, "url", image.url, "alt_text", image.alt_text,
                                          "display_order", image.display_order, "is_primary", image.is_primary)
    images = (sa_select(func.coalesce(func.json_agg(aggregate_order_by(
        image_fields, image.display_order, image.created_at, image.id)), literal_column("'[]'::json")))
        .where(image.product_id == _PRODUCT.c.id))
    # Prices as text: a JSON number would come back as a float.
    variant_fields = func.json_build_object(
        "id", variant.id, "name", variant.name, "sku", variant.sku, "price", cast(variant.price, Text),
        "stock_quantity", variant.stock_quantity, "attributes", variant.attributes, "is_active", variant.is_active)
    variants = (sa_select(func.coalesce(func.json_agg(aggregate_order_by(
        variant_fields, variant.created_at, variant.id)), literal_column("'[]'::json")))
        .where(variant.product_id == _PRODUCT.c.id))
    if not include_inactive:
        variants = variants.where(variant.is_active == true())
    return images.scalar_subquery().label("images"), variants.scalar_subquery().label("variants")


@functools.cache
def _views_by_ids(include_inactive: bool) -> Statement:
    ids = bindparam("ids", type_=postgresql.ARRAY(Uuid()))
    return Statement(sa_select(*_PRODUCT.c, *_children_json(include_inactive))
                     .where(_PRODUCT.c.id == func.any(ids)))


@functools.lru_cache(maxsize=64)
def _views_by_ref(visibility: Visibility, *, by: str) -> Statement:
    """One product view by `by` ("id", "number" or "slug"), if `visibility` reads it (one
    statement per storefront, whose plan PostgreSQL keeps: planning it took four to six times its run)."""
    stmt = sa_select(*_PRODUCT.c, *_children_json(visibility.include_inactive)).where(
        _PRODUCT.c[by] == bindparam("ref"))
    return Statement(stmt.where(*readable(visibility)))


# A page's statement is kept for each distinct query (filters, visibility, page): building and
# keying one costs the catalog more CPU than PostgreSQL takes to run it. Bounded, since the
# filters and search words come from clients; the key holds only hashable values.
STATEMENTS_KEPT = 512


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _listed(filters: ProductFilter, visibility: Visibility) -> Select[Any]:
    """The ids of the products `filters` select (search aside): those on sale unless staff asks,
    and those the storefront of `visibility` offers."""
    return _filtered(sa_select(_PRODUCT.c.id), filters, visibility).where(*readable(visibility))


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _page_ids(filters: ProductFilter, visibility: Visibility, limit: int, offset: int) -> Select[Any]:
    # Each ordering has an (is_active, column, id) index: the page is an index walk that stops
    # after offset + limit rows.
    ordered = _listed(filters, visibility).order_by(*_order_clauses(filters.ordering or DEFAULT_ORDERING, _PRODUCT.c))
    return ordered.limit(limit).offset(offset)


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _page_views(filters: ProductFilter, visibility: Visibility, limit: int, offset: int) -> Statement:
    """PostgreSQL: the page with its images and variants as JSON, one statement."""
    return Statement(_page_ids(filters, visibility, limit, offset).with_only_columns(*_PRODUCT.c)
                     .add_columns(*_children_json(visibility.include_inactive)))


@dataclass(frozen=True)
class _Match:
    exact: ColumnElement[bool]     # the SKU, as typed
    best: ColumnElement[bool]      # every word in the name, or the text inside the SKU
    anywhere: ColumnElement[bool]  # the above, or every word in name and description together


def _matcher(f: ProductFilter, columns: Any, vector: Any | None, *, names: Any | None = None) -> _Match:
    """The search conditions over `columns`; `vector` is the tsvector on PostgreSQL, None on
    SQLite (which falls back to LIKE with the same tiers). With `names` (the names' own tsvector,
    indexed), the best tier is matched on it rather than on the name-weighted part of `vector`."""
    raw = (f.search or "").strip()
    # Only text that could be (part of) a SKU is looked for in SKUs (no spaces, say), so most
    # searches skip it; substrings from 3 characters on, the shortest the trigram index serves.
    sku_like = _SKU_TEXT.fullmatch(raw) is not None
    exact = func.lower(columns.sku) == raw.lower() if sku_like else false()  # index on lower(sku)
    in_sku = columns.sku.ilike(_like_pattern(raw), escape="\\") if sku_like and len(raw) >= 3 else exact
    if not f.terms:
        return _Match(exact, in_sku, in_sku)
    if vector is not None:
        config: Any = literal_column(f"'{SEARCH_CONFIG}'::regconfig")
        # Every word as a prefix ('carr' finds 'Carrara'); the :A variant matches names only.
        matches = vector.op("@@", return_type=Boolean)
        any_field = matches(_prefixes(config, f.terms))
        if names is not None:
            name_only = names.op("@@", return_type=Boolean)(_prefixes(config, f.terms))
        else:
            name_only = matches(_prefixes(config, f.terms, "A"))
    else:
        name_only = and_(*(_contains(columns.name, t) for t in f.terms))
        any_field = and_(*(or_(_contains(columns.name, t), _contains(columns.description, t)) for t in f.terms))
    if f.locale is not None:
        translated_name, translated_any = _translated(f, columns, postgres=vector is not None)
        name_only, any_field = or_(name_only, translated_name), or_(any_field, translated_any)
    return _Match(exact, or_(name_only, in_sku), or_(any_field, in_sku))


def _translated(f: ProductFilter, columns: Any, *, postgres: bool) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """A search in `f.locale`: the product's translation there matches as its own texts do (the
    name tier, then name or description), read on PostgreSQL with the locale's text search
    configuration (`domain.search_config`; `simple` for a language PostgreSQL has none for)."""
    t = _TRANSLATION.c
    name, description = func.coalesce(t.name, ""), func.coalesce(t.description, "")
    if postgres:
        config: Any = literal_column(f"'{search_config(f.locale or '')}'::regconfig")
        query = _prefixes(config, f.terms)
        name_match: Any = func.to_tsvector(config, name).op("@@", return_type=Boolean)(query)
        any_match: Any = func.to_tsvector(config, name.op("||")(" ").op("||")(description)).op(
            "@@", return_type=Boolean)(query)
    else:
        name_match = and_(*(_contains(name, term) for term in f.terms))
        any_match = and_(*(or_(_contains(name, term), _contains(description, term)) for term in f.terms))
    rows = sa_select(t.product_id).where(t.locale == f.locale, t.subject == "product")
    return columns.id.in_(rows.where(name_match)), columns.id.in_(rows.where(any_match))


def _prefixes(config: Any, terms: Sequence[str], weight: str = "") -> Any:
    """Every word as a prefix, all of them. The parser may read a word typed alone otherwise than
    inside the text it came from: `1e5abcd0` alone is the number `1e5` then `abcd0`, inside
    `b-1e5abcd0` it is one word; so a word the parser splits is also looked for as typed (a word
    it drops, a stop word, stays dropped: the text's vector has none either)."""
    query: Any = None
    for term in terms:
        parsed = func.to_tsquery(config, f"{term}:*{weight}")
        as_typed = cast(literal(f"'{term}':*{weight}"), TSQUERY)
        one = case((func.numnode(parsed) > 1, parsed.op("||", return_type=TSQUERY)(as_typed)), else_=parsed)
        query = one if query is None else query.op("&&", return_type=TSQUERY)(one)
    return query


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    return func.lower(column).like(_like_pattern(text), escape="\\")



class ProductPages(SessionRepository):
    """Product pages and search, read as plain rows (no ORM objects): on PostgreSQL one statement
    brings a page with its images and variants. Search is the dialect-specific part: PostgreSQL
    matches with its full-text index and bounds a page's cost (`_search`), SQLite falls back to
    LIKE with the same ranking tiers."""

    estimates: CountEstimates

    async def list(self, filters: ProductFilter, visibility: Visibility, *, limit: int, offset: int,
                   exact_count_limit: int) -> tuple[int, bool, builtins.list[dict[str, Any]]]:
        """(count, whether the count is an estimate, the page as product views)."""
        base = _listed(filters, visibility)
        if filters.search:
            return await self._search(base, filters, visibility, limit=limit, offset=offset,
                                      exact_count_limit=exact_count_limit)
        count, estimated = await self._count(base, exact_count_limit, key=(filters, visibility))
        if self._is_postgres:
            return count, estimated, await self._rows(_page_views(filters, visibility, limit, offset))
        return count, estimated, await self._read_views(_page_ids(filters, visibility, limit, offset), visibility)

    async def get_view(self, ref: str, visibility: Visibility) -> dict[str, Any] | None:
        if self._is_postgres:
            ref_id, number = parse_uuid(ref), parse_number(ref)
            by, value = ("id", ref_id) if ref_id is not None else ("number", number) if number is not None else (
                "slug", ref)
            rows = await self._rows(_views_by_ref(visibility, by=by), {"ref": value})
            return rows[0] if rows else None
        stmt = sa_select(_PRODUCT.c.id).where(ref_condition(Product, ref), *readable(visibility))
        views = await self._read_views(stmt, visibility)
        return views[0] if views else None

    async def views(self, ids: Sequence[uuid.UUID], visibility: Visibility) -> builtins.list[dict[str, Any]]:
        """The products `ids` with their images and variants, in the order of `ids`."""
        if not ids:
            return []
        if self._is_postgres:
            rows = await self._rows(_views_by_ids(visibility.include_inactive), {"ids": list(ids)})
            found = {row["id"]: row for row in rows}
        else:
            found = {view["id"]: view for view in await self._read_views(
                sa_select(_PRODUCT.c.id).where(_PRODUCT.c.id.in_(ids)), visibility)}
        return [found[product_id] for product_id in ids if product_id in found]

    async def _read_views(self, ids: Select[Any], visibility: Visibility) -> builtins.list[dict[str, Any]]:
        """Product views for the ids `ids` selects, in its order. PostgreSQL returns each row with
        its images and variants aggregated as JSON: one statement for a whole page. SQLite reads
        the children with one query per table."""
        columns = ids.with_only_columns(*_PRODUCT.c)
        if not self._is_postgres:
            rows = (await self.session.execute(columns)).mappings().all()
            products = await self._with_children_rows({row["id"]: dict(row) for row in rows}, visibility)
            return list(products.values())
        stmt = columns.add_columns(*_children_json(visibility.include_inactive))
        return [dict(row) for row in (await self.session.execute(stmt)).mappings()]

    async def _rows(self, stmt: Statement, params: dict[str, Any] | None = None) -> builtins.list[dict[str, Any]]:
        """A product-view statement's rows as dicts (PostgreSQL; `Statement`: no SQLAlchemy result)."""
        keys = stmt.keys
        return [dict(zip(keys, row, strict=True)) for row in await stmt.rows(self.session, params)]

    async def _with_children_rows(self, products: dict[uuid.UUID, dict[str, Any]],
                                  visibility: Visibility) -> dict[uuid.UUID, dict[str, Any]]:
        ids = list(products)
        for product in products.values():
            product["images"], product["variants"] = [], []
        images = (sa_select(_IMAGE).where(_IMAGE.c.product_id.in_(ids))
                  .order_by(_IMAGE.c.product_id, _IMAGE.c.display_order, _IMAGE.c.created_at, _IMAGE.c.id))
        variants = (sa_select(_VARIANT).where(_VARIANT.c.product_id.in_(ids))
                    .order_by(_VARIANT.c.product_id, _VARIANT.c.created_at, _VARIANT.c.id))
        if not visibility.include_inactive:
            variants = variants.where(_VARIANT.c.is_active == true())
        for stmt, key in ((images, "images"), (variants, "variants")):
            for row in (await self.session.execute(stmt)).mappings():
                products[row["product_id"]][key].append(row)
        return products

    async def _count(self, stmt: Select[Any], exact_limit: int, *, key: Hashable | None = None) -> tuple[int, bool]:
        """Exact up to `exact_limit` matches, past it the planner's estimate (`atelier_common.counting`),
        so a broad page does not count a million rows on every request; an estimate is kept for a
        while under `key`."""
        return await capped_count(self.session, stmt, exact_limit, estimates=self.estimates, key=key,
                                  planned=self._planned_rows)

    async def _planned_rows(self, stmt: Select[Any]) -> int:
        """How many rows PostgreSQL's planner expects `stmt` to return (no rows are read). The
        hidden-categories condition is left out: the planner would guess it halves the rows, when
        it usually removes next to none."""
        def without_hidden_categories(element: Any, **kw: Any) -> Any:
            return true() if element is CATEGORY_ON_SALE else None

        planned: Any = visitors.replacement_traverse(stmt, {}, without_hidden_categories)
        return await planned_rows(self.session, planned)

    # -- search ------------------------------------------------------------------------------

    async def _search(self, base: Select[Any], f: ProductFilter, visibility: Visibility, *, limit: int,
                      offset: int, exact_count_limit: int) -> tuple[int, bool, builtins.list[dict[str, Any]]]:
        """Without an explicit ordering, matches are ranked in tiers: the exact SKU, then products
        whose name has every word (or whose SKU contains the text), then matches elsewhere
        (description); newest first within a tier. With an ordering, matches simply follow it.

        On PostgreSQL the page is first looked for among the newest `SEARCH_WALK_ROWS` rows in
        page order (an index walk that stops at the page's last match, whatever the catalog's
        size); only when those hold too few best-tier matches does the query fall back to the
        full-text index and rank every match."""
        ranked = not f.ordering
        ordering = f.ordering or DEFAULT_ORDERING
        # A search in another language than the default reads translations too: no walk (it
        # knows the products' own vectors only), the ranked statement below.
        if self._is_postgres and f.locale is None:
            wanted = offset + limit
            # A first page comes with its views from the walk itself: one statement, not two.
            walked = await self._walk(f, visibility, wanted, tier="best" if ranked else "any",
                                     with_views=offset == 0)
            if walked is None and ranked:
                walked = await self._walk_behind_names(f, visibility, wanted)
            if walked is not None:
                count, estimated = await self._walk_count(base, f, visibility, walked.known, walked.found,
                                                          walked.scanned, exact_count_limit)
                if walked.views is not None:
                    return count, estimated, walked.views
                return count, estimated, await self.views(walked.ids[offset:offset + limit], visibility)
        match = _matcher(f, _PRODUCT.c, _SEARCH_VECTOR if self._is_postgres else None)
        matching = base.where(match.anywhere)
        count, estimated = await self._count(matching, exact_count_limit)
        clauses = _order_clauses(ordering, _PRODUCT.c)
        if ranked:
            clauses = [case((match.exact, 0), (match.best, 1), else_=2).asc(), *clauses]
        return count, estimated, await self._read_views(matching.order_by(*clauses).limit(limit).offset(offset),
                                                        visibility)

    async def _walk(self, f: ProductFilter, visibility: Visibility, wanted: int, *, tier: str,
                    before: Sequence[uuid.UUID] = (), with_views: bool = False) -> _Walked | None:
        """The first `wanted` matches of `tier` among the newest rows in page order: "best" (led by
        the exact SKU, found by its own index wherever it is), "rest" (neither; `before` are the
        best ones, already known) or "any". None when those rows hold fewer. With `with_views`, the
        walked rows come as product views, the page itself unless an exact SKU leads it."""
        budget = max(SEARCH_WALK_ROWS, SEARCH_WALK_ROWS_PER_RESULT * wanted)
        stmt, exact_sku = _walk_statement(f, visibility, wanted, tier, len(before), budget, with_views)
        rows = await self._rows(stmt)
        leading = list(before) or ((rows[0]["exact"] or []) if exact_sku and rows else [])
        ids = [*leading, *(row["id"] for row in rows)]
        if len(ids) < wanted:
            return None
        page = None
        if with_views and not leading:
            page = [{key: value for key, value in row.items() if key not in _WALK_ONLY} for row in rows]
        return _Walked(ids, len(leading), len(rows), rows[-1]["position"] if rows else 1, page)

    async def _walk_behind_names(self, f: ProductFilter, visibility: Visibility, wanted: int) -> _Walked | None:
        """Ranked pages whose best tier is sparse (words common in descriptions, rare in names):
        every best-tier match through the name index, then the rest from the walk."""
        ids = [row[0] for row in await _names_statement(f, visibility, wanted).rows(self.session)]
        if len(ids) == wanted:  # the page is all names; how many more there are, the planner guesses
            return _Walked(ids, len(ids), 0, 0)
        return await self._walk(f, visibility, wanted, tier="rest", before=ids)

    async def _walk_count(self, base: Select[Any], f: ProductFilter, visibility: Visibility, known: int, found: int,
                          scanned: int, exact_limit: int) -> tuple[int, bool]:
        """Exact when the filtered catalog is small enough to count cheaply; otherwise the `known`
        matches plus the density of matches in the walked rows times the filtered catalog's
        planned size (an estimate)."""
        key = (replace(f, search=None, terms=()), visibility, "planned")
        if (rows := self.estimates.get(key)) is None:
            rows = await self._planned_rows(base)
            self.estimates.put(key, rows)
        if scanned and rows > min(exact_limit, SEARCH_WALK_ROWS):
            return max(known + found, known + round(found / scanned * rows)), True
        matching = base.where(_matcher(f, _PRODUCT.c, _SEARCH_VECTOR).anywhere)
        if rows <= min(exact_limit, SEARCH_WALK_ROWS):
            return await self._count(matching, exact_limit)
        return max(known, await self._planned_rows(matching)), True


class _Walked(NamedTuple):
    ids: builtins.list[uuid.UUID]
    known: int    # how many lead without being walked for (exact SKUs, names)
    found: int    # how many were walked for
    scanned: int  # how many rows that read
    views: builtins.list[dict[str, Any]] | None = None  # the page, when the walk brought it


_WALK_ONLY = frozenset({"position", "exact"})  # a walk's own columns beside a product view's


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _walk_statement(f: ProductFilter, visibility: Visibility, wanted: int, tier: str, before: int, budget: int,
                    with_views: bool) -> tuple[Statement, bool]:
    """`ProductPages._walk`'s statement, and whether it brings the exact SKU's ids along."""
    base, ordering = _listed(f, visibility), f.ordering or DEFAULT_ORDERING
    clauses = _order_clauses(ordering, _PRODUCT.c)
    columns = {c.name: c for c in (_PRODUCT.c.id, _PRODUCT.c.sku,
                                   *(_PRODUCT.c[_ORDER_FIELDS[k.field]] for k in ordering))}
    recent = (base.with_only_columns(*columns.values(), _SEARCH_VECTOR.label("search_vector"),
                                     func.row_number().over(order_by=clauses).label("position"))
              .order_by(*clauses).limit(budget).subquery("recent"))
    match = _matcher(f, recent.c, recent.c.search_vector)
    condition = {"best": and_(match.best, ~match.exact), "rest": and_(match.anywhere, ~match.best),
                 "any": match.anywhere}[tier]
    stmt = (sa_select(recent.c.id, recent.c.position).where(condition)
            .order_by(*_order_clauses(ordering, recent.c)).limit(wanted - before))
    exact_sku = tier == "best" and _SKU_TEXT.fullmatch((f.search or "").strip()) is not None
    if exact_sku:  # a subquery run once, not a UNION: PostgreSQL plans this in a tenth of the time
        exact = base.with_only_columns(func.array_agg(_PRODUCT.c.id)).where(_matcher(f, _PRODUCT.c, None).exact)
        stmt = stmt.add_columns(exact.scalar_subquery().label("exact"))
    if with_views:  # the walked rows' products with their images and variants, in the walk's order
        walked = stmt.subquery("walked")
        stmt = (sa_select(*_PRODUCT.c, *_children_json(visibility.include_inactive), walked.c.position,
                          *([walked.c.exact] if exact_sku else []))
                .join_from(_PRODUCT, walked, _PRODUCT.c.id == walked.c.id).order_by(walked.c.position))
    return Statement(stmt), exact_sku


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _names_statement(f: ProductFilter, visibility: Visibility, wanted: int) -> Statement:
    """`ProductPages._walk_behind_names`' statement: the best tier's ids through the name index."""
    match = _matcher(f, _PRODUCT.c, _SEARCH_VECTOR, names=_NAME_VECTOR)
    # MATERIALIZED: the name index finds them all; left to itself, PostgreSQL might rather walk
    # the ordering index in search of matches it wrongly expects to be many.
    best = (_listed(f, visibility).with_only_columns(*_PRODUCT.c).where(match.best).cte("best")
            .prefix_with("MATERIALIZED"))
    exact_first = case((_matcher(f, best.c, None).exact, 0), else_=1)
    return Statement(sa_select(best.c.id).order_by(exact_first, *_order_clauses(f.ordering or DEFAULT_ORDERING, best.c))
                     .limit(wanted))


def _filtered(stmt: Select[Any], f: ProductFilter, visibility: Visibility) -> Select[Any]:
    if f.category is not None:
        subtree = CategoryRepository.subtree_ids(f.category, visibility)
        stmt = stmt.where(col(Product.category_id).in_(subtree))
    if f.min_price is not None:
        stmt = stmt.where(col(Product.price) >= f.min_price)
    if f.max_price is not None:
        stmt = stmt.where(col(Product.price) <= f.max_price)
    if f.in_stock is not None:
        available = or_(col(Product.track_inventory) == false(), col(Product.stock_quantity) > 0)
        stmt = stmt.where(available if f.in_stock else ~available)
    if f.featured is not None:
        stmt = stmt.where(col(Product.is_featured) == f.featured)
    if f.kind is not None:
        stmt = stmt.where(col(Product.kind) == f.kind.value)
    if f.active is not None:
        stmt = stmt.where(col(Product.is_active) == f.active)
    if f.stock is not None:
        tracked = col(Product.track_inventory) == true()
        stmt = stmt.where(tracked, col(Product.stock_quantity) == 0) if f.stock == "out" else stmt.where(
            tracked, col(Product.stock_quantity) > 0, col(Product.stock_quantity) <= LOW_STOCK)
    return stmt
