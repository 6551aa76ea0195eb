"""Bad input is a 4xx in the common error format, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import TypeAdapter, ValidationError

from atelier_common.errors import install_error_handlers
from atelier_common.inputs import MAX_JSON_DEPTH, InputGuard, InputModel, Text
from atelier_common.pagination import MAX_OFFSET, PageParamsDep, build_page
from atelier_testing import assert_error


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/items")
    async def items(request: Request, page: PageParamsDep) -> dict[str, Any]:
        return build_page(request, page, 10**9, [{"limit": page.limit, "offset": page.offset}])

    return app


@pytest.fixture
async def client() -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as c:
        yield c


@pytest.mark.parametrize("query", [
    "offset=9223372036854775808", "offset=99999999999999999999999999999", f"offset={MAX_OFFSET + 1}",
    "page=9223372036854775808", "page=100000000", "page=2000&page_size=100", "limit=101", "page_size=0",
    "offset=-1", "offset=1e3", "limit=9223372036854775808",
])
async def test_out_of_range_pagination_is_a_validation_error(client: httpx.AsyncClient, query: str) -> None:
    error = assert_error(await client.get(f"/items?{query}"), 400, "VALIDATION_ERROR")
    assert error["details"]["fields"], error


@pytest.mark.parametrize(("query", "limit", "offset"), [
    ("", 20, 0), (f"offset={MAX_OFFSET}", 20, MAX_OFFSET), ("page=3&page_size=10", 10, 20),
    ("limit=100&offset=5", 100, 5), (f"page={MAX_OFFSET // 100 + 1}&page_size=100", 100, MAX_OFFSET),
])
async def test_pagination_within_bounds_is_served(client: httpx.AsyncClient, query: str, limit: int,
                                                  offset: int) -> None:
    response = await client.get(f"/items?{query}")
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"limit": limit, "offset": offset}]


class Body(InputModel):
    name: str = ""
    tags: list[str] = []
    attributes: dict[str, Any] = {}


def _guarded_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things/{ref}")
    async def create(ref: str, body: Body, q: str | None = None) -> dict[str, Any]:
        return {"ref": ref, "q": q, "name": body.name}

    app.add_middleware(InputGuard)
    return app


@pytest.fixture
async def guarded() -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_guarded_app()), base_url="http://t") as c:
        yield c


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfffy"])
def test_the_shared_text_type_refuses_nul_and_lone_surrogates(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Text).validate_python(text)
    for fields in ({"name": text}, {"tags": ["ok", text]}, {"attributes": {"k": [{"deep": text}]}},
                   {"attributes": {text: 1}}):
        with pytest.raises(ValidationError):
            Body.model_validate(fields)
    assert TypeAdapter(Text).validate_python("ünïcode ✓ 😀") == "ünïcode ✓ 😀"


@pytest.mark.parametrize(("path", "body"), [
    ("/things/a%00b", '{"name": "x"}'),
    ("/things/a?q=%00", '{"name": "x"}'),
    ("/things/a", '{"name": "x\\u0000"}'),
    ("/things/a", '{"name": "\\ud800"}'),
    ("/things/a", '{"name": "x", "tags": ["\\udc00"]}'),
    ("/things/a", '{"name": "x", "attributes": {"\\u0000": 1}}'),
    ("/things/a", '{"name": "x", "extra": "\\u0000"}'),
    ("/things/a", b'{"name": "\xff"}'),
    ("/things/a", '{"name": "x", "attributes": ' + json.dumps(_nested(255)) + "}"),
    ("/things/a", "[" * 2000 + "]" * 2000),
])
async def test_bad_text_and_deep_json_are_refused_at_the_door(guarded: httpx.AsyncClient, path: str,
                                                             body: str | bytes) -> None:
    response = await guarded.post(path, content=body, headers={"content-type": "application/json"})
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("headers", [{}, {"content-type": "application/merge-patch+json"},
                                     {"content-type": "application/json; charset=utf-8"}])
async def test_a_body_fastapi_would_parse_as_json_is_checked_whatever_its_content_type(
        guarded: httpx.AsyncClient, headers: dict[str, str]) -> None:
    body = '{"name": "x", "attributes": ' + json.dumps(_nested(255)) + "}"
    response = await guarded.post("/things/a", content=body, headers=headers)
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_good_input_passes_the_guard_untouched(guarded: httpx.AsyncClient) -> None:
    body = {"name": "Größe ✓", "attributes": _nested(MAX_JSON_DEPTH - 1)}
    response = await guarded.post("/things/a%20b?q=%C3%A9", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"ref": "a b", "q": "é", "name": "Größe ✓"}
