"""Each row of `rows.py` has its table's columns, by name and in order: the statements read a row
with `SELECT address` and `Row(**mapping)` and write it with its `vars`, so a column added to a
table and not to its row fails here, not in a checkout."""

from __future__ import annotations

from dataclasses import fields

import pytest

from atelier_identity import models
from atelier_identity.rows import AddressRow

# Each row and the table whose columns it has.
TABLES: dict[type, str] = {AddressRow: "address"}


@pytest.mark.parametrize("row", list(TABLES), ids=lambda row: row.__name__)
def test_a_row_has_its_tables_columns(row: type) -> None:
    table = models.SQLModel.metadata.tables[TABLES[row]]
    assert [f.name for f in fields(row)] == [c.name for c in table.columns]
