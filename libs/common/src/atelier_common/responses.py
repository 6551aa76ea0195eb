"""A JSON response serialised with orjson, for hand-built bodies (errors, health, proxies)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONBytes(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# A route's documented error answers (`responses=` on a route): status → description.
ErrorResponses = dict[int | str, dict[str, Any]]
