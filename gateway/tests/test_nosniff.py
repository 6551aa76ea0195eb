"""Every answer of the gateway says `X-Content-Type-Options: nosniff`, whoever made it:
its own routes, a service's answer passed on (these stand-in services do not say it), its
refusals, and an unexpected error (cache hits: test_cache.py)."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from atelier_gateway.upstream import OnStart


def _nosniff(response: httpx.Response) -> bool:
    return response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_own_passed_on_and_refused_answers_say_nosniff(gateway) -> None:
    answers = {
        "own route": await gateway.client.get("/health"),
        "the console": await gateway.client.get("/console"),
        "a service's": await gateway.client.get("/api/v1/products/x"),
        "a bad token": await gateway.client.get("/api/v1/products/x", headers={"Authorization": "Bearer nonsense"}),
        "no such path": await gateway.client.get("/nowhere"),
        "an internal path": await gateway.client.get("/internal/secret"),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "own route": 200, "the console": 200, "a service's": 200, "a bad token": 401, "no such path": 404,
        "an internal path": 404}
    assert [name for name, r in answers.items() if not _nosniff(r)] == []


class _Broken:
    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None:
        raise RuntimeError("a bug, not an outage")

    async def close(self) -> None:
        return None


async def test_an_unexpected_error_says_nosniff(start_gateway) -> None:
    async with start_gateway(upstream=_Broken()) as gateway:
        # The error middleware answers, then re-raises: the client takes the answer.
        transport = httpx.ASGITransport(app=gateway.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            broken = await client.get("/api/v1/products/x")
    assert broken.status_code == 500 and broken.json()["error"]["code"] == "INTERNAL_ERROR", broken.text
    assert _nosniff(broken)
