"""`{count, next, previous, results}` pages; `limit`/`offset` and `page`/`page_size` both work."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageParams(BaseModel):
    limit: int
    offset: int


async def _page_params(
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int | None, Query(ge=0)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
) -> PageParams:
    size = limit or page_size or DEFAULT_LIMIT
    if offset is None:
        offset = ((page or 1) - 1) * size
    return PageParams(limit=size, offset=offset)


PageParamsDep = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[T]):
    count: int
    next: str | None = None
    previous: str | None = None
    results: list[T]


def build_page(request: Request, params: PageParams, count: int, results: list[Any]) -> dict[str, Any]:
    """Links keep the caller's other query parameters and use limit/offset."""

    def link(offset: int) -> str:
        query = dict(request.query_params)
        for key in ("page", "page_size"):
            query.pop(key, None)
        query["limit"], query["offset"] = str(params.limit), str(offset)
        return str(request.url.replace_query_params(**query))

    nxt = link(params.offset + params.limit) if params.offset + params.limit < count else None
    prev = link(max(params.offset - params.limit, 0)) if params.offset > 0 else None
    return {"count": count, "next": nxt, "previous": prev, "results": results}
