"""The browser kit records what a clean frontend run must not have: escapes, console errors, 5xx."""

from __future__ import annotations

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout

from atelier_testing.browser import chromium, offline_context, static_site

PAGE = """<!doctype html><title>kit</title><script>
fetch("https://example.com/track").catch(() => {});
fetch("/missing.json").then(r => r.text()).then(t => { document.title = "loaded:" + t.length; });
console.error("boom");
</script>"""


async def test_a_page_that_calls_out_and_logs_an_error_is_not_clean() -> None:
    async with static_site({"/index.html": PAGE}) as site, chromium() as browser:
        async with offline_context(browser) as (context, watch):
            page = await context.new_page()
            await page.goto(f"{site}/some/route")  # an SPA's own route serves index.html
            await page.wait_for_function("document.title.startsWith('loaded:')")
        assert watch.escaped == ["https://example.com/track"]
        assert "boom" in watch.console_errors
        assert f"GET {site}/some/route" in watch.requests
        with pytest.raises(AssertionError, match="left the machine"):
            watch.assert_clean()


async def test_a_wait_that_never_ends_says_what_the_page_showed() -> None:
    page_text = "<!doctype html><title>kit</title><main>Could not load: orders are unavailable</main>"
    async with static_site({"/index.html": page_text}) as site, chromium() as browser:
        with pytest.raises(PlaywrightTimeout) as raised:
            async with offline_context(browser) as (context, _):
                page = await context.new_page()
                await page.goto(f"{site}/orders")
                await page.get_by_text("1 orders found").wait_for(timeout=500)
    assert any(f"the page at {site}/orders showed: Could not load: orders are unavailable" in note
               for note in raised.value.__notes__)
