"""The web console's files: served by the gateway from its package, nothing from elsewhere.

Its behaviour is tested in a browser against whole platforms: tests-e2e/staff/test_console.py.
"""

from __future__ import annotations

import re

from atelier_gateway.console import CONSOLE_DIR


async def test_the_shell_and_its_files_are_served_with_a_same_origin_policy(gateway) -> None:
    for path in ("/console", "/console/"):
        page = await gateway.client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assets = re.findall(r'(?:src|href)="(/console/static/[^"]+)"', page.text)
    assert sorted(assets) == ["/console/static/app.js", "/console/static/console.css"]
    for asset in assets:
        r = await gateway.client.get(asset)
        assert r.status_code == 200 and len(r.content) > 100, asset
    script = await gateway.client.get("/console/static/app.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))


def test_no_file_names_another_host_or_writes_html_from_data() -> None:
    """Offline and no CDN: every module the console imports is its own, and no page puts
    strings into innerHTML (the API's data is shown as text)."""
    for entry in CONSOLE_DIR.iterdir():
        if entry.name.endswith((".js", ".html", ".css")):
            text = entry.read_text()
            # The SVG namespace is a name, never fetched (console/charts.js).
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg\")", text), entry.name
            assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", text), entry.name
            for imported in re.findall(r'from "([^"]+)"', text):
                assert imported.startswith("./") and (CONSOLE_DIR / imported[2:]).is_file(), (entry.name, imported)


async def test_the_console_is_not_a_way_around_the_services(gateway) -> None:
    """Only the shell and its static files: any other path under /console is a 404."""
    assert (await gateway.client.get("/console/api/v1/staff/orders")).status_code == 404
    assert (await gateway.client.post("/console")).status_code == 405


def test_no_module_imports_one_that_imports_it_back() -> None:
    """The modules import each other without a loop: pages.js (the registry) imports the pages,
    and what pages share is kit.js's, never pages.js's. In a loop, a module may run before one it
    reads from has, and a top-level read of its names fails."""
    graph = {entry.name: set(re.findall(r'^import\b[^;]*?\bfrom "\./([^"]+)"', entry.read_text(), re.MULTILINE))
             for entry in CONSOLE_DIR.iterdir() if entry.name.endswith(".js")}
    assert graph["pages.js"] and graph["app.js"] == {"api.js", "ui.js", "pages.js"}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "an import loop: " + " → ".join((*path[path.index(name):], name))
        if name not in done:
            for imported in sorted(graph[name]):
                visit(imported, (*path, name))
            done.add(name)

    for name in sorted(graph):
        visit(name, ())
    assert not any("pages.js" in imports for name, imports in graph.items() if name != "app.js")


def test_every_name_a_module_imports_is_exported_by_it() -> None:
    """A name imported from a module it is not exported by fails the whole console at load, and
    Biome does not look across modules."""
    modules = {entry.name: entry.read_text() for entry in CONSOLE_DIR.iterdir() if entry.name.endswith(".js")}
    exported = {name: set(re.findall(r"^export (?:async )?(?:function|const|let|class) (\w+)", text, re.MULTILINE))
                for name, text in modules.items()}
    for name, text in modules.items():
        for names, source in re.findall(r'^import \{([^}]*)\} from "\./([^"]+)"', text, re.MULTILINE):
            for imported in (n.strip() for n in names.split(",") if n.strip()):
                assert imported in exported[source], f"{name} imports {imported}, which {source} does not export"
