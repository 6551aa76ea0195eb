"""HMAC-signed, expiring links: asset URLs and the social-share tokens (S2).

Each kind of signature has its own purpose prefix, so a share token can never pass for an
asset signature or the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from atelier_common.keys import same_signature
from atelier_generation.errors import InvalidShareToken, InvalidSignature

FILES_PATH = "/api/v1/images/files/"


@dataclass(frozen=True)
class ShareClaim:
    restoration_id: uuid.UUID
    user_id: uuid.UUID


class UrlSigner:
    def __init__(self, secret: str, *, base_url: str, asset_ttl: int, share_ttl: int) -> None:
        self._secret = secret.encode()
        self.base_url = base_url.rstrip("/")
        self.asset_ttl = asset_ttl
        self.share_ttl = share_ttl

    def _mac(self, purpose: str, message: str) -> str:
        return hmac.new(self._secret, f"{purpose}\n{message}".encode(), hashlib.sha256).hexdigest()

    def client_hash(self, address: str, user_agent: str) -> str:
        """Who an anonymous client is (S0 binds anonymous ownership to the token and the client's
        address and User-Agent), kept as a keyed hash: the stored value names neither."""
        return self._mac("anon-client", f"{address}\n{user_agent}")

    # -- assets --------------------------------------------------------------------------------

    def asset_url(self, key: str, now: float) -> str:
        """Valid for at least the TTL, and the same URL for a tenth of it: a page listing images keeps
        its ETag (a 304) and a browser its cached file, where an expiry by the second changed both
        with every request."""
        window = max(1, self.asset_ttl // 10)
        expires = -(-(int(now) + self.asset_ttl) // window) * window  # rounded up to the window
        return f"{self.base_url}{FILES_PATH}{quote(key)}?exp={expires}&sig={self._mac('asset', f'{key}:{expires}')}"

    def verify_asset(self, key: str, expires: int, signature: str, now: float) -> None:
        expected = self._mac("asset", f"{key}:{expires}")
        if not same_signature(signature, expected):
            raise InvalidSignature("The link is not valid")
        if expires < now:
            raise InvalidSignature("The link has expired")

    # -- social share tokens -------------------------------------------------------------------

    def share_token(self, claim: ShareClaim, now: float) -> str:
        body = json.dumps({"r": str(claim.restoration_id), "u": str(claim.user_id),
                           "e": int(now) + self.share_ttl}, separators=(",", ":"))
        encoded = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{encoded}.{self._mac('share', encoded)}"

    def verify_share(self, token: str, now: float) -> ShareClaim:
        encoded, _, signature = token.partition(".")
        if not signature or not same_signature(signature, self._mac("share", encoded)):
            raise InvalidShareToken()
        try:
            body = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            claim = ShareClaim(restoration_id=uuid.UUID(body["r"]), user_id=uuid.UUID(body["u"]))
            expires = int(body["e"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidShareToken() from exc
        if expires < now:
            raise InvalidShareToken()
        return claim
