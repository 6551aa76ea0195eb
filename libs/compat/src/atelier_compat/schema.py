"""A profile's OpenAPI document, generated from its route table: exactly the seed routes it serves,
and the Swagger UI and ReDoc pages that show it (`docs_page`).

Routes that answer 501 (the platform lacks what they need) are not served: they are listed apart,
under `x-not-implemented`, with what is missing.
"""

from __future__ import annotations

import re
from typing import Any

from atelier_compat.core import Profile, Reply, Route

_PARAM = re.compile(r"\{(\w+)\}")
_SECURITY: dict[str, list[dict[str, list[str]]]] = {"user": [{"bearer": []}], "anon": [{"bearer": []}, {"anonToken": []}, {}]}


def _operation(profile: Profile, route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{profile.name}-{route.method.lower()}-{_slug(route.path)}",
        "summary": route.summary,
        "tags": [profile.name],
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in _PARAM.findall(route.path)],
        "responses": {"default": {"description": "The seed's response; errors in the profile's error format"}},
    }
    if route.native:
        op["x-atelier-native"] = route.native
    if route.auth in _SECURITY:
        op["security"] = _SECURITY[route.auth]
    if route.method in ("POST", "PUT", "PATCH"):
        op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return op


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"


def profile_schema(profile: Profile, base: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    missing = []
    for route in profile.routes:
        if route.missing is not None:
            missing.append({"method": route.method, "path": route.path, "missing": route.missing})
            continue
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(profile, route)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": profile.title, "version": "1.0.0",
                 "description": f"Compatibility profile `{profile.name}` for {profile.seed}, served by the Atelier "
                                "gateway on top of the native services."},
        "servers": [{"url": base or "/"}],
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "anonToken": {"type": "apiKey", "in": "header", "name": "X-Anonymous-Token"}}},
    }
    if missing:
        doc["x-not-implemented"] = missing
    return doc


# The gateway's own offline copies of the pages' files (`atelier_common.openapi.install_docs`).
_STATIC = "/api/docs/static"


def docs_page(profile: Profile, kind: str, schema_url: str) -> Reply:
    """Swagger UI (`kind="swagger"`) or ReDoc on the profile's document at `schema_url`, with the
    gateway's offline files: nothing is loaded from another host."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

    from atelier_common.openapi import DOCS_CSP

    if kind == "swagger":
        html = get_swagger_ui_html(openapi_url=schema_url, title=f"{profile.title} - Swagger UI",
                                   swagger_js_url=f"{_STATIC}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{_STATIC}/swagger-ui.css", swagger_favicon_url=f"{_STATIC}/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None})
    else:
        html = get_redoc_html(openapi_url=schema_url, title=f"{profile.title} - ReDoc", redoc_js_url="/api/docs/redoc.js",
                              redoc_favicon_url=f"{_STATIC}/favicon.png", with_google_fonts=False)
    return Reply(content=bytes(html.body), media_type="text/html; charset=utf-8",
                 headers={"Content-Security-Policy": DOCS_CSP})
