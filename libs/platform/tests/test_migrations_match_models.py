"""Each service's migrations build exactly the tables its models declare (columns, indexes,
constraints): a model changed without its migration fails here, not in production."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect
from sqlmodel import SQLModel

from atelier_common.migrations import upgrade

SERVICES = ("identity", "catalog", "cart", "orders", "payments", "generation")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_what_the_models_declare(service: str, tmp_path: Path) -> None:
    spec = importlib.import_module(f"atelier_{service}.app").SPEC
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(spec.migrations, url)
    engine = create_engine(url)
    with engine.connect() as connection, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes; they are skipped
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
        # Every service's models share SQLModel's metadata: compare this database's tables.
        declared = MetaData()
        for table in SQLModel.metadata.tables.values():
            if table.name in tables:
                table.to_metadata(declared)
        differences = compare_metadata(MigrationContext.configure(connection), declared)
    engine.dispose()
    assert differences == []
    models = importlib.import_module(f"atelier_{service}.models")
    own = {cls.__tablename__ for cls in vars(models).values()
           if isinstance(cls, type) and issubclass(cls, SQLModel) and cls.__module__ == models.__name__
           and hasattr(cls, "__table__")}
    assert own and own <= tables, f"declared but never created: {sorted(own - tables)}"
