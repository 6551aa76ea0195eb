"""The embedded mode runs every service in one process, on one SQLModel metadata: a table name
used by two services fails at start (`Table 'x' is already defined`). Caught here instead."""

from __future__ import annotations

import importlib

from sqlmodel import SQLModel

from atelier_gateway.settings import SERVICES


def test_every_services_tables_load_together_with_distinct_names() -> None:
    for service in SERVICES:
        importlib.import_module(f"atelier_{service}.models")  # raises on a name another service took
    assert {"stock_order", "early_refund", "cart_owner", "order_owner", "catalog_owner",
            "generation_owner"} <= set(SQLModel.metadata.tables)
