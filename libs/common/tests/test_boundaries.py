"""The architecture's import rules, checked on the source: a newcomer's cross-service import fails here.

- no service imports another service's package;
- libs/common imports no service and no gateway;
- the gateway imports services only in its composition root (the embedded mode and the CLI).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())
COMPOSITION_ROOT = {"embedded.py", "cli.py"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def sources(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if ".venv" not in p.parts]


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    others = {f"atelier_{s}" for s in SERVICES if s != service} | {"atelier_gateway"}
    offenders = {str(p.relative_to(ROOT)): sorted(imported_packages(p) & others)
                 for p in sources(ROOT / "services" / service)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_common_imports_no_service_and_no_gateway() -> None:
    forbidden = {f"atelier_{s}" for s in SERVICES} | {"atelier_gateway"}
    offenders = {str(p.relative_to(ROOT)): sorted(imported_packages(p) & forbidden)
                 for p in sources(ROOT / "libs" / "common" / "src")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_gateway_imports_services_only_in_its_composition_root() -> None:
    forbidden = {f"atelier_{s}" for s in SERVICES}
    offenders = {str(p.relative_to(ROOT)): sorted(imported_packages(p) & forbidden)
                 for p in sources(ROOT / "gateway" / "src") if p.name not in COMPOSITION_ROOT}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_services_never_import_fastapi_in_their_service_layer() -> None:
    offenders = []
    for service in SERVICES:
        package = ROOT / "services" / service / "src" / f"atelier_{service}"
        layer = [package / "service.py", package / "domain.py", package / "repository.py"]
        layer += list((package / "service").glob("*.py")) if (package / "service").is_dir() else []
        offenders += [str(p.relative_to(ROOT)) for p in layer if p.exists() and "fastapi" in imported_packages(p)]
    assert offenders == []
