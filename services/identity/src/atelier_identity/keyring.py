"""Identity's signing keys as this process holds them: the active key signs, the published
ones verify; all read from the `signing_key` table, so `atelier keys rotate` reaches every
identity process (API workers, relay, consumers) within `signing_key_refresh_seconds`.

A rotation never signs anyone out: the new key is published (the JWKS reads the table on each
call) before any process signs with it, and the old key stays published for the longest access
token lifetime after it stopped signing (`service.keys`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from atelier_common.auth import JwksCache
from atelier_common.columns import utcnow
from atelier_common.db import Database
from atelier_common.keys import SigningKey, jwks
from atelier_common.loops import BackgroundLoop
from atelier_identity.models import SigningKeyRecord
from atelier_identity.repository import SigningKeyRepository

log = logging.getLogger(__name__)


class KeyRing:
    def __init__(self, db: Database, configured: SigningKey, *, refresh_seconds: float,
                 pins: JwksCache | None = None) -> None:
        self.db = db
        self.configured = configured
        self.refresh_seconds = refresh_seconds
        # This process's verifier trusts the published keys without fetching its own JWKS.
        self.pins = pins
        self.current = configured
        self._published: list[SigningKey] = [configured]
        self._loop = BackgroundLoop("identity keyring")

    async def start(self) -> None:
        """Read the published keys and keep them fresh; the configured key is adopted before (by
        `bootstrap.context`: this module reads models and the repository only, no use case)."""
        await self.refresh()
        self._loop.every(self.refresh_seconds, self.refresh, now=False)

    async def stop(self) -> None:
        await self._loop.stop()

    async def refresh(self) -> None:
        async with self.db.read_only() as session:
            records = await SigningKeyRepository(session).published(utcnow())
        self._apply(records)

    def _apply(self, records: list[SigningKeyRecord]) -> None:
        keys = [SigningKey.from_pem(record.private_pem) for record in records]
        if not keys:  # everything retired by hand: keep signing with what we had rather than fail
            return
        self._published = keys
        self.current = keys[0]  # newest active first (`published_keys`)
        if self.pins is not None:
            self.pins.pin_only({key.kid: key.private_key.public_key() for key in keys})

    async def jwks(self, at: datetime | None = None) -> dict[str, Any]:
        """The published keys, read now: a key rotated in a moment ago by another process is here."""
        try:
            async with self.db.read_only() as session:
                records = await SigningKeyRepository(session).published(at or utcnow())
        except Exception:  # the database blinked: this process's last view still verifies
            log.warning("signing keys: database unreachable, serving the cached JWKS", exc_info=True)
            return jwks(*self._published)
        if records:
            self._apply(records)
        return jwks(*self._published)
