"""`GET /`: where everything is. A browser gets a small page of links, any other client the same
links as JSON. The development-only pages are listed only where they are served."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import FastAPI, Header
from fastapi.responses import HTMLResponse, JSONResponse, Response

from atelier_gateway.console import CONSOLE_PATH

LINKS = {
    "docs": ("/api/docs", "API reference (Swagger UI): every operation, tried from the page"),
    "redoc": ("/api/redoc", "API reference (ReDoc)"),
    "schema": ("/api/schema", "the OpenAPI document"),
    "console": (CONSOLE_PATH, "the staff console"),
    "health": ("/api/health", "the platform's health"),
}
DEV_LINKS = {
    "mailbox": ("/api/dev/mailbox", "mail the platform sent (development only)"),
}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def install_home(app: FastAPI, *, dev_endpoints: bool) -> None:
    links = {**LINKS, **(DEV_LINKS if dev_endpoints else {})}
    document = {"name": "Atelier", "api": "/api/v1",
                "links": {name: {"href": href, "title": title} for name, (href, title) in links.items()}}
    items = "".join(f'<li><a href="{escape(href)}">{escape(href)}</a> — {escape(title)}</li>'
                    for href, title in links.values())
    page = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>Atelier</title>"
            "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>"
            f"</head><body><h1>Atelier</h1><p>The API is under <code>/api/v1</code>.</p><ul>{items}</ul>"
            "</body></html>")

    @app.get("/", include_in_schema=False)
    async def home(accept: Annotated[str, Header()] = "") -> Response:
        if "text/html" in accept:
            return HTMLResponse(page, headers={"Content-Security-Policy": _CSP})
        return JSONResponse(document)
