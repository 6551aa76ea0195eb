"""At the edge, before routing or reading: dot-segment paths, body size and body time limits."""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.types import ASGIApp, Message

from atelier_testing import assert_error

MB = 1 << 20


async def call_raw(app: ASGIApp, method: str, raw_path: bytes, *, body: bytes = b"",
                   headers: list[tuple[bytes, bytes]] | None = None,
                   receive_override: Any = None) -> tuple[int, dict[str, Any]]:
    """One request straight into the ASGI app, its path exactly as written (httpx would normalise it)."""
    from urllib.parse import unquote

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": unquote(raw_path.decode()), "raw_path": raw_path, "query_string": b"",
             "root_path": "", "headers": [(b"host", b"testserver"), *(headers or [])],
             "client": ("203.0.113.9", 5000), "server": ("testserver", 80)}
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive_override or receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(content)


class TestDotSegments:
    @pytest.mark.parametrize("raw_path", [
        b"/api/v1/users/../auth/login", b"/api/v1/users/%2e%2e/auth/login", b"/api/v1/users/%2E%2E/auth/login",
        b"/api/v1/users/..%2fauth/login", b"/api/v1/users/.%2e/auth/login", b"/api/v1/products/./x",
        b"/api/v1/cart/../../internal/secret", b"/api/v1/users/..",
    ])
    async def test_a_dot_segment_path_is_refused_before_routing(self, gateway, raw_path: bytes) -> None:
        status, body = await call_raw(gateway.app, "POST", raw_path, body=b"{}",
                                      headers=[(b"content-type", b"application/json"), (b"content-length", b"2")])
        assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", body
        assert set(body["error"]) == {"code", "message", "details"}

    async def test_refused_dot_segment_attempts_still_leave_the_credential_limit_in_force(self, gateway) -> None:
        for _ in range(5):
            status, _ = await call_raw(gateway.app, "POST", b"/api/v1/users/%2e%2e/auth/login", body=b"{}",
                                       headers=[(b"content-length", b"2")])
            assert status == 400
        statuses = [(await gateway.client.post("/api/v1/auth/login", json={})).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]

    async def test_dots_inside_a_segment_are_fine(self, gateway) -> None:
        response = await gateway.client.get("/api/v1/products/a..b/x.y")
        assert response.status_code == 200 and response.json()["path"] == "/api/v1/products/a..b/x.y"


class _Body:
    """A streamed body of `total` bytes in fresh 64 KiB chunks, counting what was pulled from it."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            chunk = bytes(64 * 1024)
            self.pulled += len(chunk)
            yield chunk


class TestBodyLimits:
    async def test_a_declared_length_beyond_the_limit_is_413_before_a_byte_is_read(self, gateway) -> None:
        body = _Body(400 * MB)
        started = time.monotonic()
        response = await gateway.client.post("/api/v1/cart/items", content=body,
                                             headers={"content-type": "application/json",
                                                      "content-length": str(400 * MB)})
        error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert error["details"] == {"limit_bytes": MB}
        assert response.headers["connection"] == "close"  # the server does not drain the rest
        assert body.pulled <= 64 * 1024 and time.monotonic() - started < 5

    async def test_a_streamed_400_mb_body_is_counted_and_refused_with_little_memory(self, gateway) -> None:
        body = _Body(400 * MB)
        tracemalloc.start()
        try:
            response = await gateway.client.post("/api/v1/cart/items", content=body,
                                                 headers={"content-type": "application/json"})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert body.pulled <= MB + 2 * 64 * 1024  # stopped right after the limit
        assert peak < 50 * MB, peak

    @pytest.mark.parametrize("method", ["DELETE", "GET"])
    async def test_a_chunked_body_on_any_method_is_counted(self, gateway, method: str) -> None:
        body = _Body(400 * MB)
        response = await gateway.client.request(method, "/api/v1/cart/items", content=body)
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert body.pulled <= MB + 2 * 64 * 1024

    async def test_a_body_within_the_limit_reaches_the_service_whole(self, gateway) -> None:
        data = {"sku": "x" * (MB // 2)}
        response = await gateway.client.post("/api/v1/cart/items", json=data)
        assert response.status_code == 200 and json.loads(response.json()["body"]) == data
        chunked = _Body(MB // 2)
        response = await gateway.client.post("/api/v1/cart/items", content=chunked,
                                             headers={"content-type": "application/json"})
        assert response.status_code == 200 and len(response.json()["body"]) == MB // 2

    async def test_uploads_have_their_own_larger_limit(self, gateway) -> None:
        files = {"image": ("photo.jpg", b"x" * (9 * MB), "image/jpeg")}
        response = await gateway.client.post("/api/v1/restorations", files=files)
        assert response.status_code == 200, response.text
        files = {"image": ("photo.jpg", b"x" * (11 * MB), "image/jpeg")}
        assert_error(await gateway.client.post("/api/v1/restorations", files=files), 413, "PAYLOAD_TOO_LARGE")
        # The same size as JSON is over the JSON limit.
        assert_error(await gateway.client.post("/api/v1/restorations", content=b"1" * (2 * MB),
                                               headers={"content-type": "application/json"}), 413,
                     "PAYLOAD_TOO_LARGE")

    async def test_limits_are_settings(self, start_gateway) -> None:
        async with start_gateway(max_json_body_bytes=100) as gateway:
            assert (await gateway.client.post("/api/v1/cart/items", content=b"1" * 100,
                                              headers={"content-type": "application/json"})).status_code == 200
            assert_error(await gateway.client.post("/api/v1/cart/items", content=b"1" * 101,
                                                   headers={"content-type": "application/json"}), 413,
                         "PAYLOAD_TOO_LARGE")

    async def test_a_malformed_content_length_is_a_validation_error(self, gateway) -> None:
        status, body = await call_raw(gateway.app, "POST", b"/api/v1/cart/items",
                                      headers=[(b"content-length", b"12abc")])
        assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"


class TestBodyTimeout:
    async def test_a_declared_body_that_never_arrives_is_408(self, start_gateway) -> None:
        async with start_gateway(body_read_timeout_seconds=0.2) as gateway:
            async def never() -> Message:
                await asyncio.Event().wait()
                raise AssertionError("unreachable")

            started = time.monotonic()
            status, body = await call_raw(gateway.app, "POST", b"/api/v1/cart/items", receive_override=never,
                                          headers=[(b"content-type", b"application/json"),
                                                   (b"content-length", b"100")])
            assert status == 408 and body["error"]["code"] == "REQUEST_TIMEOUT"
            assert time.monotonic() - started < 5

    async def test_a_body_that_trickles_past_the_deadline_is_408(self, start_gateway) -> None:
        async with start_gateway(body_read_timeout_seconds=0.3) as gateway:
            async def trickle() -> Message:
                await asyncio.sleep(0.05)  # a slow client's pace, not a wait for an outcome
                return {"type": "http.request", "body": b"1", "more_body": True}

            status, body = await call_raw(gateway.app, "POST", b"/api/v1/cart/items", receive_override=trickle,
                                          headers=[(b"content-type", b"application/json"),
                                                   (b"transfer-encoding", b"chunked")])
            assert status == 408 and body["error"]["code"] == "REQUEST_TIMEOUT"


def test_the_defaults_are_one_and_ten_mebibytes(tmp_path) -> None:
    from atelier_gateway.settings import GatewaySettings

    settings = GatewaySettings(data_dir=tmp_path)
    assert settings.max_json_body_bytes == MB and settings.max_upload_body_bytes >= 10 * MB
    assert settings.body_read_timeout_seconds > 0
