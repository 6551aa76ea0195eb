"""cart_0007 on a database with lines in it (SQLite rebuilds the table to change its CHECK): the
lines stay, a line may then hold more than 99 (a storefront's own limit), never fewer than 1, and
the partial unique indexes of (cart, product, variant) are still there."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from atelier_common.migrations import upgrade

from ..conftest import MIGRATIONS


def test_a_line_may_pass_99_after_the_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cart.sqlite'}"
    upgrade(MIGRATIONS, url, "cart_0006")
    cart, product = uuid.uuid4(), uuid.uuid4()
    line = sa.text("INSERT INTO cart_item (id, cart_id, product_id, quantity, unit_price, name, sku, created_at, "
                   "updated_at) VALUES (:id, :cart, :product, :quantity, 10, 'Slab', 'S', '2026-11-25', '2026-11-25')")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO cart (id, owner_id, storefront, currency, anonymous, created_at, "
                                 "updated_at) VALUES (:id, :owner, 'shop', 'USD', 0, '2026-11-25', '2026-11-25')"),
                         {"id": cart.hex, "owner": uuid.uuid4().hex})
            conn.execute(line, {"id": uuid.uuid4().hex, "cart": cart.hex, "product": product.hex, "quantity": 2})
        upgrade(MIGRATIONS, url)
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT quantity FROM cart_item")).scalars().all() == [2]
            conn.execute(line, {"id": uuid.uuid4().hex, "cart": cart.hex, "product": uuid.uuid4().hex,
                                "quantity": 150})
            indexes = set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'index' "
                                               "AND tbl_name = 'cart_item'")).scalars())
        assert {"uq_cart_item_no_variant", "uq_cart_item_variant", "ix_cart_item_cart_id"} <= indexes
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(line, {"id": uuid.uuid4().hex, "cart": cart.hex, "product": uuid.uuid4().hex, "quantity": 0})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the same product twice
            conn.execute(line, {"id": uuid.uuid4().hex, "cart": cart.hex, "product": product.hex, "quantity": 1})
    finally:
        engine.dispose()
