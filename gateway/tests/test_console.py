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
