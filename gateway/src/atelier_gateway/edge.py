"""What the gateway refuses before it routes, limits or reads anything: odd paths, oversized or slow bodies.

- A path with a `.` or `..` segment (written as is or percent-encoded, `%2e%2e`, `..%2f`) is a
  400: an upstream server or client library would normalise it after the gateway chose the
  service and the rate limit, and the request would reach another path than the one checked.
- A body is bounded: `max_json_body_bytes` (1 MiB) for everything but uploads, `max_upload_body_bytes`
  (10 MiB and a little room for the multipart envelope) for multipart and raw file bodies. A
  declared `Content-Length` beyond the limit is a 413 at once, without reading a byte; a body
  without one (chunked) is counted as it arrives and refused as soon as it passes the limit.
- The whole body must arrive within `body_read_timeout_seconds`, else 408: a client that
  declares a body and never sends it does not hold a connection and a worker for ever.

The body is read here (at most the limit) and handed to the upstream whole, so the services
behind never see more than the limit.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import Receive, Scope

from atelier_common.errors import AtelierError
from atelier_common.inputs import replay
from atelier_gateway.settings import GatewaySettings

_UPLOAD_TYPES = (b"multipart/", b"application/octet-stream", b"image/")
_NO_BODY_METHODS = ("GET", "HEAD", "OPTIONS", "DELETE")


class DotSegmentPath(AtelierError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The path must not contain '.' or '..' segments"


class PayloadTooLarge(AtelierError):
    code, status, default_message = "PAYLOAD_TOO_LARGE", 413, "The request body is too large"


class BodyTimeout(AtelierError):
    code, status, default_message = "REQUEST_TIMEOUT", 408, "The request body did not arrive in time"


class InvalidContentLength(AtelierError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The Content-Length header is not valid"


def check_path(path: str) -> None:
    """`path` is the decoded path (`%2e` and `%2f` already turned into `.` and `/`)."""
    if "." in path and any(segment in (".", "..") for segment in path.split("/")):
        raise DotSegmentPath(details={"fields": {"path": ["'.' and '..' segments are not allowed"]}})


def body_limit(scope: Scope, settings: GatewaySettings) -> int:
    for name, value in scope["headers"]:
        if name == b"content-type" and value.lower().lstrip().startswith(_UPLOAD_TYPES):
            return settings.max_upload_body_bytes
    return settings.max_json_body_bytes


def declared_length(scope: Scope) -> int | None:
    """The Content-Length, None without one; a malformed one is a 400."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.strip().isdigit():
                raise InvalidContentLength()
            return int(value)
    return None


async def read_bounded_body(scope: Scope, receive: Receive, settings: GatewaySettings) -> Receive:
    """A `receive` replaying the body, read here within the size limit and the time limit."""
    limit = body_limit(scope, settings)
    length = declared_length(scope)
    if length is not None and length > limit:
        raise PayloadTooLarge(details={"limit_bytes": limit})
    chunked = any(name == b"transfer-encoding" for name, _ in scope["headers"])
    if length == 0 or (length is None and not chunked and scope["method"] in _NO_BODY_METHODS):
        return receive  # nothing to read (an SSE stream's GET keeps its own receive)
    deadline = time.monotonic() + settings.body_read_timeout_seconds
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        try:
            async with asyncio.timeout(max(remaining, 0)):
                message = await receive()
        except TimeoutError:
            raise BodyTimeout() from None
        if message["type"] != "http.request":  # the client went away: nothing to forward
            return replay([message], receive)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(details={"limit_bytes": limit})
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}], receive)
