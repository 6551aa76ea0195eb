"""Bad input is a 4xx in the common error format, never a 500 (issue 12)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from atelier_common.errors import install_error_handlers
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
