"""A service's OpenAPI document as the API really behaves, and its docs pages served offline.

FastAPI documents a 422 that never comes (validation errors are 400 `VALIDATION_ERROR`), knows no
security scheme and gives error responses no body. `install_openapi` fixes the document once per
app: the security of each operation derived from the principal dependency of its route, every
error status described by the one error schema, an untagged operation tagged with the service.
`install_docs` serves Swagger UI and ReDoc from the files `fastapi-offline` ships: no CDN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from atelier_common import auth

ERROR_SCHEMA = "Error"
ERROR_BODY_SCHEMA = "ErrorBody"
# Components every service document carries under the same name: the gateway keeps one copy.
SHARED_SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR_BODY_SCHEMA: {
        "type": "object", "title": ERROR_BODY_SCHEMA, "required": ["code", "message", "details"],
        "properties": {
            "code": {"type": "string", "title": "Code", "examples": ["VALIDATION_ERROR"]},
            "message": {"type": "string", "title": "Message", "examples": ["The request is not valid"]},
            "details": {"type": "object", "title": "Details", "additionalProperties": True,
                        "examples": [{"fields": {"email": ["value is not a valid email address"]}}]},
        },
    },
    # Titled `ErrorResponse`, not `Error`: openapi-python-client names a model's local variable after
    # its title, and a model `Error` with a field `error` generates code that does not type-check.
    ERROR_SCHEMA: {
        "type": "object", "title": "ErrorResponse", "required": ["error"],
        "description": "The one error format of every Atelier API.",
        "properties": {"error": {"$ref": f"#/components/schemas/{ERROR_BODY_SCHEMA}"}},
    },
}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "The access token from `POST /api/v1/auth/login` (or register)."},
    "anonToken": {"type": "apiKey", "in": "header", "name": "X-Anonymous-Token",
                  "description": "The anonymous token the gateway returns in `X-Anonymous-Token`."},
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
BEARER_OR_ANON: list[dict[str, list[str]]] = [{"bearer": []}, {"anonToken": []}]
OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearer": []}, {"anonToken": []}]

_ERROR_DESCRIPTIONS = {
    "400": "The request is not valid (`VALIDATION_ERROR`, or a rule of the route)",
    "401": "Authentication is required, or the token is invalid or expired",
    "403": "You are not allowed to do this",
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def route_security(calls: set[Callable[..., Any] | None]) -> list[dict[str, list[str]]] | None:
    """What the route's principal dependency (among its dependencies' `calls`) asks of the caller;
    None for a public route."""
    if auth._require_user in calls or auth._require_staff in calls:
        return BEARER
    if auth._require_anon in calls:
        return BEARER_OR_ANON
    if auth.get_principal in calls:
        return OPTIONAL
    return None


def staff_roles(calls: set[Callable[..., Any] | None]) -> list[str]:
    """The staff roles a route's `RequireRole` lets through (admin always among them), so a client
    reading the merged document knows who may call it; empty for a route without one."""
    roles = set().union(*(call.roles for call in calls if isinstance(call, auth.RequireRole)))
    return sorted(roles | {auth.ROLE_ADMIN}) if roles else []


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}


def refine_operation(operation: dict[str, Any], security: list[dict[str, list[str]]] | None, *,
                     staff: bool, tag: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    responses.setdefault("400", {"description": _ERROR_DESCRIPTIONS["400"]})
    if security is not None:
        operation["security"] = [dict(requirement) for requirement in security]
        if {} not in security:  # not optional: a missing or bad token is a 401
            responses.setdefault("401", {"description": _ERROR_DESCRIPTIONS["401"]})
    if staff:
        responses.setdefault("403", {"description": _ERROR_DESCRIPTIONS["403"]})
    for status, response in responses.items():
        if status.startswith(("4", "5")) and "content" not in response:
            response["content"] = _error_content()
    if not operation.get("tags"):
        operation["tags"] = [tag]


def _required_path_parameters(operation: dict[str, Any]) -> None:
    """A path segment is never null: a handler shared by a route with the segment and one without
    (`item_id: UUID | None = None`) documents `anyOf: [uuid, null]`, which client generators refuse
    (openapi-python-client, openapi-typescript). The document keeps the non-null branch."""
    for parameter in operation.get("parameters", ()):
        if parameter.get("in") != "path":
            continue
        schema = parameter.get("schema", {})
        branches = [b for b in schema.get("anyOf", ()) if b.get("type") != "null"]
        if "anyOf" in schema and len(branches) == 1:
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
            parameter["schema"] = {**branches[0], **rest}
        parameter["required"] = True


def refine(schema: dict[str, Any], routes: Sequence[BaseRoute], service: str) -> dict[str, Any]:
    paths: dict[str, Any] = schema.get("paths", {})
    # Routers are included lazily: the contexts carry each route with its router's dependencies.
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        item = paths.get(route.path_format or "", {})
        calls = set(_calls(route.dependant))
        for method in route.methods or ():
            if (operation := item.get(method.lower())) is not None:
                refine_operation(operation, route_security(calls), staff=auth._require_staff in calls, tag=service)
                if roles := staff_roles(calls):
                    operation["x-staff-roles"] = roles
    for item in paths.values():  # anything not built from an APIRoute still loses its 422
        for method in _METHODS:
            if (operation := item.get(method)) is not None:
                refine_operation(operation, operation.get("security"), staff=False, tag=service)
                _required_path_parameters(operation)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(SHARED_SCHEMAS)
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    return schema


def install_openapi(app: FastAPI, service: str) -> None:
    """Replace `app.openapi` by the refined document (built once, like FastAPI's own)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                                 description=app.description, routes=app.routes,
                                 separate_input_output_schemas=app.separate_input_output_schemas)
            app.openapi_schema = refine(schema, app.routes, service)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema


STATIC_DIR = files("fastapi_offline") / "static"
# ReDoc's sidebar shows Redocly's logo from their CDN, whatever the options: point it at our file.
_REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
# Only this origin (inline: the pages' own bootstrap script and ReDoc's styles; blob: ReDoc's worker).
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'")


def install_docs(app: FastAPI, *, openapi_url: str, docs_url: str, redoc_url: str, title: str) -> None:
    """Swagger UI at `docs_url` and ReDoc at `redoc_url`, their files under `<docs_url>/static`.

    Nothing is loaded from another host: no CDN script, no Google font, no remote favicon or logo,
    and the pages' Content-Security-Policy forbids any other origin.
    """
    static_url = f"{docs_url}/static"
    redoc_js = (STATIC_DIR / "redoc.standalone.js").read_bytes().replace(
        _REDOC_CDN_LOGO, f"{static_url}/favicon.png".encode())
    headers = {"Content-Security-Policy": DOCS_CSP}

    @app.get(f"{docs_url}/redoc.js", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(redoc_js, media_type="application/javascript", headers={"Cache-Control": "public, max-age=3600"})

    app.mount(static_url, StaticFiles(directory=str(STATIC_DIR)), name="docs-static")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - Swagger UI",
            swagger_js_url=f"{static_url}/swagger-ui-bundle.js", swagger_css_url=f"{static_url}/swagger-ui.css",
            swagger_favicon_url=f"{static_url}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True,
                                   "validatorUrl": None})
        page.headers.update(headers)
        return page

    @app.get(redoc_url, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc", redoc_js_url=f"{docs_url}/redoc.js",
                              redoc_favicon_url=f"{static_url}/favicon.png", with_google_fonts=False)
        page.headers.update(headers)
        return page
