"""cart_0006 on a database with carts in it: every cart is the default storefront's, its lines
stay, and the owner may then have a cart on another storefront too (SQLite rebuilds the table
to change its unique constraint)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from atelier_common.migrations import upgrade

from ..conftest import MIGRATIONS


def test_existing_carts_become_the_default_storefronts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cart.sqlite'}"
    upgrade(MIGRATIONS, url, "cart_0005")
    owner, cart, product = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("PRAGMA foreign_keys=ON"))
            conn.execute(sa.text("INSERT INTO cart (id, owner_id, currency, anonymous, created_at, updated_at) "
                                 "VALUES (:id, :owner, 'USD', 0, '2026-11-24', '2026-11-24')"),
                         {"id": cart.hex, "owner": owner.hex})
            conn.execute(sa.text("INSERT INTO cart_item (id, cart_id, product_id, quantity, unit_price, name, sku, "
                                 "created_at, updated_at) VALUES (:id, :cart, :product, 2, 10, 'Slab', 'S', "
                                 "'2026-11-24', '2026-11-24')"),
                         {"id": uuid.uuid4().hex, "cart": cart.hex, "product": product.hex})
            conn.execute(sa.text("INSERT INTO cart_product (id, product_id, name, sku, kind, price, currency, "
                                 "stock_quantity, track_inventory, is_active, updated_at) VALUES (:id, :product, "
                                 "'Slab', 'S', 'physical', 10, 'USD', 5, 1, 1, '2026-11-24')"),
                         {"id": uuid.uuid4().hex, "product": product.hex})
        upgrade(MIGRATIONS, url)
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT storefront FROM cart")).scalars().all() == ["default"]
            assert conn.execute(sa.text("SELECT count(*) FROM cart_item")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT storefronts FROM cart_product")).scalar_one() == "[]"
            insert = sa.text("INSERT INTO cart (id, owner_id, storefront, currency, anonymous, created_at, "
                             "updated_at) VALUES (:id, :owner, :storefront, 'EUR', 0, '2026-11-25', '2026-11-25')")
            conn.execute(insert, {"id": uuid.uuid4().hex, "owner": owner.hex, "storefront": "b"})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"id": uuid.uuid4().hex, "owner": owner.hex, "storefront": "b"})
    finally:
        engine.dispose()
