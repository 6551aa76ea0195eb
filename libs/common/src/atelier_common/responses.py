"""A JSON response serialised with orjson, for hand-built bodies (errors, health, proxies), and
`App`: the FastAPI every Atelier app is (the services' and the gateway's), whose every answer
carries the headers no answer goes without (`NoSniff`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class JSONBytes(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# A route's documented error answers (`responses=` on a route): status → description.
ErrorResponses = dict[int | str, dict[str, Any]]

# The answer of a route that serves a stored file (an image) as it is, for its `responses=`: its own
# media type, or `application/octet-stream` for a file whose type is not known. Bytes either way
# (`format: binary`), which client generators read as a file (openapi-python-client knows no `image/*`).
_BYTES = {"schema": {"type": "string", "format": "binary"}}
FILE_ANSWER: ErrorResponses = {200: {"description": "The file's bytes, with its own media type (`image/png`, …; "
                                                    "`application/octet-stream` when its type is not known)",
                                     "content": {"image/*": _BYTES, "application/octet-stream": _BYTES}}}

_NOSNIFF = (b"x-content-type-options", b"nosniff")


class NoSniff:
    """`X-Content-Type-Options: nosniff` on every answer that does not say it already (a service's,
    passed on by the gateway): a browser takes a body for the type it is declared, never for HTML or
    a script it looks like (a JSON error echoing its input, an image a customer uploaded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
                    message = {**message, "headers": [*headers, _NOSNIFF]}
            await send(message)

        await self.app(scope, receive, marked)


class App(FastAPI):
    """FastAPI with `NoSniff` on every answer: inside the outermost error middleware, and on the
    answer that middleware gives an unexpected error itself (through its handler). The stack stays
    a `ServerErrorMiddleware` outside: OpenTelemetry's instrumentation rebuilds that one from its
    app, handler and debug, and instruments nothing when the outermost is anything else."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if not isinstance(stack, ServerErrorMiddleware):
            return NoSniff(stack)
        stack.app = NoSniff(stack.app)
        stack.handler = _nosniff_handler(stack.handler)
        return stack


def _nosniff_handler(handler: Callable[[Any, Exception], Any] | None) -> Callable[[Request, Exception], Any]:
    """The error middleware's answer to an unexpected error, marked (its plain 500 when it has none)."""

    async def answer(request: Request, exc: Exception) -> Response:
        response = (handler(request, exc) if handler is not None
                    else PlainTextResponse("Internal Server Error", status_code=500))
        if inspect.isawaitable(response):
            response = await response
        if _NOSNIFF[0].decode() not in response.headers:
            response.headers[_NOSNIFF[0].decode()] = _NOSNIFF[1].decode()
        return response

    return answer
