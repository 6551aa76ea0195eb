"""`{count, next, previous, results}` pages; `limit`/`offset` and `page`/`page_size` both work.

Every paginated route takes `PageParamsDep`. Each parameter is bounded: `limit`/`page_size` by
`MAX_LIMIT`, `offset` (given or computed from `page`) by `MAX_OFFSET`, so a huge value is a 400
`VALIDATION_ERROR`, never an integer overflow in the database.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from atelier_common.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Deeper pages are refused: an offset costs a scan of every row before it, and past 2**63 it
# overflows PostgreSQL's bigint. Filters narrow a result set better than page 5,000 does.
MAX_OFFSET = 100_000
MAX_PAGE = MAX_OFFSET // DEFAULT_LIMIT + 1


class PageParams(BaseModel):
    limit: int
    offset: int


async def _page_params(
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    page: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
) -> PageParams:
    size = limit or page_size or DEFAULT_LIMIT
    if offset is None:
        offset = ((page or 1) - 1) * size
        if offset > MAX_OFFSET:
            raise ValidationFailed(details={"fields": {"query.page": [
                f"Pages start at most {MAX_OFFSET} results in; use filters to narrow the list"]}})
    return PageParams(limit=size, offset=offset)


PageParamsDep = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list: `count` results in all, the links to the pages around this one (None at
    either end), and this page's `results` (each one's example is its model's)."""

    count: int = Field(examples=[1], description="How many results the whole list has")
    next: str | None = Field(default=None, description="The next page's URL (limit/offset), None on the last")
    previous: str | None = Field(default=None, description="The previous page's URL, None on the first")
    results: list[T]


def build_page(request: Request, params: PageParams, count: int, results: list[Any]) -> dict[str, Any]:
    """Links keep the caller's other query parameters and use limit/offset; none past `MAX_OFFSET`."""

    def link(offset: int) -> str:
        # Every value of a repeated parameter (`?status=a&status=b`) is kept, each in its place.
        paging = {"limit": str(params.limit), "offset": str(offset)}
        query = [(k, paging.pop(k) if k in paging else v) for k, v in request.query_params.multi_items()
                 if k not in ("page", "page_size") and (k not in ("limit", "offset") or k in paging)]
        return str(request.url.replace(query=urlencode([*query, *paging.items()])))

    following = params.offset + params.limit
    nxt = link(following) if following < count and following <= MAX_OFFSET else None
    prev = link(max(params.offset - params.limit, 0)) if params.offset > 0 else None
    return {"count": count, "next": nxt, "previous": prev, "results": results}
