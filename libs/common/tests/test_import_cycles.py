"""No two modules of the runtime sources import each other, directly or through others.

Every import counts: at module level, inside a function (a lazy import is how a cycle hides) and under
`TYPE_CHECKING` (a type-only cycle is still two modules that cannot be understood apart). Where a module
needs only the shape of another's object, it declares a `Protocol` of what it reads (as
`atelier_common.health.Runtime` does), or is handed the callable it runs (`Topology.run_cli`).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def modules() -> dict[str, Path]:
    """Every module of the runtime sources (`*/src/<package>/...`), by dotted name."""
    found: dict[str, Path] = {}
    for src in [*ROOT.glob("libs/*/src"), *ROOT.glob("services/*/src"), ROOT / "gateway" / "src"]:
        for path in src.rglob("*.py"):
            parts = list(path.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets.add(base)
            # `from package import module` imports the module; `from module import name` only the module.
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    for target in list(targets):  # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        parent = target.rpartition(".")[0]
        while parent and not name.startswith(parent + "."):
            targets.add(parent)
            parent = parent.rpartition(".")[0]
    return {target for target in targets if target in known and target != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_importing_a_submodule_counts_its_packages(tmp_path: Path) -> None:
    """`from p.q.m import x` runs `p/q/__init__.py`: a cycle through a package's `__init__` counts."""
    module = tmp_path / "m.py"
    module.write_text("from p.q.m import x\n")
    assert imports_of("a.b", module, {"p", "p.q", "p.q.m", "a.b"}) == {"p", "p.q", "p.q.m"}


def test_no_module_imports_itself_through_others() -> None:
    known = modules()
    graph = {name: imports_of(name, path, set(known)) for name, path in known.items()}
    found = cycles(graph)
    assert not found, "import cycles (each line one cycle's modules):\n" + "\n".join(" ↔ ".join(c) for c in found)
