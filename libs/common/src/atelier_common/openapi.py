"""A service's OpenAPI document as the API really behaves, and its docs pages served offline.

FastAPI documents a 422 that never comes (validation errors are 400 `VALIDATION_ERROR`), knows no
security scheme and gives error responses no body. `install_openapi` fixes the document once per
app: the security of each operation derived from the principal dependency of its route (and a
line of its description saying who may call it), every error status described by the one error
schema, a 429 with `Retry-After` on every operation (the gateway limits every call), an untagged
operation tagged with the service, the dev-only routes (tag `dev`) marked, or left out where the
service does not serve them. Every request body and every answer with a body
gets an example (`example` on its media type), taken from its schema: the examples are written
once, on the pydantic models (`json_schema_extra={"examples": [...]}`, `Field(examples=...)`),
and composed here for the wrappers (a page, a list); an error answer's example carries the first
error code its description names. `install_docs` serves Swagger UI and ReDoc from the files
`fastapi-offline` ships: no CDN.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_fields_from_routes, get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from atelier_common import auth
from atelier_common.errors import STATUS_CODES

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
# The routes a service serves only with `dev_endpoints` (404 otherwise; never in production) carry this tag.
DEV_TAG = "dev"
DEV_TAG_DESCRIPTION = ("Development only: served with `dev_endpoints` (the embedded mode, `atelier dev`, "
                       "`atelier up --dev`), 404 otherwise, never in production.")
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
BEARER_OR_ANON: list[dict[str, list[str]]] = [{"bearer": []}, {"anonToken": []}]
OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearer": []}, {"anonToken": []}]

_ERROR_DESCRIPTIONS = {
    "400": "The request is not valid (`VALIDATION_ERROR`, or a rule of the route)",
    "401": "Authentication is required, or the token is invalid or expired",
    "403": "You are not allowed to do this",
    "429": "Too many requests (`RATE_LIMITED`): a limit of the gateway's, which counts every call "
           "(docs/limits.md), or of the route; `details.limit` names it. Try again after `Retry-After`",
}
_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_REF = "#/components/schemas/"
# An error code as descriptions name them: upper case words joined by underscores.
_ERROR_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_VALIDATION_DETAILS = {"fields": {"body.email": ["value is not a valid email address"]}}
_NO_EXAMPLE = object()


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


def _error_content(status: str, description: str) -> dict[str, Any]:
    """The error schema, with an example that carries the first code the description names (else the
    status's own code: `NOT_FOUND` for a 404)."""
    named = _ERROR_CODE.search(description)
    code = named.group(0) if named else STATUS_CODES.get(int(status), "ERROR") if status.isdigit() else "ERROR"
    message = "The request is not valid" if code == "VALIDATION_ERROR" else code.replace("_", " ").capitalize()
    details = _VALIDATION_DETAILS if code == "VALIDATION_ERROR" else {}
    return {"application/json": {"schema": {"$ref": f"{_REF}{ERROR_SCHEMA}"},
                                 "example": {"error": {"code": code, "message": message, "details": details}}}}


def _who_may_call(security: list[dict[str, list[str]]] | None, roles: list[str], staff: bool) -> str:
    """The sentence of an operation's description that says who may call it, from its security."""
    if staff:
        return (f"**Who may call:** staff with the {' or '.join(roles)} role." if roles
                else "**Who may call:** staff (any staff role).")
    if security is None:
        return "**Who may call:** anyone (no authentication)."
    if {} in security:
        return "**Who may call:** anyone; a bearer or anonymous token, if sent, identifies the caller."
    if {"anonToken": []} in security:
        return ("**Who may call:** a signed-in user (bearer token) or a guest (the anonymous token the "
                "gateway issues, `X-Anonymous-Token`).")
    return "**Who may call:** a signed-in user (bearer token)."


def refine_operation(operation: dict[str, Any], security: list[dict[str, list[str]]] | None, *,
                     staff: bool, tag: str, roles: Sequence[str] = ()) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    responses.setdefault("400", {"description": _ERROR_DESCRIPTIONS["400"]})
    # A public operation says so (`security: []`): no scheme applies, whatever a later default is.
    operation["security"] = [dict(requirement) for requirement in security] if security is not None else []
    if security is not None and {} not in security:  # not optional: a missing or bad token is a 401
        responses.setdefault("401", {"description": _ERROR_DESCRIPTIONS["401"]})
    if staff:
        responses.setdefault("403", {"description": _ERROR_DESCRIPTIONS["403"]})
    # Every operation is served behind the gateway's rate limits: any of them may answer 429.
    responses.setdefault("429", {"description": _ERROR_DESCRIPTIONS["429"]}).setdefault(
        "headers", {"Retry-After": dict(_RETRY_AFTER)})
    for status, response in responses.items():
        if status.startswith(("4", "5")) and "content" not in response:
            response["content"] = _error_content(status, response.get("description", ""))
    if not operation.get("tags"):
        operation["tags"] = [tag]
    if roles:
        operation["x-staff-roles"] = list(roles)
    if "**Who may call:**" not in operation.get("description", ""):
        who = _who_may_call(security, list(roles), staff)
        operation["description"] = f"{operation['description']}\n\n{who}" if operation.get("description") else who


def _dev_only(operation: dict[str, Any]) -> None:
    operation["x-dev-only"] = True
    note = f"**{DEV_TAG_DESCRIPTION}**"
    if note not in operation.get("description", ""):
        operation["description"] = f"{note}\n\n{operation.get('description', '')}".rstrip()


# -- examples -------------------------------------------------------------------------------------

def example_of(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Any:
    """An example instance of `schema`: its own first example, else one composed from the examples
    of what it is made of (the items of an array, the properties of an object, the branch of an
    `anyOf`), else `_NO_EXAMPLE`. The examples are written on the models, never invented here: a
    scalar without an example or a constant has none, and an object made only of defaults (no
    example anywhere in it) has none either."""
    value, written = _compose(schema, schemas, 0)
    return value if written else _NO_EXAMPLE


def _compose(schema: Mapping[str, Any], schemas: Mapping[str, Any], depth: int) -> tuple[Any, bool]:
    """(an example of `schema` or `_NO_EXAMPLE`, whether a written example or constant is in it)."""
    if depth > 12:
        return _NO_EXAMPLE, False
    if schema.get("examples"):
        return schema["examples"][0], True
    for key in ("example", "const"):
        if key in schema:
            return schema[key], True
    if "default" in schema:
        return schema["default"], False
    if isinstance(ref := schema.get("$ref"), str) and ref.startswith(_REF):
        target = schemas.get(ref[len(_REF):])
        return (_NO_EXAMPLE, False) if target is None else _compose(target, schemas, depth + 1)
    branches = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf") or ()
    if branches:
        for branch in sorted(branches, key=lambda b: b.get("type") == "null"):  # a value before null
            if (found := _compose(branch, schemas, depth + 1))[0] is not _NO_EXAMPLE:
                return found
        return _NO_EXAMPLE, False
    kind = schema.get("type")
    if kind == "null":
        return None, False
    if kind == "array":
        item, written = _compose(schema.get("items", {}), schemas, depth + 1)
        return (_NO_EXAMPLE, False) if item is _NO_EXAMPLE else ([item], written)
    if kind == "object" or "properties" in schema:
        out: dict[str, Any] = {}
        required, any_written = set(schema.get("required", ())), False
        for name, prop in schema.get("properties", {}).items():
            value, written = _compose(prop, schemas, depth + 1)
            if value is not _NO_EXAMPLE:
                out[name] = value
                any_written = any_written or written
            elif name in required:
                return _NO_EXAMPLE, False
        return out, any_written
    return _NO_EXAMPLE, False


def _add_example(content: dict[str, Any], schemas: Mapping[str, Any]) -> None:
    """Each media type of `content` without an example gets its schema's (where it has one)."""
    for media in content.values():
        if "example" in media or "examples" in media or "schema" not in media:
            continue
        found = example_of(media["schema"], schemas)
        if found is not _NO_EXAMPLE:
            media["example"] = found


def add_examples(operation: dict[str, Any], schemas: Mapping[str, Any]) -> None:
    if (body := operation.get("requestBody")) is not None:
        _add_example(body.get("content", {}), schemas)
    for response in operation.get("responses", {}).values():
        _add_example(response.get("content", {}), schemas)


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


def _drop_dev_operations(paths: dict[str, Any]) -> None:
    for path in list(paths):
        item = paths[path]
        for method in _METHODS:
            if DEV_TAG in item.get(method, {}).get("tags", ()):
                del item[method]
        if not any(method in item for method in _METHODS):
            del paths[path]


def _refine_webhook(operation: dict[str, Any], tag: str) -> None:
    """An outbound webhook documents the request Atelier sends and what the receiver answers: no
    error of ours, no security of ours (the receiver checks the signature headers)."""
    operation.get("responses", {}).pop("422", None)
    operation["security"] = []
    if not operation.get("tags"):
        operation["tags"] = [tag]


def refine(schema: dict[str, Any], routes: Sequence[BaseRoute], service: str, *,
           dev_endpoints: bool = True) -> dict[str, Any]:
    paths: dict[str, Any] = schema.get("paths", {})
    if not dev_endpoints:
        _drop_dev_operations(paths)
    done: set[int] = set()
    # Routers are included lazily: the contexts carry each route with its router's dependencies.
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        item = paths.get(route.path_format or "", {})
        calls = set(_calls(route.dependant))
        for method in route.methods or ():
            if (operation := item.get(method.lower())) is not None:
                refine_operation(operation, route_security(calls), staff=auth._require_staff in calls, tag=service,
                                 roles=staff_roles(calls))
                done.add(id(operation))
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for item in paths.values():  # anything not built from an APIRoute still loses its 422
        for method in _METHODS:
            if (operation := item.get(method)) is not None:
                if id(operation) not in done:
                    refine_operation(operation, operation.get("security") or None, staff=False, tag=service)
                if DEV_TAG in operation["tags"]:
                    _dev_only(operation)
                _required_path_parameters(operation)
                add_examples(operation, schemas)
    for item in schema.get("webhooks", {}).values():
        for method in _METHODS:
            if (operation := item.get(method)) is not None:
                _refine_webhook(operation, service)
                add_examples(operation, schemas)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(SHARED_SCHEMAS)
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    if dev_endpoints and any(DEV_TAG in op.get("tags", ()) for item in paths.values()
                             for op in item.values() if isinstance(op, dict)):
        schema.setdefault("tags", []).append({"name": DEV_TAG, "description": DEV_TAG_DESCRIPTION})
    return schema


def model_examples(routes: Sequence[BaseRoute], webhooks: Sequence[BaseRoute] = ()) -> dict[str, list[Any]]:
    """The examples each model wrote (`json_schema_extra={"examples": [...]}`), by the name of its
    component schema. FastAPI's `get_openapi` drops every None inside them (it encodes the document
    with `exclude_none`) and pydantic sorts their keys: the document gets them back as written.
    A component is named after its class; two classes of one name get longer names, and keep
    FastAPI's copy of their examples."""
    models: set[type[BaseModel]] = set()
    for field in get_fields_from_routes([*routes, *webhooks]):
        _models_in(field.field_info.annotation, models)
    by_name: dict[str, list[type[BaseModel]]] = {}
    for model in models:
        by_name.setdefault(model.__name__, []).append(model)
    out: dict[str, list[Any]] = {}
    for name, found in by_name.items():
        extra = found[0].model_config.get("json_schema_extra") if len(found) == 1 else None
        if isinstance(extra, dict) and isinstance(examples := extra.get("examples"), list) and examples:
            out[name] = examples
    return out


def _models_in(annotation: Any, models: set[type[BaseModel]]) -> None:
    """Every pydantic model `annotation` names, and the models their fields name in turn."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in models:
            models.add(annotation)
            for field in annotation.model_fields.values():
                _models_in(field.annotation, models)
        return
    for arg in typing.get_args(annotation):
        _models_in(arg, models)


def _restore_examples(schema: dict[str, Any], examples: Mapping[str, list[Any]]) -> None:
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        written = examples.get(name.removesuffix("-Input").removesuffix("-Output"))
        if written is not None and "examples" in component:
            component["examples"] = written


def install_openapi(app: FastAPI, service: str, *, dev_endpoints: bool = False) -> None:
    """Replace `app.openapi` by the refined document (built once, like FastAPI's own). The routes
    tagged `DEV_TAG` are documented only where the service serves them (`dev_endpoints`)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                                 description=app.description, routes=app.routes, webhooks=app.webhooks.routes,
                                 tags=app.openapi_tags,
                                 separate_input_output_schemas=app.separate_input_output_schemas)
            _restore_examples(schema, model_examples(app.routes, app.webhooks.routes))
            app.openapi_schema = refine(schema, app.routes, service, dev_endpoints=dev_endpoints)
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
