"""Each row of `rows.py` has its table's columns, by name and in order, less the ones it leaves
out: the statements read rows back by position (`CartLine(*row)`), so a column added to a table
and not to its row fails here, not in a cart."""

from __future__ import annotations

from dataclasses import fields

import pytest

from atelier_cart import models
from atelier_cart.domain import ProductFacts
from atelier_cart.repository import (
    _FACT_NAMES,
    _LINE_COLUMNS,
    _LOCK_CART_WITH_PRODUCT,
    _LOCK_CART_WITH_VARIANT,
    _LOCK_ROWS,
)
from atelier_cart.rows import CartLine, CartRow

# Each row: its table, the columns it leaves out, and what it adds (read beside the table's).
SHAPES: dict[type, tuple[str, set[str], list[str]]] = {
    CartLine: ("cart_item", {"created_at", "updated_at"}, ["kind", "tax_class"]),
    CartRow: ("cart", {"anonymous", "created_at", "updated_at"}, []),
    ProductFacts: ("cart_product", {"id", "updated_at"}, []),
}


@pytest.mark.parametrize("row", list(SHAPES), ids=lambda row: row.__name__)
def test_a_row_has_its_tables_columns(row: type) -> None:
    table, left_out, added = SHAPES[row]
    columns = [c.name for c in models.SQLModel.metadata.tables[table].columns if c.name not in left_out]
    assert [f.name for f in fields(row)] == columns + added


def test_the_statements_read_by_position_have_the_rows_columns() -> None:
    assert [c.name for c in _LINE_COLUMNS] + ["kind", "tax_class"] == [f.name for f in fields(CartLine)]
    assert _LOCK_CART_WITH_PRODUCT.keys == _LOCK_CART_WITH_VARIANT.keys == ["the_cart", "cart_currency", *_FACT_NAMES]
    assert _LOCK_ROWS.keys == [f.name for f in fields(CartRow)]
