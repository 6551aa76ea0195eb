"""Bad input from outside is a 4xx before it costs anything; no public secret; a revoked token is
refused by a service reached directly. Raw sockets where httpx would tidy the request."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from infra.identity_steps import bearer, error_code, expect_error, signed_in_customer, visitor
from infra.journeys import poll

from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="the in-process upstream (embedded) and the HTTP one (distributed) carry requests differently"),
]
MB = 1 << 20


def _raw(url: str, request: bytes, *, timeout: float = 10) -> tuple[int, dict]:
    """Send `request` as written (no client tidies its path) and read the status and JSON body."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body) if body else {}


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@pytest.mark.parametrize("path", [b"/api/v1/users/../auth/login", b"/api/v1/users/%2e%2e/auth/login",
                                  b"/api/v1/users/..%2Fauth/login"])
def test_dot_segment_paths_are_refused_before_routing(platform: Platform, path: bytes) -> None:
    request = (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
    status, body = _raw(platform.url, request)
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", body


def test_a_declared_400_mb_body_is_413_before_it_is_sent(platform: Platform) -> None:
    started = time.monotonic()
    request = (b"POST /api/v1/cart/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(400 * MB).encode() + b"\r\nConnection: close\r\n\r\n")
    status, body = _raw(platform.url, request)
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert time.monotonic() - started < 5


def _peak_and_now(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]) * 1024, int(fields["VmRSS"].split()[0]) * 1024


async def test_a_streamed_400_mb_body_costs_the_gateway_little_memory(distributed_platform: Platform) -> None:
    gateway = distributed_platform.children()["gateway"]
    peak_before, idle = _peak_and_now(gateway)
    sent = 0

    async def body():
        nonlocal sent
        while sent < 400 * MB:
            sent += 64 * 1024
            yield bytes(64 * 1024)

    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=30) as client:
        try:
            response = await client.post("/api/v1/cart/items", content=body(),
                                         headers={"content-type": "application/json"})
            expect_error(response, 413, "PAYLOAD_TOO_LARGE")
        except httpx.HTTPError:
            pass  # the gateway may close the connection under the rest of the upload: refused either way
    peak_after, _ = _peak_and_now(gateway)
    assert sent < 400 * MB  # the gateway stopped reading long before the end
    assert peak_after <= max(peak_before, idle + 50 * MB), (idle, peak_before, peak_after)


async def test_nul_and_lone_surrogates_in_login_are_validation_errors(api: httpx.AsyncClient) -> None:
    for email in ("a\u0000@example.com", "\ud800@example.com"):
        body = json.dumps({"email": email, "password": "x"})  # escaped: \u0000, \ud800
        async with visitor(api) as client:
            response = await client.post("/api/v1/auth/login", content=body,
                                         headers={"content-type": "application/json"})
        expect_error(response, 400, "VALIDATION_ERROR")


async def test_huge_pagination_is_a_validation_error(api: httpx.AsyncClient) -> None:
    for query in ("offset=9223372036854775808", "page=9223372036854775808"):
        expect_error(await api.get(f"/api/v1/products?{query}"), 400, "VALIDATION_ERROR")


def test_no_secret_of_this_install_is_a_constant(platform: Platform) -> None:
    keys = platform.data_dir / "keys"
    token = (keys / "service_token.secret").read_text()
    assert token != "changethis" and len(token) >= 32
    request = (b"GET /internal/users/00000000-0000-0000-0000-000000000000 HTTP/1.1\r\nHost: x\r\n"
               b"X-Service-Token: changethis\r\nConnection: close\r\n\r\n")
    if platform.mode == "distributed":  # a service reached directly, past the gateway
        identity = f"http://127.0.0.1:{urlsplit(platform.url).port + 1}"
        status, body = _raw(identity, request)
        assert status == 401, body


async def test_a_logged_out_token_is_refused_by_a_service_reached_directly(distributed_platform: Platform) -> None:
    catalog = f"http://127.0.0.1:{urlsplit(distributed_platform.url).port + 2}"
    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=30) as api, \
            httpx.AsyncClient(base_url=catalog, timeout=30) as direct, visitor(api) as client:
        customer = await signed_in_customer(client)
        assert (await direct.get("/api/v1/wishlist", headers=bearer(customer["access"]))).status_code == 200
        response = await client.post("/api/v1/auth/logout", headers=bearer(customer["access"]))
        assert response.status_code == 204, response.text

        async def refused() -> bool:
            r = await direct.get("/api/v1/wishlist", headers=bearer(customer["access"]))
            return r.status_code == 401 and error_code(r) == "INVALID_TOKEN"

        await poll(refused, timeout=30, message="the logged-out token refused by catalog reached directly")
