"""A service's OpenAPI document: security from the principal dependency, 400 not 422,
error responses with the one error schema, every operation tagged; docs pages with no CDN. And
who may call each operation, the dev-only routes, examples composed from the models'."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict

from atelier_common.auth import AnonPrincipal, OptionalPrincipal, StaffPrincipal, UserPrincipal, require_user
from atelier_common.openapi import DEV_TAG, install_docs, install_openapi
from atelier_common.pagination import Page

ERROR = {"$ref": "#/components/schemas/Error"}


class Body(BaseModel):
    name: str


class Change(BaseModel):
    colour: str | None = None


class Thing(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "lamp", "colour": None}]})

    name: str
    colour: str | None


def _app(*, dev_endpoints: bool = False) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None)
    open_router = APIRouter(prefix="/api/v1/things", tags=["things"])

    @open_router.get("/catalogue", response_model=Page[Thing], responses={404: {"description": "SHELF_NOT_FOUND"}})
    async def catalogue() -> dict[str, str]:
        """Every thing, a page at a time."""
        return {}

    @open_router.put("/one", response_model=Thing)
    async def replace(body: Thing, caller: UserPrincipal) -> dict[str, str]:
        return {}

    @open_router.patch("/one", response_model=Thing)
    async def change(body: Change, caller: UserPrincipal) -> dict[str, str]:
        return {}

    dev = APIRouter(prefix="/api/dev", tags=[DEV_TAG])

    @dev.get("/inbox", response_model=list[Thing])
    async def inbox() -> dict[str, str]:
        """What was sent."""
        return {}

    @open_router.get("")
    async def public() -> dict[str, str]:
        return {}

    @open_router.get("/maybe")
    async def optional(caller: OptionalPrincipal) -> dict[str, str]:
        return {}

    @open_router.post("", responses={404: {"description": "No such thing"}, 409: {"description": "Taken"}})
    async def user(body: Body, caller: UserPrincipal) -> dict[str, str]:
        return {}

    @open_router.post("/anon")
    async def anon(body: Body, caller: AnonPrincipal) -> dict[str, str]:
        return {}

    @open_router.delete("/{thing_id}")
    async def staff(thing_id: int, caller: StaffPrincipal) -> dict[str, str]:
        return {}

    guarded = APIRouter(prefix="/api/v1/guarded", dependencies=[require_user])  # untagged, guarded by the router

    @guarded.get("")
    async def by_router() -> dict[str, str]:
        return {}

    app.include_router(open_router)
    app.include_router(guarded)
    app.include_router(dev)
    install_openapi(app, "things", dev_endpoints=dev_endpoints)
    install_docs(app, openapi_url="/openapi.json", docs_url="/docs", redoc_url="/redoc", title="Things")
    return app


def _op(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"][path][method]
    return operation


def test_security_follows_the_principal_dependency() -> None:
    doc = _app().openapi()
    assert _op(doc, "get", "/api/v1/things")["security"] == []  # public, and says so
    assert _op(doc, "get", "/api/v1/things/maybe")["security"] == [{}, {"bearer": []}, {"anonToken": []}]
    assert _op(doc, "post", "/api/v1/things")["security"] == [{"bearer": []}]
    assert _op(doc, "post", "/api/v1/things/anon")["security"] == [{"bearer": []}, {"anonToken": []}]
    assert _op(doc, "delete", "/api/v1/things/{thing_id}")["security"] == [{"bearer": []}]
    assert _op(doc, "get", "/api/v1/guarded")["security"] == [{"bearer": []}]
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "anonToken"}
    assert doc["components"]["securitySchemes"]["anonToken"]["name"] == "X-Anonymous-Token"


def test_no_422_and_every_error_has_the_error_schema() -> None:
    doc = _app().openapi()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert set(doc["components"]["schemas"]["ErrorBody"]["required"]) == {"code", "message", "details"}
    for item in doc["paths"].values():
        for operation in item.values():
            assert "422" not in operation["responses"]
            assert "400" in operation["responses"]
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert response["content"]["application/json"]["schema"] == ERROR
    created = _op(doc, "post", "/api/v1/things")["responses"]
    assert {"400", "401", "404", "409"} <= set(created) and created["409"]["description"] == "Taken"
    assert {"401", "403"} <= set(_op(doc, "delete", "/api/v1/things/{thing_id}")["responses"])
    assert "401" not in _op(doc, "get", "/api/v1/things/maybe")["responses"]


def test_every_operation_is_tagged() -> None:
    doc = _app().openapi()
    assert _op(doc, "get", "/api/v1/guarded")["tags"] == ["things"]  # the service's name when untagged
    assert _op(doc, "get", "/api/v1/things")["tags"] == ["things"]


async def test_docs_pages_load_nothing_from_another_host() -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for page in ("/docs", "/redoc"):
            r = await client.get(page)
            assert r.status_code == 200 and "default-src 'self'" in r.headers["content-security-policy"]
            assert "https://" not in r.text, page
        for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css", "/docs/redoc.js"):
            assert (await client.get(asset)).status_code == 200, asset
        assert b"cdn.redoc.ly" not in (await client.get("/docs/redoc.js")).content
        assert (await client.get("/openapi.json")).json()["paths"]


def test_the_description_says_who_may_call() -> None:
    doc = _app().openapi()
    assert _op(doc, "get", "/api/v1/things/catalogue")["description"] == (
        "Every thing, a page at a time.\n\n**Who may call:** anyone (no authentication).")
    assert "a signed-in user (bearer token) or a guest" in _op(doc, "post", "/api/v1/things/anon")["description"]
    assert _op(doc, "delete", "/api/v1/things/{thing_id}")["description"] == (
        "**Who may call:** staff (any staff role).")


def test_every_body_gets_its_models_example_and_a_wrapper_one_composed() -> None:
    doc = _app().openapi()
    thing = {"name": "lamp", "colour": None}  # the null survives (FastAPI's own encoding drops it)
    assert doc["components"]["schemas"]["Thing"]["examples"] == [thing]
    replace = _op(doc, "put", "/api/v1/things/one")
    assert replace["requestBody"]["content"]["application/json"]["example"] == thing
    assert replace["responses"]["200"]["content"]["application/json"]["example"] == thing
    page = _op(doc, "get", "/api/v1/things/catalogue")["responses"]
    assert page["200"]["content"]["application/json"]["example"] == {
        "count": 1, "next": None, "previous": None, "results": [thing]}
    # An error answer's example carries the first code its description names, else the status's.
    assert page["404"]["content"]["application/json"]["example"]["error"]["code"] == "SHELF_NOT_FOUND"
    assert page["400"]["content"]["application/json"]["example"]["error"]["code"] == "VALIDATION_ERROR"
    assert _op(doc, "post", "/api/v1/things")["responses"]["401"]["content"]["application/json"]["example"][
        "error"]["code"] == "AUTHENTICATION_REQUIRED"
    # A body whose model has no example gets none: examples are written on the models, never invented
    # (not even from defaults: `{"colour": null}` would show nothing).
    assert "example" not in _op(doc, "post", "/api/v1/things")["requestBody"]["content"]["application/json"]
    assert "example" not in _op(doc, "patch", "/api/v1/things/one")["requestBody"]["content"]["application/json"]


def test_dev_routes_are_documented_only_where_served_and_marked() -> None:
    assert "/api/dev/inbox" not in _app().openapi()["paths"]
    doc = _app(dev_endpoints=True).openapi()
    inbox = _op(doc, "get", "/api/dev/inbox")
    assert inbox["x-dev-only"] is True and inbox["tags"] == [DEV_TAG]
    assert inbox["description"].startswith("**Development only") and "What was sent." in inbox["description"]
    assert inbox["responses"]["200"]["content"]["application/json"]["example"] == [{"name": "lamp", "colour": None}]
    assert any(t["name"] == DEV_TAG and "Development only" in t["description"] for t in doc["tags"])
