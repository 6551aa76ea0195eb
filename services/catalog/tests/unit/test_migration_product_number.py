"""catalog_0010 on a catalog with products in it: each gets its `number` in creation order (ties by
id), on SQLite and on PostgreSQL, and the numbers are unique from then on."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from atelier_common.migrations import upgrade

from ..conftest import MIGRATIONS


def _insert(conn: sa.Connection, product_id: uuid.UUID, created_at: str, sqlite: bool) -> None:
    conn.execute(sa.text(
        "INSERT INTO product (id, name, slug, sku, description, price, currency, stock_quantity, track_inventory, "
        "kind, attributes, is_active, is_featured, rating_avg, review_count, created_at, updated_at) VALUES "
        "(:id, :name, :name, :name, '', 10, 'USD', 1, true, 'physical', '{}', true, false, 0, 0, :at, :at)"),
        {"id": product_id.hex if sqlite else str(product_id), "name": f"p-{product_id.hex[-12:]}", "at": created_at})


def test_existing_products_are_numbered_in_creation_order(empty_database: str) -> None:
    sqlite = empty_database.startswith("sqlite")
    upgrade(MIGRATIONS, empty_database, "catalog_0009")
    late, early, tie_low, tie_high = (uuid.UUID(int=n) for n in (4, 9, 1, 2))
    engine = sa.create_engine(empty_database)
    try:
        with engine.begin() as conn:
            _insert(conn, late, "2026-11-24 12:00:00", sqlite)
            _insert(conn, early, "2026-11-20 12:00:00", sqlite)
            _insert(conn, tie_high, "2026-11-22 12:00:00", sqlite)
            _insert(conn, tie_low, "2026-11-22 12:00:00", sqlite)
        upgrade(MIGRATIONS, empty_database)
        with engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT id, number FROM product ORDER BY number")).all()
            ids = [uuid.UUID(str(r[0])) if not isinstance(r[0], uuid.UUID) else r[0] for r in rows]
            assert ids == [early, tie_low, tie_high, late]
            assert [r[1] for r in rows] == [1, 2, 3, 4]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE product SET number = 1 WHERE number = 2"))
    finally:
        engine.dispose()


def test_an_install_that_lost_the_sku_index_gets_it_back(tmp_path: Path) -> None:
    """catalog_0010's first version lost `ix_product_sku_lower` on SQLite; catalog_0012 makes it again."""
    database = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    upgrade(MIGRATIONS, database, "catalog_0011")
    engine = sa.create_engine(database)
    index = sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_product_sku_lower'")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_product_sku_lower"))  # as the first catalog_0010 left it
        upgrade(MIGRATIONS, database)
        with engine.begin() as conn:
            assert "lower(sku)" in conn.execute(index).scalar_one()
    finally:
        engine.dispose()
