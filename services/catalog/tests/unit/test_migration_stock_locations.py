"""catalog_0016 on a catalog with stock in it: one default location is made and holds every
product's and variant's units, so the totals (`stock_quantity`) are the sum over the locations from
the start, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from atelier_catalog.models import DEFAULT_LOCATION_ID
from atelier_common.migrations import upgrade

from ..conftest import MIGRATIONS


def _id(value: uuid.UUID, sqlite: bool) -> str:
    return value.hex if sqlite else str(value)


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def test_existing_stock_moves_to_one_default_location(empty_database: str) -> None:
    sqlite = empty_database.startswith("sqlite")
    upgrade(MIGRATIONS, empty_database, "catalog_0015")
    slab, tile, empty, big = (uuid.UUID(int=n) for n in (1, 2, 3, 4))
    engine = sa.create_engine(empty_database)
    try:
        with engine.begin() as conn:
            for product_id, stock in ((slab, 7), (tile, 0), (empty, 0)):
                conn.execute(sa.text(
                    "INSERT INTO product (id, name, slug, sku, description, price, currency, stock_quantity, "
                    "track_inventory, kind, attributes, is_active, is_featured, rating_avg, review_count, created_at, "
                    "updated_at) VALUES (:id, :name, :name, :name, '', 10, 'USD', :stock, true, 'physical', '{}', true, "
                    "false, 0, 0, '2026-11-20 12:00:00', '2026-11-20 12:00:00')"),
                    {"id": _id(product_id, sqlite), "name": f"p-{product_id.hex[-4:]}", "stock": stock})
            conn.execute(sa.text(
                "INSERT INTO product_variant (id, product_id, name, sku, stock_quantity, attributes, is_active, "
                "created_at, updated_at) VALUES (:id, :product, 'Big', 'TILE-B', 3, '{}', true, "
                "'2026-11-20 12:00:00', '2026-11-20 12:00:00')"), {"id": _id(big, sqlite), "product": _id(tile, sqlite)})
        upgrade(MIGRATIONS, empty_database)
        with engine.begin() as conn:
            [location] = conn.execute(sa.text(
                "SELECT id, name, storefront, is_default, is_active FROM stock_location")).all()
            assert (_uuid(location[0]), location[1], location[2], bool(location[3]), bool(location[4])) == (
                DEFAULT_LOCATION_ID, "Main stock", "", True, True)
            rows = conn.execute(sa.text("SELECT location_id, item_id, variant_id, quantity FROM location_stock")).all()
            assert sorted((_uuid(r[0]), _uuid(r[1]), r[2] is None, r[3]) for r in rows) == [
                (DEFAULT_LOCATION_ID, slab, True, 7), (DEFAULT_LOCATION_ID, big, False, 3)]
    finally:
        engine.dispose()
