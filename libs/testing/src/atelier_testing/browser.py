"""Headless Chromium for tests: Debian's `chromium` driven by Playwright, with nothing leaving the machine.

`chromium()` launches the browser (a missing `chromium` skips, or fails where infrastructure is
required). `offline_context(browser)` opens a context in which every request to a host that is not
loopback is recorded and aborted, and which records what a test must find empty: console errors,
answers of 500 and above, and uncaught page errors (`Watch.assert_clean()`). `static_site(files)`
serves a few files of a test's own making on a loopback port of their own: a frontend on another
origin (and, with `host="127.0.0.1"` against an API on `localhost`, on another site).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from atelier_testing.infra import REQUIRE_ENV, infra_required
from atelier_testing.servers import uvicorn_service

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def chromium_path() -> str:
    """Debian's Chromium, or a skip (a failure where `ATELIER_REQUIRE_INFRA=1`)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "Debian's chromium is not installed (apt-get install -y chromium)"
        if infra_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium (a Playwright `Browser`), closed at the end."""
    executable = chromium_path()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True,
            # The machine's network is closed: Chromium's own background calls would only fail.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Watch:
    """What a browser context saw that a working frontend never causes."""

    escaped: list[str] = field(default_factory=list)  # requests to another host, aborted
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)  # "500 GET http://…"
    requests: list[str] = field(default_factory=list)  # "GET http://…", in order
    # "401 GET http://…": what a console error about a failed load does not name.
    client_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.escaped, f"requests left the machine: {self.escaped}"
        assert not self.server_errors, f"5xx answers: {self.server_errors}"
        assert not self.page_errors, f"uncaught errors in the page: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}; 4xx answers: {self.client_errors}"


@asynccontextmanager
async def offline_context(browser: Any, **options: Any) -> AsyncIterator[tuple[Any, Watch]]:
    """A new browser context (`options` as for `Browser.new_context`) where only loopback answers."""
    context = await browser.new_context(**options)
    watch = Watch()

    async def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            watch.escaped.append(url)
            await route.abort()

    def on_page(page: Any) -> None:
        page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))

    def on_response(response: Any) -> None:
        if response.status >= 500:
            watch.server_errors.append(f"{response.status} {response.request.method} {response.url}")
        elif response.status >= 400:
            watch.client_errors.append(f"{response.status} {response.request.method} {response.url}")

    await context.route("**/*", only_local)
    context.on("page", on_page)
    context.on("request", lambda r: watch.requests.append(f"{r.method} {r.url}"))
    context.on("response", on_response)
    try:
        yield context, watch
    except Exception as exc:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        if isinstance(exc, PlaywrightTimeout):  # a wait that never ended: say what was there instead
            exc.add_note(await _what_pages_showed(context, watch))
        raise
    finally:
        await context.close()


async def _what_pages_showed(context: Any, watch: Watch) -> str:
    lines = []
    for page in context.pages:
        try:
            text = await page.inner_text("body", timeout=2000)
        except Exception as exc:  # a page that cannot answer either: say so, keep the first error
            text = f"(its text could not be read: {exc!r})"
        lines.append(f"the page at {page.url} showed: {' '.join(text.split())[:2000]}")
    lines.append(f"4xx: {watch.client_errors[-10:]}; 5xx: {watch.server_errors[-10:]}; "
                 f"console errors: {watch.console_errors[-5:]}; page errors: {watch.page_errors[-5:]}")
    return "\n".join(lines)


_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
          ".json": "application/json", ".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml"}


@asynccontextmanager
async def static_site(files: Mapping[str, bytes | str], host: str = "127.0.0.1") -> AsyncIterator[str]:
    """`files` (path → content, e.g. `{"/index.html": …}`) served on a free port: the site's origin.

    `/` serves `/index.html`; an unknown path serves `/index.html` too, as a single-page app's host
    does, so a frontend's own routes (`/password-reset?token=…`) load the page."""
    contents = {path: body.encode() if isinstance(body, str) else body for path, body in files.items()}

    async def serve(request: Request) -> Response:
        path = request.url.path
        if path not in contents:
            path = "/index.html"
        suffix = path[path.rfind("."):] if "." in path else ".html"
        return Response(contents.get(path, b""), media_type=_TYPES.get(suffix, "application/octet-stream"))

    app = Starlette(routes=[Route("/{path:path}", serve)])
    async with uvicorn_service(app) as url:
        yield url.replace("127.0.0.1", host, 1)
