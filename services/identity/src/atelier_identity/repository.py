"""Queries of the identity service; no rules, no commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_identity.models import (
    USERNAME_INDEX,
    Address,
    AddressBook,
    AnonymousClaim,
    EmailToken,
    MagicLink,
    MailMessage,
    OAuthAccount,
    OAuthState,
    Passkey,
    RefreshToken,
    User,
    WebauthnChallenge,
)


async def _flush_unique(session: AsyncSession) -> bool:
    """Flush; False when a unique constraint refused it.

    The transaction is unusable afterwards: the caller raises and it rolls back. (No savepoint:
    the SQLite driver would commit a savepoint opened as a transaction's first statement.)
    """
    try:
        await session.flush()
    except IntegrityError:
        return False
    return True


async def _flush_conflict(session: AsyncSession) -> str | None:
    """Flush; the database's message when a unique constraint refused it (see `_flush_unique`)."""
    try:
        await session.flush()
    except IntegrityError as exc:
        return str(exc.orig)
    return None


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT (both have `on_conflict_do_nothing`)."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return (await self.session.exec(select(User).where(User.email == email))).first()

    async def get_by_username(self, username: str) -> User | None:
        """The account of this username, whatever the case it is written in."""
        stmt = select(User).where(func.lower(User.username) == username.lower())
        return (await self.session.exec(stmt)).first()

    async def lock(self, user_id: uuid.UUID) -> User | None:
        """The user, locked until the transaction ends (serialises changes to one account)."""
        stmt = select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
        return (await self.session.exec(stmt)).first()

    async def add_unique(self, user: User) -> bool:
        """Insert `user`; False when its email is taken (the unique constraint decides, not a read)."""
        self.session.add(user)
        return await _flush_unique(self.session)

    async def save_unique(self, user: User) -> str | None:
        """Insert or update `user`; which unique field was taken meanwhile ("email", "username") or None."""
        self.session.add(user)
        conflict = await _flush_conflict(self.session)
        if conflict is None:
            return None
        return "username" if USERNAME_INDEX in conflict or "username" in conflict else "email"

    async def change_email(self, user: User, email: str) -> bool:
        """Give `user` the address `email`; False when another account took it meanwhile."""
        user.email = email
        return await _flush_unique(self.session)

    async def delete(self, user: User) -> None:
        # The database cascades to tokens, passkeys, provider links and claims.
        await self.session.execute(delete(User).where(col(User.id) == user.id))


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

    async def consume_token(self, token_hash: str, purpose: str, now: datetime) -> EmailToken | None:
        """Like `consume`, returning the whole row (email change needs the new address)."""
        stmt = (update(EmailToken)
                .where(col(EmailToken.token_hash) == token_hash, col(EmailToken.purpose) == purpose,
                       col(EmailToken.used_at).is_(None), col(EmailToken.expires_at) > now)
                .values(used_at=now).returning(EmailToken))
        return (await self.session.exec(stmt)).scalars().first()

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
        values: dict[str, Any] = {"attempts": MailMessage.attempts + 1, "last_error": error[:500]}
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


class MagicLinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, link: MagicLink) -> None:
        self.session.add(link)

    async def void_for_email(self, email: str, now: datetime) -> None:
        """Earlier codes die when a new one is sent: one live code per address to guess at."""
        await self.session.execute(
            update(MagicLink).where(col(MagicLink.email) == email, col(MagicLink.used_at).is_(None))
            .values(used_at=now))

    async def take_attempt(self, email: str, now: datetime, max_attempts: int) -> MagicLink | None:
        """Count one attempt on the live code of `email` and return it; None when there is none left.

        The attempt is counted before the code is compared (a guarded update that also locks the
        row), so parallel guesses cannot try more codes than the limit allows.
        """
        stmt = (update(MagicLink)
                .where(col(MagicLink.email) == email, col(MagicLink.used_at).is_(None),
                       col(MagicLink.expires_at) > now, col(MagicLink.attempts) < max_attempts)
                .values(attempts=MagicLink.attempts + 1).returning(MagicLink))
        return (await self.session.exec(stmt)).scalars().first()

    async def consume(self, link_id: uuid.UUID, now: datetime) -> bool:
        stmt = (update(MagicLink).where(col(MagicLink.id) == link_id, col(MagicLink.used_at).is_(None))
                .values(used_at=now).returning(col(MagicLink.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def consume_by_token(self, token_hash: str, now: datetime) -> str | None:
        """The address of the link's code, spent once; None when unknown, used or expired."""
        stmt = (update(MagicLink)
                .where(col(MagicLink.token_hash) == token_hash, col(MagicLink.used_at).is_(None),
                       col(MagicLink.expires_at) > now)
                .values(used_at=now).returning(col(MagicLink.email)))
        return (await self.session.execute(stmt)).scalar_one_or_none()


class OAuthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add_state(self, state: OAuthState) -> None:
        self.session.add(state)

    async def live_state(self, state_hash: str, provider: str, now: datetime) -> OAuthState | None:
        """The state if it is unused and unexpired (read only: `consume_state` spends it)."""
        stmt = select(OAuthState).where(OAuthState.state_hash == state_hash, OAuthState.provider == provider,
                                        col(OAuthState.used_at).is_(None), col(OAuthState.expires_at) > now)
        return (await self.session.exec(stmt)).first()

    async def consume_state(self, state_hash: str, provider: str, now: datetime) -> OAuthState | None:
        stmt = (update(OAuthState)
                .where(col(OAuthState.state_hash) == state_hash, col(OAuthState.provider) == provider,
                       col(OAuthState.used_at).is_(None), col(OAuthState.expires_at) > now)
                .values(used_at=now).returning(OAuthState))
        return (await self.session.exec(stmt)).scalars().first()

    async def get_account(self, provider: str, subject: str) -> OAuthAccount | None:
        stmt = select(OAuthAccount).where(OAuthAccount.provider == provider, OAuthAccount.subject == subject)
        return (await self.session.exec(stmt)).first()

    async def add_account(self, account: OAuthAccount) -> bool:
        """False when that provider identity was linked meanwhile (unique constraint)."""
        self.session.add(account)
        return await _flush_unique(self.session)

    async def user_has_account(self, user_id: uuid.UUID) -> bool:
        stmt = select(func.count()).select_from(OAuthAccount).where(OAuthAccount.user_id == user_id)
        return (await self.session.exec(stmt)).one() > 0


class PasskeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add_challenge(self, challenge: WebauthnChallenge) -> None:
        self.session.add(challenge)

    async def consume_challenge(self, nonce_hash: str, purpose: str, now: datetime) -> WebauthnChallenge | None:
        stmt = (update(WebauthnChallenge)
                .where(col(WebauthnChallenge.nonce_hash) == nonce_hash, col(WebauthnChallenge.purpose) == purpose,
                       col(WebauthnChallenge.used_at).is_(None), col(WebauthnChallenge.expires_at) > now)
                .values(used_at=now).returning(WebauthnChallenge))
        return (await self.session.exec(stmt)).scalars().first()

    async def add_unique(self, passkey: Passkey) -> bool:
        """False when the credential is registered already."""
        self.session.add(passkey)
        return await _flush_unique(self.session)

    async def get_by_credential_id(self, credential_id: str) -> Passkey | None:
        return (await self.session.exec(select(Passkey).where(Passkey.credential_id == credential_id))).first()

    async def list_for_user(self, user_id: uuid.UUID) -> Sequence[Passkey]:
        stmt = select(Passkey).where(Passkey.user_id == user_id).order_by(col(Passkey.created_at), col(Passkey.id))
        return (await self.session.exec(stmt)).all()

    async def get_for_user(self, passkey_id: uuid.UUID, user_id: uuid.UUID) -> Passkey | None:
        stmt = select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id)
        return (await self.session.exec(stmt)).first()

    async def advance_sign_count(self, passkey_id: uuid.UUID, new_count: int, now: datetime) -> bool:
        """Record a use; False when the counter did not move forward (a cloned key or a replay).

        Guarded in the UPDATE itself: two concurrent assertions with one counter value cannot
        both pass. Authenticators that keep no counter report 0 every time, which stays allowed.
        """
        moved = (col(Passkey.sign_count) < new_count) | ((col(Passkey.sign_count) == 0) & (new_count == 0))
        stmt = (update(Passkey).where(col(Passkey.id) == passkey_id, moved)
                .values(sign_count=new_count, last_used_at=now).returning(col(Passkey.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def delete(self, passkey: Passkey) -> None:
        await self.session.execute(delete(Passkey).where(col(Passkey.id) == passkey.id))

    async def delete_all_for_user(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(Passkey).where(col(Passkey.user_id) == user_id))


class AddressRepository:
    """Every read goes through `_owned`: another owner's address is simply not found."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _owned(owner_id: uuid.UUID) -> SelectOfScalar[Address]:
        return select(Address).where(Address.owner_id == owner_id)

    async def lock_book(self, owner_id: uuid.UUID) -> None:
        """Serialise changes to one owner's addresses until the transaction ends.

        The row is created on first use; on PostgreSQL it is then locked FOR UPDATE, and on
        SQLite the insert itself takes the database's write lock.
        """
        insert = _insert(self.session)
        await self.session.execute(insert(AddressBook).values(owner_id=owner_id, created_at=datetime.now(UTC))
                                   .on_conflict_do_nothing())
        await self.session.execute(select(AddressBook.owner_id).where(col(AddressBook.owner_id) == owner_id)
                                   .with_for_update())

    async def lock_books(self, *owner_ids: uuid.UUID) -> None:
        # Always in one order, so two transactions locking the same pair cannot deadlock.
        for owner_id in sorted(set(owner_ids)):
            await self.lock_book(owner_id)

    async def list_for_owner(self, owner_id: uuid.UUID, *, limit: int | None = None,
                             offset: int = 0) -> Sequence[Address]:
        stmt = self._owned(owner_id).order_by(col(Address.is_primary).desc(), col(Address.created_at),
                                              col(Address.id)).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return (await self.session.exec(stmt)).all()

    async def oldest_first(self, owner_id: uuid.UUID) -> Sequence[Address]:
        stmt = self._owned(owner_id).order_by(col(Address.created_at), col(Address.id))
        return (await self.session.exec(stmt)).all()

    async def count(self, owner_id: uuid.UUID) -> int:
        stmt = select(func.count()).select_from(self._owned(owner_id).subquery())
        return (await self.session.exec(stmt)).one()

    async def get_for_owner(self, address_id: uuid.UUID, owner_id: uuid.UUID) -> Address | None:
        return (await self.session.exec(self._owned(owner_id).where(Address.id == address_id))).first()

    async def add(self, address: Address) -> None:
        self.session.add(address)
        await self.session.flush()

    async def clear_primary(self, owner_id: uuid.UUID) -> None:
        """No primary for a moment: the next write names the new one (one primary per owner)."""
        await self.session.execute(update(Address).where(col(Address.owner_id) == owner_id,
                                                         col(Address.is_primary).is_(True))
                                   .values(is_primary=False))

    async def delete(self, address: Address) -> None:
        await self.session.delete(address)
        await self.session.flush()

    async def delete_all_for_owner(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(Address).where(col(Address.owner_id) == owner_id))
        await self.session.execute(delete(AddressBook).where(col(AddressBook.owner_id) == owner_id))

    async def delete_untouched_anonymous(self, untouched_since: datetime, limit: int) -> int:
        """Delete up to `limit` address books, with their addresses, of owners that are no user (an
        anonymous id) and whose addresses were none of them changed since `untouched_since`; books
        a writer holds are skipped (PostgreSQL). The number of rows deleted."""
        touched = (select(Address.id).where(col(Address.owner_id) == col(AddressBook.owner_id),
                                            col(Address.updated_at) >= untouched_since).exists())
        # NOT EXISTS, not NOT IN: PostgreSQL turns it into an anti-join on the user's key, where
        # NOT IN compares each book with every user once their ids outgrow work_mem.
        is_user = select(User.id).where(col(User.id) == col(AddressBook.owner_id)).exists()
        picked = (select(AddressBook.owner_id)
                  .where(col(AddressBook.created_at) < untouched_since, ~is_user, ~touched)
                  .limit(limit))
        if self.session.get_bind().dialect.name == "postgresql":
            picked = picked.with_for_update(of=AddressBook, skip_locked=True)
        owners = list((await self.session.exec(picked)).all())
        if not owners:
            return 0
        addresses = await self.session.execute(delete(Address).where(col(Address.owner_id).in_(owners))
                                               .returning(col(Address.id)))
        removed = len(addresses.all())
        books = await self.session.execute(delete(AddressBook).where(col(AddressBook.owner_id).in_(owners))
                                           .returning(col(AddressBook.owner_id)))
        return removed + len(books.all())


class ClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, claim: AnonymousClaim) -> None:
        self.session.add(claim)
