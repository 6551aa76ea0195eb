"""What a client says about proxies and trailers changes nothing for others: the
platform trusts no proxy here, so X-Forwarded-Proto/-Host from a client build no URL that the
shared cache then serves to everyone; a chunked body's trailers never become request headers.
Every answer says `X-Content-Type-Options: nosniff`."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="the in-process upstream (embedded) and the HTTP one (distributed) carry requests differently"),
]


async def test_a_forwarded_scheme_or_host_from_a_client_never_reaches_the_cached_links(
        api: httpx.AsyncClient, platform: Platform) -> None:
    # A query of its own: the cache entry this test reads is created by its first request.
    url = f"/api/v1/products?limit=1&ordering=price&unused={uuid.uuid4().hex}"
    # The first request stores the entry: a believed scheme would be in the links everyone gets.
    for forged in ({"X-Forwarded-Proto": "https"}, {"X-Forwarded-Proto": "evil"},
                   {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "evil"}):
        poisoned = await api.get(url, headers=forged)
        assert poisoned.status_code == 200 and poisoned.json()["next"].startswith(f"{platform.url}/"), forged
    normal = await api.get(url)
    assert normal.status_code == 200
    assert normal.json()["next"].startswith(f"{platform.url}/api/v1/products?")


async def _chunked(url: str, path: str, body: bytes, trailers: bytes) -> bytes:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
                 + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n" + trailers + b"\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    return answer


async def test_a_chunked_bodys_trailers_are_not_headers(platform: Platform) -> None:
    answer = await _chunked(platform.url, "/api/v1/auth/login", b"{}",
                            b"Authorization: Bearer not-a-token\r\n")
    status = int(answer.split(b" ", 2)[1])
    # The body is what the route judges (a login without credentials), not a token sent after it.
    assert status == 400, answer[:300]
    assert b"VALIDATION_ERROR" in answer


async def test_every_answer_says_nosniff(api: httpx.AsyncClient, platform: Platform) -> None:
    listing = f"/api/v1/products?limit=1&unused={uuid.uuid4().hex}"  # an entry of this test's own
    answers = {
        "the gateway's own": await api.get("/api/health"),
        "the console": await api.get("/console"),
        "a service's": await api.get(listing),
        "from the cache": await api.get(listing),
        "a service's refusal": await api.post("/api/v1/auth/login", json={}),
        "no session": await api.get("/api/v1/users/me"),
        "a bad token": await api.get("/api/v1/users/me", headers={"Authorization": "Bearer not-a-token"}),
        "no such path": await api.get("/api/v1/nowhere"),
        "a compatibility profile's": await api.get("/compat/figureforge/api/pricing/"),
        "its refusal": await api.get("/compat/figureforge/api/auth/user/"),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "the gateway's own": 200, "the console": 200, "a service's": 200, "from the cache": 200,
        "a service's refusal": 400, "no session": 401, "a bad token": 401, "no such path": 404,
        "a compatibility profile's": 200, "its refusal": 401}
    if platform.caches:
        assert answers["from the cache"].headers.get("x-cache") == "hit"
    assert {name: r.headers.get_list("x-content-type-options") for name, r in answers.items()} == {
        name: ["nosniff"] for name in answers}
