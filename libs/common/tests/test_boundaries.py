"""The architecture's import rules, checked on the source: a newcomer's cross-package import fails here.

- no service imports another service's package, the gateway, the platform or the test kit;
- libs/common imports no service, no gateway, no platform and no test kit;
- the gateway imports no service, no platform, no test kit and no compatibility profile (it is the edge only);
- the compatibility profiles (`atelier_compat`) import `atelier_common` and, of the gateway, only its public
  seams (`atelier_gateway.seams`); no service, no platform, no test kit;
- only the platform (the composition root: the CLI, the embedded mode, the topology) imports every service,
  and it hands the profiles to the gateway.

"Imports" covers the dynamic ones too: `importlib.import_module(...)`/`__import__(...)` and module-path strings
(`"atelier_x.app:create_app"` for uvicorn, `-m atelier_x.cli`). A dynamic import whose name is computed
(`f"atelier_{service}.app"`, a variable) may reach any package, so it counts as importing all of them.
Tests may import the test kit; these rules scan the runtime sources (`src/`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir())
SERVICE_PACKAGES = {f"atelier_{s}" for s in SERVICES}
PACKAGES = SERVICE_PACKAGES | {"atelier_common", "atelier_gateway", "atelier_compat", "atelier_platform",
                               "atelier_testing"}
# The gateway modules the compatibility profiles may import: its public seams.
GATEWAY_SEAMS = {"atelier_gateway.seams"}
GATEWAY_MODULE_PATH = re.compile(r"(atelier_gateway(?:\.\w+)*)(?::[\w.]+)?")
ANY = "atelier_*"  # a dynamic import with a computed name
MODULE_PATH = re.compile(r"(atelier_[a-z]+)(?:[.:][\w.:]*)?")
IMPORTERS = {"import_module", "__import__"}


def _dynamic_target(node: ast.expr) -> str | None:
    """The package a dynamic import's name reaches: a literal names it; a computed name may reach any (ANY)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        match = MODULE_PATH.fullmatch(node.value)
        return match.group(1) if match else None
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            if match := re.match(r"atelier_[a-z]+(?=[.:])", head.value):
                return match.group(0)  # f"atelier_catalog.{module}"
    return ANY


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in IMPORTERS and (target := _dynamic_target(node.args[0])):
                names.add(target)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A module path in a string ("atelier_x.app:create_app", "-m atelier_x.cli"): an import by name.
            match = MODULE_PATH.fullmatch(node.value)
            if match and match.group(1) in PACKAGES:
                names.add(match.group(1))
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if (isinstance(head, ast.Constant) and head.value == "atelier_" and len(node.values) > 1
                    and isinstance(node.values[1], ast.FormattedValue)):
                names.add(ANY)  # f"atelier_{service}.app:create_app"
    return names


def gateway_modules(path: Path) -> set[str]:
    """The gateway modules a file imports (`atelier_gateway.seams`), literal dynamic names included;
    a bare `import atelier_gateway` is the package itself."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "atelier_gateway")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "atelier_gateway":  # from atelier_gateway import seams
                found.update(f"atelier_gateway.{alias.name}" for alias in node.names)
            elif node.module.split(".")[0] == "atelier_gateway":
                found.add(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if match := GATEWAY_MODULE_PATH.fullmatch(node.value):
                found.add(match.group(1))
    return found


def sources(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if ".venv" not in p.parts]


def offenders(folder: Path, forbidden: set[str], *, computed_names: bool = False) -> dict[str, list[str]]:
    """Files of `folder` that import a forbidden package; a computed dynamic import counts as one
    unless `computed_names` allows it (the composition root only)."""
    found = {}
    for path in sources(folder):
        imported = imported_packages(path)
        bad = imported & forbidden | ({ANY} if ANY in imported and not computed_names else set())
        if bad:
            found[str(path.relative_to(ROOT))] = sorted(bad)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service_nor_the_platform(service: str) -> None:
    forbidden = PACKAGES - {f"atelier_{service}", "atelier_common"}
    assert offenders(ROOT / "services" / service / "src", forbidden) == {}


def test_a_services_tests_import_no_other_service() -> None:
    for service in SERVICES:
        forbidden = PACKAGES - {f"atelier_{service}", "atelier_common", "atelier_testing"}
        assert offenders(ROOT / "services" / service / "tests", forbidden) == {}, service


def test_common_imports_no_service_gateway_platform_or_test_kit() -> None:
    assert offenders(ROOT / "libs" / "common" / "src", PACKAGES - {"atelier_common"}) == {}


def test_the_gateway_is_the_edge_only() -> None:
    assert offenders(ROOT / "gateway" / "src", PACKAGES - {"atelier_common", "atelier_gateway"}) == {}


def test_the_profiles_use_the_gateway_through_its_seams_only() -> None:
    src = ROOT / "libs" / "compat" / "src"
    assert sources(src), "the compatibility profiles live in libs/compat"
    assert offenders(src, PACKAGES - {"atelier_common", "atelier_compat", "atelier_gateway"}) == {}
    beyond = {str(p.relative_to(ROOT)): sorted(gateway_modules(p) - GATEWAY_SEAMS) for p in sources(src)}
    assert {path: modules for path, modules in beyond.items() if modules} == {}


@pytest.mark.parametrize(("source", "module"), [
    ("from atelier_gateway.proxy import Proxy", "atelier_gateway.proxy"),
    ("from atelier_gateway import app", "atelier_gateway.app"),
    ("import atelier_gateway.settings", "atelier_gateway.settings"),
    ("import atelier_gateway", "atelier_gateway"),
    ("uvicorn.run('atelier_gateway.app:create_app', factory=True)", "atelier_gateway.app"),
    ("from atelier_gateway.seams import resolve", "atelier_gateway.seams"),
])
def test_gateway_module_imports_are_named(tmp_path: Path, source: str, module: str) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    assert gateway_modules(path) == {module}


def test_the_test_kit_imports_no_service_gateway_or_platform() -> None:
    """But for its platform launcher, which starts the `atelier` command and may name the platform and
    the gateway, and its gateway harness, which runs the gateway in process (never a service)."""
    kit = ROOT / "libs" / "testing" / "src"
    launcher = kit / "atelier_testing" / "platform.py"
    harness = kit / "atelier_testing" / "gateway.py"
    found = offenders(kit, PACKAGES - {"atelier_common", "atelier_testing"})
    assert set(found) <= {str(launcher.relative_to(ROOT)), str(harness.relative_to(ROOT))}
    assert imported_packages(launcher) & (SERVICE_PACKAGES | {ANY}) == set()
    assert imported_packages(harness) & PACKAGES == {"atelier_common", "atelier_testing", "atelier_gateway"}


def test_the_platform_is_the_composition_root() -> None:
    """It may import every service (statically or by computed name), never the test kit."""
    assert offenders(ROOT / "libs" / "platform" / "src", {"atelier_testing"}, computed_names=True) == {}
    reached = set().union(*(imported_packages(p) for p in sources(ROOT / "libs" / "platform" / "src")))
    assert ANY in reached and "atelier_gateway" in reached and "atelier_compat" in reached


@pytest.mark.parametrize(("source", "package"), [
    ("import atelier_catalog.app", "atelier_catalog"),
    ("from atelier_catalog.domain import price", "atelier_catalog"),
    ("import importlib\nimportlib.import_module('atelier_catalog.app')", "atelier_catalog"),
    ("from importlib import import_module\nimport_module('atelier_catalog')", "atelier_catalog"),
    ("__import__('atelier_catalog.settings')", "atelier_catalog"),
    ("import importlib\nimportlib.import_module(f'atelier_{name}.app')", ANY),
    ("import importlib\nimportlib.import_module(module_name)", ANY),
    ("uvicorn.run('atelier_catalog.app:create_app', factory=True)", "atelier_catalog"),
    ("uvicorn.run(f'atelier_{service}.app:create_app', factory=True)", ANY),
    ("subprocess.run([sys.executable, '-m', 'atelier_platform.cli'])", "atelier_platform"),
])
def test_dynamic_imports_are_caught(tmp_path: Path, source: str, package: str) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    assert package in imported_packages(path)


@pytest.mark.parametrize("source", [
    "NOTIFY_CHANNEL = 'atelier_outbox'",
    "prefix = 'atelier_'",
    "sql = f'DROP DATABASE \"atelier_test_{name}\"'",
    "REFRESH_COOKIE = 'atelier_refresh'",
])
def test_names_that_only_look_like_packages_are_not_imports(tmp_path: Path, source: str) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    assert imported_packages(path) & (PACKAGES | {ANY}) == set()


def test_services_never_import_fastapi_in_their_service_layer() -> None:
    offenders = []
    for service in SERVICES:
        package = ROOT / "services" / service / "src" / f"atelier_{service}"
        layer = [package / "service.py", package / "domain.py", package / "repository.py"]
        layer += list((package / "service").glob("*.py")) if (package / "service").is_dir() else []
        offenders += [str(p.relative_to(ROOT)) for p in layer if p.exists() and "fastapi" in imported_packages(p)]
    assert offenders == []
