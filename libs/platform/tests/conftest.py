"""Fixtures of the platform's tests: the repository's scripts `clients/generate.py` and
`deploy/render.py`, the merged OpenAPI document, made once for every test that reads it, and the
embedded platform the CLI tests run their commands against."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from fastapi import FastAPI

from atelier_gateway.settings import GatewaySettings
from atelier_platform import embedded

ROOT = Path(__file__).resolve().parents[3]


def _script(name: str, path: Path) -> ModuleType:
    """A script of the repository (not a package) imported as module `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generate() -> ModuleType:
    """`clients/generate.py`, what `make clients` runs."""
    return _script("atelier_clients_generate", ROOT / "clients" / "generate.py")


@pytest.fixture(scope="session")
def render() -> ModuleType:
    """`deploy/render.py`, what `make chart-check` runs."""
    return _script("atelier_deploy_render", ROOT / "deploy" / "render.py")


@pytest.fixture(scope="session")
def schema(generate: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The merged document, as `atelier openapi` writes it."""
    path: Path = generate.openapi(tmp_path_factory.mktemp("openapi"))
    return path


@pytest.fixture
async def embedded_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """The embedded platform on `tmp_path`, started (its start migrates), and the CLI pointed at the
    same files: its gateway's app, for a client's transport."""
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path))
    gateway, _ = embedded.build(tmp_path, gateway_settings=GatewaySettings(environment="dev", data_dir=tmp_path))
    async with gateway.router.lifespan_context(gateway):
        yield gateway


@pytest.fixture
async def platform(embedded_gateway: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The embedded platform (`embedded_gateway`) through an HTTP client."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=embedded_gateway),
                                 base_url="http://localhost") as client:
        yield client
