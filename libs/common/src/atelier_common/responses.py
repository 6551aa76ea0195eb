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

# The answer of a route that serves a stored file (an image) as it is, for its `responses=`.
FILE_ANSWER: ErrorResponses = {200: {"description": "The file's bytes, with its own media type (`image/png`, …)",
                                     "content": {"image/*": {"schema": {"type": "string", "contentMediaType": "image/*"}}}}}
