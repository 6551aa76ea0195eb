"""The console has no `serious` or `critical` accessibility violation by axe-core: the
sign-in page, then every page an admin reaches (each route of `PAGES` in console/pages.js) and an
order's, a customer's, a product's and a storefront's page, with every `<details>` opened; the
product page's stock boxes have labels one sees, not only ones moved off the screen.

axe-core is the copy tests-e2e/tools pins (`npm ci --prefix tests-e2e/tools`, run by .ci/run):
nothing is fetched while the test runs. The embedded platform only: both modes serve the same
files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.console import SCREEN, sign_in, visit
from infra.journeys import customer, paid_order, staff

from atelier_testing.browser import chromium, offline_context
from atelier_testing.infra import REQUIRE_ENV, infra_required
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD, Platform

pytestmark = pytest.mark.e2e

TOOLS = Path(__file__).resolve().parents[1] / "tools"
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")
# Forms and lists that are pages of their own under a section's path.
SUBPAGES = ("catalog/new", "catalog/csv", "storefronts/new")

# Every box of a product page's stock form has a label one sees (axe accepts one moved off the
# screen, which a sighted user never reads).
_OFFSCREEN_STOCK_LABELS = """() => [...document.querySelectorAll('section[aria-label="Stock"] input, section[aria-label="Stock"] select')]
  .filter((box) => { const label = document.querySelector(`label[for="${box.id}"]`);
                     const shown = label && label.getBoundingClientRect();
                     return !shown || shown.width === 0 || shown.right <= 0 || shown.x < 0; })
  .map((box) => box.name)"""

_RUN_AXE = """async () => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}"""


def axe_script() -> Path:
    """The pinned axe-core, or a skip (a failure where `ATELIER_REQUIRE_INFRA=1`), as
    `atelier_testing.browser` treats a missing Chromium."""
    if not AXE.is_file():
        reason = f"axe-core is not installed ({AXE} is missing: npm ci --prefix tests-e2e/tools)"
        if infra_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return AXE


def page_paths(pages_js: str) -> list[str]:
    """Every path of the console's table of pages (a page the navigation leaves out too)."""
    return re.findall(r'\{ path: "([a-z-]+)"', pages_js.split("export const PAGES", 1)[1])


async def serious_violations(page: Any, script: Path) -> list[str]:
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.add_script_tag(path=str(script))
    return [f"{v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}"
            for v in await page.evaluate(_RUN_AXE) if v["impact"] in FAILING]


async def test_every_console_page_passes_axe(embedded_platform: Platform) -> None:
    script = axe_script()
    platform = embedded_platform
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as api:
        admin = await staff(api)
        order = await paid_order(api, await customer(api))
        buyer = (await api.get(f"/api/v1/staff/orders/{order['id']}", headers=admin)).json()["user_id"]
        product = (await api.get("/api/v1/products", params={"limit": 1})).json()["results"][0]
        storefront = (await api.get("/api/v1/storefronts", headers=admin)).json()["results"][0]["slug"]
        price_list = (await api.get("/api/v1/staff/price-lists", headers=admin)).json()["results"][0]["id"]
        zones = (await api.get("/api/v1/staff/shipping-zones", headers=admin)).json()["results"]
        groups = (await api.get("/api/v1/staff/customer-groups", headers=admin)).json()["results"]
        pages_js = (await api.get("/console/static/pages.js")).text
        # A draft order with a line: its page shows every form (lines, discount, shipping) and the preview.
        draft = (await api.post("/api/v1/staff/draft-orders", headers=admin, json={"email": "a11y@example.com"})).json()
        await api.post(f"/api/v1/staff/draft-orders/{draft['id']}/lines", headers=admin, json={"product_id": product["id"]})
    paths = [*page_paths(pages_js), *SUBPAGES, f"orders/{order['id']}", f"customers/{buyer}", f"catalog/{product['id']}",
             f"storefronts/{storefront}", f"price-lists/{price_list}", f"draft-orders/{draft['id']}"]
    if groups:  # a customer group's page (the demo's Marbelle has one)
        paths.append(f"customer-groups/{groups[0]['id']}")
    if zones:  # a zone's page, and its first method's
        paths.append(f"shipping-zones/{zones[0]['id']}")
        if zones[0]["methods"]:
            paths.append(f"shipping-zones/{zones[0]['id']}/{zones[0]['methods'][0]['id']}")

    found: dict[str, list[str]] = {}
    # The injected axe-core is an inline script, which the console's CSP (script-src 'self')
    # refuses; this context alone ignores the CSP. Every other console test keeps it.
    async with chromium() as browser, offline_context(browser, bypass_csp=True, **SCREEN) as (context, watch):
        page = await context.new_page()
        await page.goto(f"{platform.url}/console")
        await page.get_by_role("heading", name="Staff sign-in").wait_for()
        found["sign-in"] = await serious_violations(page, script)
        await sign_in(page, platform.url, STAFF_EMAIL, STAFF_PASSWORD)
        nav = await page.locator("#nav-list a").evaluate_all("links => links.map(a => a.hash.slice(2))")
        assert set(nav) <= set(paths), "a page in the navigation is not in PAGES"
        for path in paths:
            await visit(page, f"{platform.url}/console#/{path}")
            found[path] = await serious_violations(page, script)
            if path == f"catalog/{product['id']}":
                assert await page.locator('section[aria-label="Stock"] input').count() >= 2
                found[path] += [f"the stock box {name} has no visible label"
                                for name in await page.evaluate(_OFFSCREEN_STOCK_LABELS)]
        watch.assert_clean()

    failures = {path: violations for path, violations in found.items() if violations}
    assert not failures, "axe-core finds serious or critical violations:\n" + "\n".join(
        f"#/{path}: {v}" for path, violations in failures.items() for v in violations)
    version = json.loads((AXE.parent / "package.json").read_text())["version"]
    print(f"\naxe-core {version}: {len(found)} pages without a serious or critical violation")
