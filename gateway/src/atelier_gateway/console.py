"""The staff web console at `/console`: static files shipped in this package, no build step.

The page is public; everything it shows comes from the staff API through this same gateway, with
the staffer's own token (the console has no route of its own that reaches a service). The files
are plain HTML, one stylesheet and ES modules, so they work offline and need no bundler in CI;
the Content-Security-Policy keeps every script, style and call on this origin.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

CONSOLE_PATH = "/console"
CONSOLE_DIR = files("atelier_gateway") / "console"
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The shell is tiny and names the module files: always revalidated, so a new release is picked up.
# (`nosniff` too, on every answer of the gateway: `atelier_common.responses.App`.)
_HEADERS = {"Content-Security-Policy": CONSOLE_CSP, "Cache-Control": "no-cache", "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer"}


def install_console(app: FastAPI) -> None:
    """`/console` (the shell; pages are `#/…` fragments, so no other path needs the shell) and
    `/console/static/…` (its script modules and stylesheet)."""
    shell = (CONSOLE_DIR / "index.html").read_bytes()

    @app.get(CONSOLE_PATH, include_in_schema=False)
    async def console() -> HTMLResponse:
        return HTMLResponse(shell, headers=_HEADERS)

    app.mount(f"{CONSOLE_PATH}/static", StaticFiles(directory=str(CONSOLE_DIR)), name="console-static")
