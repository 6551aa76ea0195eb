"""The one error format: `{"error": {"code", "message", "details"}}`, for every error.

Services raise subclasses of `AtelierError` (one small class per failure, in their own
`errors.py`); `install_error_handlers` maps those, validation errors, unknown routes, wrong
methods and anything unexpected to the same shape. No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from atelier_common.responses import JSONBytes

log = logging.getLogger("atelier.errors")


class AtelierError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers
        super().__init__(self.message)


class ValidationFailed(AtelierError):
    code, status, default_message = "VALIDATION_ERROR", 400, "The request is not valid"


class AuthenticationRequired(AtelierError):
    code, status, default_message = "AUTHENTICATION_REQUIRED", 401, "Authentication is required"


class InvalidToken(AtelierError):
    code, status, default_message = "INVALID_TOKEN", 401, "The token is invalid or expired"


class PermissionDenied(AtelierError):
    code, status, default_message = "PERMISSION_DENIED", 403, "You are not allowed to do this"


class NotFound(AtelierError):
    code, status, default_message = "NOT_FOUND", 404, "Not found"


class Conflict(AtelierError):
    code, status, default_message = "CONFLICT", 409, "The request conflicts with the current state"


class RateLimited(AtelierError):
    code, status, default_message = "RATE_LIMITED", 429, "Too many requests"


class ServiceUnavailable(AtelierError):
    code, status, default_message = "SERVICE_UNAVAILABLE", 503, "A service is unavailable"


# The code of an HTTP error that no AtelierError raised (and of an error answer documented without one).
STATUS_CODES = {
    400: "BAD_REQUEST", 401: "AUTHENTICATION_REQUIRED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONBytes:
    return JSONBytes(error_body(code, message, details), status_code=status, headers=headers)


def validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-field messages: {"fields": {"body.email": ["..."]}}."""
    fields: dict[str, list[str]] = {}
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        fields.setdefault(loc, []).append(str(err.get("msg", "invalid")))
    return {"fields": fields}


async def _atelier_error(_: Request, exc: AtelierError) -> JSONBytes:
    if exc.status >= 500:
        log.error("service error %s: %s", exc.code, exc.message)
        return error_response(exc.status, exc.code, exc.message, None, exc.headers)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONBytes:
    return error_response(400, "VALIDATION_ERROR", "The request is not valid",
                          validation_details(list(exc.errors())))


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONBytes:
    code = STATUS_CODES.get(exc.status_code, "ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    if exc.status_code == 404:
        message = "Not found"
    elif exc.status_code == 405:
        message = "Method not allowed"
    return error_response(exc.status_code, code, message, None, getattr(exc, "headers", None))


def _unavailable(request: Request, exc: Exception) -> JSONBytes:
    # The database or broker is briefly out of reach (or out of connections, or read-only while a
    # failover promotes another node): try again shortly. One line, no trace: nothing is broken here.
    log.warning("transient failure on %s %s: %r", request.method, request.url.path, exc)
    return error_response(503, "SERVICE_UNAVAILABLE", "Temporarily unavailable, try again",
                          None, {"Retry-After": "1"})


async def _transient_error(request: Request, exc: Exception) -> JSONBytes:
    """A failure of a transient kind, answered inside the middleware stack (the access log and the
    request metric see the 503, under the route's label); one that is not transient goes on to the
    outermost handler, a 500."""
    from atelier_common.transient import is_transient

    if is_transient(exc):
        return _unavailable(request, exc)
    raise exc


async def _unexpected_error(request: Request, exc: Exception) -> JSONBytes:
    from atelier_common.transient import is_transient

    if is_transient(exc):  # raised outside the routes (a middleware): still a 503
        return _unavailable(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "INTERNAL_ERROR", "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    # Starlette types every handler as taking `Exception`; ours take the subclass they are registered for.
    app.add_exception_handler(AtelierError, _atelier_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each takes the class it is registered for
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each takes the class it is registered for
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each takes the class it is registered for
    # Starlette answers a handler of `Exception` outside every middleware, after the access log
    # has counted a 500, and raises the error on to the server (which logs its trace): the kinds
    # a failover raises are answered within, by their own handler.
    from atelier_common.transient import TRANSIENT_TYPES

    for kind in TRANSIENT_TYPES:
        app.add_exception_handler(kind, _transient_error)
    app.add_exception_handler(Exception, _unexpected_error)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Validation error"},
    401: {"description": "Authentication required or invalid token"},
    404: {"description": "Not found"},
}
