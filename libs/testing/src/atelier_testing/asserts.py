"""Assertions on the platform's one error format (docs/api.md, Errors): `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the status and the error format with this code; return the error object (`["details"]` for details)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error
