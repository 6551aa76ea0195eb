"""Only `atelier_common.fast` may touch a library's private API: no source outside it
names a private attribute of SQLAlchemy, uvicorn, httpx or httptools, nor imports from their
private or internal modules. The private names are read from the installed libraries themselves:
every `_name` they define (functions, classes, attributes set on `self` or `cls`, module and class
level assignments)."""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LIBRARIES = ("sqlalchemy", "uvicorn", "httpx", "httptools")
# Modules a caller may not import from: private ones (`httpx._client`) and uvicorn's protocol
# implementations (internal: `uvicorn.run(http=...)` is how they are chosen).
INTERNAL_MODULES = ("uvicorn.protocols",)
# Names with a leading underscore that the libraries document as public API (SQLAlchemy's `Row`
# keeps them out of the way of column names).
DOCUMENTED = frozenset({"_mapping", "_asdict", "_fields", "_t", "_tuple"})
FAST = ROOT / "libs/common/src/atelier_common/fast"
SOURCES = (*sorted(ROOT.glob("libs/*/src")), ROOT / "gateway/src", *sorted(ROOT.glob("services/*/src")), ROOT / "bench",
           ROOT / "tests-e2e")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@functools.cache
def library_private_names() -> frozenset[str]:
    names: set[str] = set()
    for library in LIBRARIES:
        spec = importlib.util.find_spec(library)
        assert spec is not None and spec.submodule_search_locations, library
        for path in Path(next(iter(spec.submodule_search_locations))).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
        # compiled parts (httptools' parser, SQLAlchemy's cython extensions) through their stubs
        for path in Path(next(iter(spec.submodule_search_locations))).rglob("*.pyi"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.ClassDef):
                    names.add(node.name)
    return frozenset(name for name in names if _private(name)) - DOCUMENTED


def _is_library_module(module: str) -> bool:
    return module.split(".")[0] in LIBRARIES


def violations(path: Path) -> list[str]:
    found = []
    private = library_private_names()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr in private:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"{where}: .{node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr", "hasattr")
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in private):
            found.append(f"{where}: {node.func.id}(…, {node.args[1].value!r})")
        elif isinstance(node, ast.ImportFrom) and node.module and _is_library_module(node.module):
            if any(_private(part) for part in node.module.split(".")) or node.module.startswith(INTERNAL_MODULES):
                found.append(f"{where}: from {node.module} import …")
            found += [f"{where}: import {alias.name} from {node.module}" for alias in node.names if _private(alias.name)]
        elif isinstance(node, ast.Import):
            found += [f"{where}: import {alias.name}" for alias in node.names if _is_library_module(alias.name)
                      and (any(_private(part) for part in alias.name.split(".")) or alias.name.startswith(INTERNAL_MODULES))]
    return found


def test_the_private_names_are_known() -> None:
    # The lists are read, not guessed: a few the fast paths use are among them.
    assert {"_result_columns", "_bind_processors", "_cached_result_processor"} <= library_private_names()


def test_no_private_api_of_those_libraries_outside_the_fast_paths() -> None:
    found = [hit for source in SOURCES for path in sorted(source.rglob("*.py"))
             if not path.is_relative_to(FAST) for hit in violations(path)]
    assert not found, ("private API of " + ", ".join(LIBRARIES) + " outside atelier_common/fast (move it behind a "
                       "fast path with a switch, or use the public API):\n" + "\n".join(found))


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol\n"
                      "from httpx._client import ClientState\n"
                      "rows = compiled._result_columns\n"
                      "getattr(type_, '_cached_result_processor')\n"
                      "ok = row._mapping\n")
    hits = violations(sample)
    assert [hit.split(": ", 1)[1] for hit in hits] == [
        "from uvicorn.protocols.http.httptools_impl import …", "from httpx._client import …", "._result_columns",
        "getattr(…, '_cached_result_processor')"]
