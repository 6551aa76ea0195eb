"""Queries of the identity service; no rules, no commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_identity.models import EmailToken, MailMessage, RefreshToken, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return (await self.session.exec(select(User).where(User.email == email))).first()

    async def add_unique(self, user: User) -> bool:
        """Insert `user`; False when its email is taken (the unique constraint decides, not a read)."""
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError:
            # The transaction is unusable now; the caller raises and the request rolls back.
            return False
        return True


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, token: RefreshToken) -> None:
        self.session.add(token)

    async def get_with_user(self, token_hash: str) -> RefreshToken | None:
        stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash).options(
            joinedload(RefreshToken.user))  # type: ignore[arg-type]
        return (await self.session.exec(stmt)).first()

    async def get(self, token_hash: str) -> RefreshToken | None:
        return (await self.session.exec(select(RefreshToken).where(RefreshToken.token_hash == token_hash))).first()

    async def claim(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Mark the token used unless someone else did first (a guarded update, not read-then-write)."""
        stmt = (update(RefreshToken)
                .where(col(RefreshToken.id) == token_id, col(RefreshToken.used_at).is_(None),
                       col(RefreshToken.revoked_at).is_(None))
                .values(used_at=now).returning(col(RefreshToken.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=now))

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
            .values(revoked_at=now))


class EmailTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, token: EmailToken) -> None:
        self.session.add(token)

    async def consume(self, token_hash: str, purpose: str, now: datetime) -> uuid.UUID | None:
        """Use the token once: the user id when it was unused and unexpired, else None."""
        stmt = (update(EmailToken)
                .where(col(EmailToken.token_hash) == token_hash, col(EmailToken.purpose) == purpose,
                       col(EmailToken.used_at).is_(None), col(EmailToken.expires_at) > now)
                .values(used_at=now).returning(col(EmailToken.user_id)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def consume_all_for_user(self, user_id: uuid.UUID, purpose: str, now: datetime) -> None:
        await self.session.execute(
            update(EmailToken)
            .where(col(EmailToken.user_id) == user_id, col(EmailToken.purpose) == purpose,
                   col(EmailToken.used_at).is_(None))
            .values(used_at=now))


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, message: MailMessage) -> None:
        self.session.add(message)

    async def lease_due(self, now: datetime, until: datetime, limit: int, *, skip_locked: bool) -> list[MailMessage]:
        """Take up to `limit` due messages and hide them from other senders until `until`."""
        stmt = (select(MailMessage)
                .where(col(MailMessage.sent_at).is_(None), col(MailMessage.failed_at).is_(None),
                       col(MailMessage.next_attempt_at) <= now)
                .order_by(col(MailMessage.next_attempt_at)).limit(limit))
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        messages = list((await self.session.exec(stmt)).all())
        for message in messages:
            message.next_attempt_at = until
        await self.session.flush()
        return messages

    async def mark_sent(self, message_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(MailMessage).where(col(MailMessage.id) == message_id)
            .values(sent_at=now, attempts=MailMessage.attempts + 1, last_error=None))

    async def mark_failed_attempt(self, message_id: uuid.UUID, error: str, *, retry_at: datetime | None,
                                  now: datetime) -> None:
        """Record a failed delivery; `retry_at` None means give up."""
        values: dict = {"attempts": MailMessage.attempts + 1, "last_error": error[:500]}
        if retry_at is None:
            values["failed_at"] = now
        else:
            values["next_attempt_at"] = retry_at
        await self.session.execute(update(MailMessage).where(col(MailMessage.id) == message_id).values(**values))

    async def delivered_to(self, recipient: str | None, limit: int) -> Sequence[MailMessage]:
        stmt = select(MailMessage).where(col(MailMessage.sent_at).is_not(None))
        if recipient is not None:
            stmt = stmt.where(MailMessage.recipient == recipient)
        stmt = stmt.order_by(col(MailMessage.created_at).desc(), col(MailMessage.id).desc()).limit(limit)
        return (await self.session.exec(stmt)).all()
