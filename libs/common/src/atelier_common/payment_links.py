"""The token of a payment link: pays one order, until it expires, without signing in.

Staff take an order for a customer who may have no account (a draft order, docs/back-office.md).
Orders mails them a link carrying `<expiry>.<signature>`, an HMAC of the order id and the expiry;
payments' checkout accepts it, for that order only, in place of the order's owner. The key is
derived from the service token every service already shares (`ATELIER_SERVICE_TOKEN`), under a
label of its own, so no new secret has to be configured and a link is useless for anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from atelier_common.keys import same_signature

_LABEL = b"atelier payment link v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()


def _signature(secret: str, order_id: uuid.UUID, expires: int) -> str:
    mac = hmac.new(_key(secret), f"{order_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def sign(secret: str, order_id: uuid.UUID, expires_at: datetime) -> str:
    """The token paying `order_id` until `expires_at`."""
    expires = int(expires_at.timestamp())
    return f"{expires}.{_signature(secret, order_id, expires)}"


def verify(secret: str, order_id: uuid.UUID, token: str, *, now: datetime | None = None) -> bool:
    """Whether `token` pays `order_id` now: signed for it with this install's key, not expired."""
    expires_text, _, signature = token.partition(".")
    # ASCII digits only: `"²".isdigit()` is true, and `int` refuses it.
    if not (expires_text.isascii() and expires_text.isdigit()) or not signature:
        return False
    expires = int(expires_text)
    if expires <= (now or datetime.now(UTC)).timestamp():
        return False
    return same_signature(signature, _signature(secret, order_id, expires))
