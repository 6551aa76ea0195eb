"""Events produced by identity."""

from __future__ import annotations

import uuid
from datetime import datetime

from atelier_common.events.envelope import IntegrationEvent


class AnonymousClaimed(IntegrationEvent):
    """An anonymous customer became (or logged in as) a user: move what the anon id owns."""

    type = "identity.anonymous_claimed"
    anon_id: uuid.UUID
    user_id: uuid.UUID


class UserDeleted(IntegrationEvent):
    type = "identity.user_deleted"
    user_id: uuid.UUID


class TokenRevoked(IntegrationEvent):
    """An access token must be refused until it expires (logout, password change, deletion)."""

    type = "identity.token_revoked"
    user_id: uuid.UUID
    jti: str | None = None
    expires_at: datetime
    # When set, every access token of the user issued before this instant is refused.
    all_before: datetime | None = None
