"""What every text input must be: no NUL, no lone surrogate, JSON no deeper than `MAX_JSON_DEPTH`.

PostgreSQL refuses a NUL in `text` and `jsonb`, UTF-8 has no lone surrogate (a `"\\ud800"` escape
parses in Python, then fails when written), and orjson stops serialising at 255 levels (an event
carrying deep product attributes). Each would be a 500 if it reached the database or the outbox,
so they are refused at the door as a 400 `VALIDATION_ERROR`:

- `Text` is the shared string type and `InputModel` the base of request models: every string in
  every field (nested lists and dicts included) goes through `check_text`;
- `InputGuard`, installed on every service app by `build_app`, applies the same rule to the path,
  the query string and every JSON body (parsed once with orjson, which also bounds the depth),
  so a route parameter or a free-form JSON field needs no annotation of its own.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier_common.errors import error_response

# Deep enough for any real document (product attributes, provider payloads), far from orjson's 255.
MAX_JSON_DEPTH = 32
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
NUL_MESSAGE = "Text must not contain NUL characters or unpaired surrogates"


def check_text(value: str) -> str:
    """The value, or ValueError when it holds a NUL or a lone surrogate (never storable)."""
    if _BAD_TEXT.search(value):
        raise ValueError(NUL_MESSAGE)
    return value


Text = Annotated[str, AfterValidator(check_text)]


def check_value(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """ValueError when any string in `value` (keys too) is bad text or it nests past `max_depth`."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_text(item)
        elif isinstance(item, dict | list | tuple | set | frozenset):
            if depth > max_depth:
                raise ValueError(f"JSON nests deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, inner in item.items():
                    if isinstance(key, str):
                        check_text(key)
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)


class InputModel(BaseModel):
    """Base of request models: unknown fields are ignored, every string is checked (`check_text`)."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        check_value(value)
        return value


def _refusal(field: str, message: str) -> Any:
    return error_response(400, "VALIDATION_ERROR", "The request is not valid", {"fields": {field: [message]}})


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would parse the body as JSON: a JSON media type, or none at all."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))
    return True


class InputGuard:
    """Refuses bad text in the path, the query and JSON bodies, and JSON nested past `MAX_JSON_DEPTH`."""

    def __init__(self, app: ASGIApp, *, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            await _refusal("path", NUL_MESSAGE)(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if b"\x00" in query or b"%00" in query.lower():
            await _refusal("query", NUL_MESSAGE)(scope, receive, send)
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            try:
                check_value(orjson.loads(body), max_depth=self.max_depth)
            except ValueError as exc:  # orjson.JSONDecodeError is a ValueError too (bad UTF-8, lone surrogate)
                await _refusal("body", str(exc))(scope, receive, send)
                return
        await self.app(scope, replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives back what was already read, then the real one (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
