"""Calls to another service's `/internal/...` API: service credential, timeouts, retries.

Only idempotent methods are retried; the base URL of each service is the `service_urls`
setting (in the embedded mode those URLs are mounted onto in-process ASGI transports).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from atelier_common.auth import SERVICE_HEADER
from atelier_common.errors import ServiceUnavailable
from atelier_common.settings import AtelierSettings

IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE"}


def service_url(settings: AtelierSettings, service: str) -> str:
    url: str = settings.service_urls.get(service, f"http://{service}.internal")
    return url


class InternalApi:
    """Other services' `/internal` APIs, with this install's service credential: one per runtime
    (`Runtime.internal`), handed to each service's clients."""

    def __init__(self, http: httpx.AsyncClient, settings: AtelierSettings) -> None:
        self.http = http
        self.settings = settings

    async def call(self, service: str, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None, retries: int = 2) -> httpx.Response:
        """The answer of `service`; an idempotent method is tried again (`retries` times, with
        back-off) on a transport error or a 5xx. `ServiceUnavailable` when none answered."""
        url = service_url(self.settings, service).rstrip("/") + path
        headers = {SERVICE_HEADER: self.settings.service_token}
        attempts = retries + 1 if method.upper() in IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                response = await self.http.request(method, url, json=json, params=params, headers=headers)
            except httpx.HTTPError as exc:
                if attempt + 1 >= attempts:
                    raise ServiceUnavailable(f"{service} is unavailable") from exc
            else:
                if response.status_code < 500 or attempt + 1 >= attempts:
                    return response
            await asyncio.sleep(0.1 * 2**attempt)
        raise ServiceUnavailable(f"{service} is unavailable")


def error_code(response: httpx.Response) -> str | None:
    """The `error.code` of another service's answer in the common error format; None otherwise."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None
