"""Identity's housekeeping rules (`atelier_common.housekeeping` runs them): what may go, and when.

- Single-use secrets (mailed links and OAuth tickets, magic-link codes, OAuth sign-in states,
  passkey challenges) go once used or expired: every consumer of them (`consume…`, `live_state`)
  already treats a used or expired row exactly like an unknown one, so deleting it changes no answer.
- Refresh tokens: a revoked token answers 401 like an unknown one, so it goes once the access
  tokens issued beside it have expired (the longest of `access_token_ttl_minutes` and the
  storefronts' `access_token_minutes`; the gateway's denylist covers those until then). A rotated (used) token must stay while its family is alive: shown
  again, it is the proof of theft that revokes the family (`domain.refresh_state`). So an
  expired token goes only when no token of its family is still usable.
- Mail: sent or given-up rows (the dev mailbox included) after `mail_retention_hours` (a day);
  mail still owed is never deleted.
- Addresses of anonymous visitors (a book marked `anonymous`: its owner is no user) none of which
  changed for `anonymous_retention_days` (30), with their address book. A user's addresses never
  go here (erasure is `identity.user_deleted`'s business).
- Outbound webhook deliveries that ended (succeeded, or failed and not replayed) more than
  `outbound_webhooks_retention_days` ago, with their attempts: the log staff replay from. Pending
  ones and the endpoints stay.
- Kept: users and what they own, passkeys, OAuth links, `anonymous_claim` (the record of who
  claimed which anonymous id: one row per claim, not per request).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import idempotency
from atelier_common.housekeeping import Sweep, Swept, expired
from atelier_identity.context import IdentityContext
from atelier_identity.models import EmailToken, MagicLink, MailMessage, OAuthState, RefreshToken, WebauthnChallenge
from atelier_identity.repository import AddressRepository
from atelier_identity.repository.webhooks import WebhookDeliveryRepository

Where = Callable[[datetime], ColumnElement[bool]]


def _spent(model: type[EmailToken] | type[MagicLink] | type[OAuthState] | type[WebauthnChallenge]) -> Where:
    def where(now: datetime) -> ColumnElement[bool]:
        return or_(col(model.used_at).is_not(None), col(model.expires_at) <= now)

    return where


def _refresh_done(longest_access_ttl: Callable[[], timedelta]) -> Where:
    live = aliased(RefreshToken)

    def where(now: datetime) -> ColumnElement[bool]:
        access_ttl = longest_access_ttl()
        family_alive = (select(live.id).where(live.family_id == RefreshToken.family_id,
                                              col(live.revoked_at).is_(None), live.expires_at > now).exists())
        return or_(col(RefreshToken.revoked_at) < now - access_ttl,
                   and_(col(RefreshToken.expires_at) <= now, ~family_alive))

    return where


def _mail_done(retention: timedelta) -> Where:
    def where(now: datetime) -> ColumnElement[bool]:
        return or_(col(MailMessage.sent_at) < now - retention, col(MailMessage.failed_at) < now - retention)

    return where


def _untouched_anonymous_addresses(retention: timedelta) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        return Swept(await AddressRepository(session).delete_untouched_anonymous(now - retention, limit))

    return Sweep("anonymous_addresses", batch)


def _finished_webhook_deliveries(retention: timedelta) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        return Swept(await WebhookDeliveryRepository(session).delete_finished(now - retention, limit))

    return Sweep("webhook_deliveries", batch)


def sweeps(context: IdentityContext) -> list[Sweep]:
    settings = context.settings
    return [
        expired("email_tokens", EmailToken, _spent(EmailToken)),
        expired("magic_links", MagicLink, _spent(MagicLink)),
        expired("oauth_states", OAuthState, _spent(OAuthState)),
        expired("webauthn_challenges", WebauthnChallenge, _spent(WebauthnChallenge)),
        # A storefront's access tokens may outlive the install's: the longest in force at each sweep.
        expired("refresh_tokens", RefreshToken, _refresh_done(lambda: context.longest_access_ttl)),
        expired("mail", MailMessage, _mail_done(timedelta(hours=settings.mail_retention_hours))),
        _untouched_anonymous_addresses(timedelta(days=settings.anonymous_retention_days)),
        idempotency.sweep(),
        _finished_webhook_deliveries(timedelta(days=settings.outbound_webhooks_retention_days)),
    ]
