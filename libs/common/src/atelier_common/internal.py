"""Calls to another service's `/internal/...` API: service credential, timeouts, retries.

Only idempotent methods are retried; the base URL of each service is the `service_urls`
setting (in the embedded mode those URLs are mounted onto in-process ASGI transports). A service
run as several processes (a list of URLs) is called on each in turn; a retry goes to the next one,
and a call no process of it let connect goes at once to a sibling, whatever its method (nothing
was sent).

A plain `http://` service nobody mounted is called over the platform's own pooled HTTP/1.1
client (`fast/http1.py`, the gateway's), the `http1` fast path: httpx's client and transport cost
the caller ~1.5 ms of CPU per call on a slow 2-core machine, ~3.8 ms under a checkout's load, a
fifth of orders' CPU (docs/capacity.md). Mounted transports (the embedded mode, tests), `https://` and the fast path
switched off go through httpx. Both answer an `httpx.Response`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from atelier_common import fast
from atelier_common.auth import SERVICE_HEADER
from atelier_common.errors import ServiceUnavailable
from atelier_common.fast.http1 import Pool, UpstreamBroken, UpstreamRefused, UpstreamUnavailable, serialise
from atelier_common.settings import AtelierSettings
from atelier_common.telemetry import client_span, request_id_var

IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE"}
# Connections kept to each service by one process's calls.
CONNECTIONS_PER_SERVICE = 20


def service_url(settings: AtelierSettings, service: str) -> str:
    """The first of `service`'s base URLs (a link a service gives to itself)."""
    return settings.service_base_urls(service)[0]


class InternalApi:
    """Other services' `/internal` APIs, with this install's service credential: one per runtime
    (`Runtime.internal`), handed to each service's clients. `mounted`: the base URLs `http` has a
    transport mounted for (`Runtime`'s `http_mounts`), which are always called through it."""

    def __init__(self, http: httpx.AsyncClient, settings: AtelierSettings, *, mounted: Collection[str] = ()) -> None:
        self.http = http
        self.settings = settings
        self._mounted = {url.rstrip("/") for url in mounted}
        self._pools: dict[str, Pool | None] = {}
        self._turns: dict[str, int] = {}  # where the next call to a service of several processes starts

    async def call(self, service: str, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None, retries: int = 2) -> httpx.Response:
        """The answer of `service`; an idempotent method is tried again (`retries` times, with
        back-off) on a transport error or a 5xx. `ServiceUnavailable` when none answered."""
        bases = self._bases(service)
        attempts = retries + 1 if method.upper() in IDEMPOTENT else 1
        tried_sibling = len(bases) == 1
        attempt = turn = 0
        while True:
            base = bases[turn % len(bases)]
            pool = self._pool(base)
            try:
                if pool is not None:
                    response = await self._direct(pool, method.upper(), base, path, json, params)
                else:
                    response = await self.http.request(method, base + path, json=json, params=params,
                                                       headers={SERVICE_HEADER: self.settings.service_token})
            except (httpx.HTTPError, UpstreamUnavailable, UpstreamBroken, TimeoutError) as exc:
                if not tried_sibling and isinstance(exc, UpstreamRefused | httpx.ConnectError):
                    tried_sibling = True  # nothing was sent: the next process, at once
                    turn += 1
                    continue
                if attempt + 1 >= attempts:
                    raise ServiceUnavailable(f"{service} is unavailable") from exc
            else:
                if response.status_code < 500 or attempt + 1 >= attempts:
                    return response
            await asyncio.sleep(0.1 * 2**attempt)
            attempt += 1
            turn += 1

    def _bases(self, service: str) -> list[str]:
        """`service`'s base URLs, from the one whose turn it is."""
        urls = [url.rstrip("/") for url in self.settings.service_base_urls(service)]
        if len(urls) == 1:
            return urls
        turn = self._turns.get(service, 0)
        self._turns[service] = turn + 1
        start = turn % len(urls)
        return urls[start:] + urls[:start]

    def _pool(self, base: str) -> Pool | None:
        """The pooled client of a plain-HTTP service nobody mounted; None: httpx."""
        if base not in self._pools:
            # Nor a mount for every URL (`all://`, `http://`).
            direct = (fast.enabled(fast.HTTP1) and urlsplit(base).scheme == "http" and base not in self._mounted
                      and not self._mounted & {"all:", "http:"})
            self._pools[base] = Pool(base, limit=CONNECTIONS_PER_SERVICE) if direct else None
        return self._pools[base]

    async def _direct(self, pool: Pool, method: str, base: str, path: str, json: Any,
                      params: dict[str, Any] | None) -> httpx.Response:
        target = path + ("?" + str(httpx.QueryParams(params)) if params else "")
        headers = [(SERVICE_HEADER.lower().encode(), self.settings.service_token.encode("latin-1"))]
        if (request_id := request_id_var.get()) is not None:
            headers.append((b"x-request-id", request_id.encode("latin-1")))
        body = b""
        if json is not None:
            # What httpx's `json=` sends: non-string keys as strings (as the standard library's).
            body = orjson.dumps(json, option=orjson.OPT_NON_STR_KEYS)
            headers.append((b"content-type", b"application/json"))
        with client_span(method, base + target) as (trace_headers, record_status):
            request = serialise(method, target.encode("latin-1"), [*headers, *trace_headers], body,
                                pool.host_header)
            async with asyncio.timeout(self.settings.http_timeout_seconds):
                response, connection = await pool.exchange(method, request, retryable=method in IDEMPOTENT)
                try:
                    content = await response.read()
                finally:
                    pool.release(connection)
            record_status(response.status)
        # With its request, as httpx's own: `raise_for_status` needs it.
        return httpx.Response(response.status, headers=response.headers, content=content,
                              request=httpx.Request(method, base + target))

    async def aclose(self) -> None:
        for pool in self._pools.values():
            if pool is not None:
                pool.close()


def error_code(response: httpx.Response) -> str | None:
    """The `error.code` of another service's answer in the common error format; None otherwise."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None
