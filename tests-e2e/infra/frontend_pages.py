"""What the products' browser tests share: their pages (tests-e2e/compat/pages), the mail links they
follow, and a storefront that lets a page's origin in (added beside the seeded origins)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from infra.journeys import latest_mail, poll, staff

PAGES = Path(__file__).parent.parent / "compat" / "pages"


def page_files(name: str) -> dict[str, str]:
    return {"/index.html": (PAGES / f"{name}.html").read_text()}


async def mail_link(api: httpx.AsyncClient, email: str, subject: str, pattern: str) -> str:
    """The first match of `pattern` in the newest mail to `email` whose subject has `subject`."""
    text = (await latest_mail(api, email, subject))["text"]
    found = re.search(pattern, text)
    assert found, text
    return found.group(1)


async def allow_origin(api: httpx.AsyncClient, slug: str, origin: str, *, passkey: bool = False) -> None:
    """Add `origin` to the storefront's origins (and its passkey origins), then wait until the
    gateway's copy grants it CORS on the storefront's profile."""
    headers = await staff(api)
    current = (await api.get(f"/api/v1/storefronts/{slug}", headers=headers)).json()
    patch: dict[str, Any] = {"origins": sorted({*current["origins"], origin})}
    if passkey:
        patch["passkey"] = {"rp_id": current["passkey"]["rp_id"],
                            "origins": sorted({*current["passkey"]["origins"], origin})}
    r = await api.patch(f"/api/v1/storefronts/{slug}", json=patch, headers=headers)
    assert r.status_code == 200, r.text

    async def granted() -> bool:
        r = await api.options(f"/compat/{slug}/", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        return r.headers.get("access-control-allow-origin") == origin

    await poll(granted, timeout=30, message=f"{origin} allowed on {slug}")


async def wait_status(page: Any, text: str) -> None:
    await page.wait_for_function(f"document.getElementById('status').textContent === {text!r}", timeout=60_000)
