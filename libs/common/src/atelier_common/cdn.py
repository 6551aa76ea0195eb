"""Telling a CDN in front of the platform to drop what a commit changed (optional).

Public answers carry surrogate keys (`Surrogate-Key`, space-separated, and `Cache-Tag`,
comma-separated: `cache.cached_route`); a CDN that keeps them can drop every answer of one key at
once. After a commit the `cache.WriteTracker` that bumps the shared cache's counters hands the
same change, as keys, to `CdnPurger.purge`: one POST to `cdn_purge_url` with
`{"tags": [key, ...]}` and `Authorization: Bearer <cdn_purge_token>` (Cloudflare's purge-by-tag
shape; another CDN takes a small adapter at that URL).

The purge never holds a write: it runs in the background, keys arriving meanwhile are sent
together in the next call, and a failed call (a refused connection, a 429 or 5xx) is retried
`cdn_purge_attempts` times with a doubling pause, then logged and dropped — the `s-maxage` of the
answers bounds how long a CDN keeps what a lost purge should have dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import httpx

from atelier_common.settings import AtelierSettings

log = logging.getLogger("atelier.cdn")


class CdnPurger:
    def __init__(self, url: str, token: str, client: httpx.AsyncClient, *, attempts: int = 3,
                 backoff_seconds: float = 0.5) -> None:
        self.url = url
        self.token = token
        self.client = client
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self._pending: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: AtelierSettings, client: httpx.AsyncClient) -> CdnPurger | None:
        if not settings.cdn_purge_url:
            return None
        return cls(settings.cdn_purge_url, settings.cdn_purge_token, client, attempts=settings.cdn_purge_attempts)

    def purge(self, keys: Iterable[str]) -> None:
        """Drop the answers of these keys at the CDN, soon; returns at once."""
        self._pending.update(keys)
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._pending:
            keys = sorted(self._pending)
            self._pending.clear()
            await self._send(keys)

    async def _send(self, keys: list[str]) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.client.post(self.url, json={"tags": keys},
                                                  headers={"Authorization": f"Bearer {self.token}"})
                if response.status_code < 300:
                    return
                failure = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break  # refused (a bad token, a bad request): asking again would not help
            except httpx.HTTPError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                log.warning("CDN purge of %d keys failed (%s), attempt %d of %d", len(keys), failure, attempt,
                            self.attempts)
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        log.error("CDN purge of %s given up (%s): the CDN keeps those answers until their s-maxage ends",
                  keys, failure)

    async def settle(self) -> None:
        """Wait for the purges asked so far (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
