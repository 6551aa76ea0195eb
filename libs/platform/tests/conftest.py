"""Fixtures of the platform's tests: `clients/generate.py` (what `make clients` runs) and the merged
OpenAPI document it writes, made once for every test that reads it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("atelier_clients_generate", ROOT / "clients" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generate() -> ModuleType:
    return _generate()


@pytest.fixture(scope="session")
def schema(generate: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The merged document, as `atelier openapi` writes it."""
    path: Path = generate.openapi(tmp_path_factory.mktemp("openapi"))
    return path
