"""Each row of `rows.py` has its table's columns, by name: rows are built with `Row(**mapping)` from
what the statements read, so a column added to a table and not to its row fails here, not in a
checkout."""

from __future__ import annotations

from dataclasses import fields

import pytest

from atelier_orders import models
from atelier_orders.rows import LockedOrder, OrderDetails, OrderItemRow, OrderSummaryRow, StatusEntry

# Each row: its table, and its fields that are no column of it (read beside the table's columns).
SHAPES: dict[type, tuple[str, set[str]]] = {
    OrderDetails: ("customer_order", {"items", "status_history", "refunded_amount"}),
    OrderItemRow: ("order_item", set()),
    StatusEntry: ("order_status_history", set()),
}


@pytest.mark.parametrize("row", list(SHAPES), ids=lambda row: row.__name__)
def test_a_row_has_its_tables_columns(row: type) -> None:
    table, added = SHAPES[row]
    columns = {c.name for c in models.SQLModel.metadata.tables[table].columns}
    assert {f.name for f in fields(row)} == columns | added


def test_a_locked_order_reads_columns_of_the_order() -> None:
    # Its columns are the ones it names (`repository._LOCK_COLUMNS`), with `ships` computed beside them.
    columns = {c.name for c in models.SQLModel.metadata.tables["customer_order"].columns}
    assert {f.name for f in fields(LockedOrder)} - {"ships"} <= columns
    assert "ships" not in columns


def test_a_summary_row_reads_columns_of_the_order() -> None:
    # A list's line: the order's columns by name (`queries._SUMMARY_COLUMNS`), its units counted beside.
    columns = {c.name for c in models.SQLModel.metadata.tables["customer_order"].columns}
    assert {f.name for f in fields(OrderSummaryRow)} - {"item_count"} <= columns
    assert "item_count" not in columns
