"""Queries of the identity service; no rules, no commits. Accounts, tokens, address books and
storefronts here; one module per other concern:

- `staff`: the staff audit log and staff accounts;
- `webhooks`: outbound webhook endpoints and their deliveries.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, false, func, insert, true, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import joinedload
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import Statement, held_for_write, insert_row, on_postgres, one_of
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
    SigningKeyRecord,
    StorefrontRecord,
    User,
    WebauthnChallenge,
)
from atelier_identity.rows import AddressRow


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


# The statements of a guest checkout's paths (the address, the registration and claim of
# `order.paid`, the status mail, the mail sender; orders' read of the address is `queries.py`'s),
# built once with bound parameters and read as plain rows: under load, building statements and ORM
# objects cost identity more CPU than PostgreSQL spent running them. Addresses are rows on every
# path (`rows.AddressRow`); mail and mailed tokens are built as models (their defaults) and
# inserted by a statement, never flushed by the ORM; the other paths keep the ORM.
_USER = table_of(User)
_ADDRESS = table_of(Address)
_BOOK = table_of(AddressBook)
_CLAIM = table_of(AnonymousClaim)
_MAIL = table_of(MailMessage)


_INSERT_EMAIL_TOKEN = insert_row(table_of(EmailToken))
_INSERT_MAIL = insert_row(_MAIL)

_USER_BY_EMAIL = sa_select(_USER.c.id).where(_USER.c.email == bindparam("email"))
_USER_CONTACT = sa_select(_USER.c.email, _USER.c.first_name, _USER.c.is_active).where(
    _USER.c.id == bindparam("user_id"))
_INSERT_CLAIM = Statement(insert(_CLAIM).values(
    id=bindparam("id"), anon_id=bindparam("anon_id"), user_id=bindparam("user_id"), via=bindparam("via"),
    claimed_at=bindparam("claimed_at")))


def _register(dialect: str) -> Any:
    """The account of an email, created unless it exists: (id, created) rows. On PostgreSQL one
    statement; the outer SELECT reads the snapshot from before the INSERT, so an account
    committed by someone else meanwhile is in neither branch (no row: the caller retries)."""
    stmt = ((pg_insert if dialect == "postgresql" else sqlite_insert)(_USER)
            .values({c.name: bindparam(c.name) for c in _USER.c}).on_conflict_do_nothing(index_elements=["email"]))
    if dialect != "postgresql":
        return stmt.returning(_USER.c.id, true().label("created"))
    created = stmt.returning(_USER.c.id).cte("created")
    return sa_select(created.c.id, true().label("created")).union_all(
        sa_select(_USER.c.id, false().label("created")).where(_USER.c.email == bindparam("email")))


_REGISTER = Statement(_register("postgresql"), sqlite=_register("sqlite"))


@dataclass(frozen=True)
class UserContact:
    """What a mail to an account needs."""

    email: str | None  # None: an account registered by username alone
    first_name: str
    is_active: bool


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return (await self.session.exec(select(User).where(User.email == email))).first()

    async def contact(self, user_id: uuid.UUID) -> UserContact | None:
        row = (await self.session.execute(_USER_CONTACT, {"user_id": user_id})).first()
        return UserContact(*row) if row is not None else None

    async def find_or_register(self, values: dict[str, Any]) -> tuple[uuid.UUID, bool] | None:
        """The id of the account of `values["email"]` and whether it was created now from `values`
        (every column of `user`); None when another transaction registered it meanwhile."""
        if not on_postgres(self.session):
            existing = (await self.session.execute(_USER_BY_EMAIL, {"email": values["email"]})).scalar()
            if existing is not None:
                return existing, False
        rows = await _REGISTER.rows(self.session, values)
        return (rows[0][0], bool(rows[0][1])) if rows else None

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
            joinedload(RefreshToken.user))  # type: ignore[arg-type]  # SQLModel types a relationship as its model, not as the attribute loaders take
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

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime, *,
                                  except_family: uuid.UUID | None = None) -> None:
        """Revoke every refresh token of the user, but those of `except_family` when given."""
        stmt = (update(RefreshToken)
                .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None)))
        if except_family is not None:
            stmt = stmt.where(col(RefreshToken.family_id) != except_family)
        await self.session.execute(stmt.values(revoked_at=now))

    async def family_alive(self, user_id: uuid.UUID, family_id: uuid.UUID, now: datetime) -> bool:
        """Whether the user's session `family_id` goes on: one of its tokens is unrevoked and unexpired."""
        stmt = select(col(RefreshToken.id)).where(
            col(RefreshToken.user_id) == user_id, col(RefreshToken.family_id) == family_id,
            col(RefreshToken.revoked_at).is_(None), col(RefreshToken.expires_at) > now).limit(1)
        return (await self.session.exec(stmt)).first() is not None


class EmailTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: EmailToken) -> None:
        await _INSERT_EMAIL_TOKEN.execute(self.session, token.model_dump())

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


@dataclass(frozen=True)
class LeasedMail:
    """A message a sender holds (`OutgoingMail.lease_due`)."""

    id: uuid.UUID
    recipient: str
    subject: str
    text: str
    html: str
    attempts: int
    created_at: datetime
    # None for mail queued before storefronts: the `mail_from` setting.
    sender: str | None


# The most messages one lease takes. In the SQL, not bound: PostgreSQL then keeps the lease's plan.
LEASE_BATCH = 50


def _lease(skip_locked: bool) -> Any:
    due = (sa_select(_MAIL.c.id)
           .where(_MAIL.c.sent_at.is_(None), _MAIL.c.failed_at.is_(None), _MAIL.c.next_attempt_at <= bindparam("now"))
           .order_by(_MAIL.c.next_attempt_at).limit(LEASE_BATCH))
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (update(_MAIL).where(_MAIL.c.id.in_(due.scalar_subquery())).values(next_attempt_at=bindparam("until"))
            .returning(*(_MAIL.c[name] for name in LeasedMail.__dataclass_fields__)))


_LEASE = {skip_locked: Statement(_lease(skip_locked)) for skip_locked in (True, False)}


def _mark_sent(sent: ColumnElement[bool]) -> Any:
    return update(_MAIL).where(sent).values(sent_at=bindparam("sent"), attempts=_MAIL.c.attempts + 1, last_error=None)


_MARK_SENT = Statement(_mark_sent(one_of(_MAIL.c.id, "ids")), sqlite=_mark_sent(one_of(_MAIL.c.id, "ids", postgres=False)))


class OutgoingMail:
    """The mail sender's statements. They run on a connection outside any transaction (PostgreSQL):
    each is atomic on its own, and a batch then costs one round trip to take and one to mark sent,
    an idle poll one, where BEGIN and COMMIT took two more each."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def lease_due(self, now: datetime, until: datetime, *, skip_locked: bool) -> list[LeasedMail]:
        """Take up to `LEASE_BATCH` due messages, oldest first, and hide them from other senders until `until`."""
        rows = await _LEASE[skip_locked].rows_on(self.conn, {"now": now, "until": until})
        return sorted((LeasedMail(*row) for row in rows), key=lambda m: (m.created_at, m.id))

    async def mark_sent(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        await _MARK_SENT.execute_on(self.conn, {"ids": list(message_ids), "sent": now})

    async def mark_failed_attempt(self, message_id: uuid.UUID, error: str, *, retry_at: datetime | None,
                                  now: datetime) -> None:
        """Record a failed delivery; `retry_at` None means give up."""
        values: dict[str, Any] = {"attempts": MailMessage.attempts + 1, "last_error": error[:500]}
        if retry_at is None:
            values["failed_at"] = now
        else:
            values["next_attempt_at"] = retry_at
        await self.conn.execute(update(MailMessage).where(col(MailMessage.id) == message_id).values(**values))


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, message: MailMessage) -> None:
        await _INSERT_MAIL.execute(self.session, message.model_dump())

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

    async def take_retry(self, email: str, since: datetime, max_attempts: int) -> MagicLink | None:
        """Count one attempt on the code of `email` spent at or after `since` and return it: the
        address's latest code only (a code voided by a newer request is never the latest), and only
        while attempts remain, so a retry window cannot be used to guess."""
        latest = (sa_select(func.max(MagicLink.created_at)).where(col(MagicLink.email) == email)
                  .scalar_subquery())
        stmt = (update(MagicLink)
                .where(col(MagicLink.email) == email, col(MagicLink.used_at) >= since,
                       col(MagicLink.created_at) == latest, col(MagicLink.attempts) < max_attempts)
                .values(attempts=MagicLink.attempts + 1).returning(MagicLink))
        return (await self.session.exec(stmt)).scalars().first()

    async def exhaust(self, link_id: uuid.UUID, max_attempts: int) -> None:
        """No attempt left on this code; its link's token still signs in (it cannot be guessed)."""
        await self.session.execute(update(MagicLink).where(col(MagicLink.id) == link_id)
                                   .values(attempts=max_attempts))

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

    async def list_for_user(self, user_id: uuid.UUID, *, rp_id: str | None = None) -> Sequence[Passkey]:
        """The user's passkeys (of one relying party with `rp_id`), oldest first."""
        stmt = select(Passkey).where(Passkey.user_id == user_id)
        if rp_id is not None:
            stmt = stmt.where(Passkey.rp_id == rp_id)
        stmt = stmt.order_by(col(Passkey.created_at), col(Passkey.id))
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


# An address book's statements: the reads a change decides on (after the book's lock) and the
# writes. `AddressRow`'s fields are the table's columns in order, so `SELECT address` reads rows.
_LABELS = Statement(sa_select(_ADDRESS.c.label, _ADDRESS.c.is_primary)
                    .where(_ADDRESS.c.owner_id == bindparam("owner_id")))
_INSERT_ADDRESS = insert_row(_ADDRESS)
# One address's change: sets the columns named in the parameters, beside `address_id`.
_CHANGE_ADDRESS = update(_ADDRESS).where(_ADDRESS.c.id == bindparam("address_id"))
_MOVE_ADDRESS = Statement(update(_ADDRESS).where(_ADDRESS.c.id == bindparam("address_id")).values(
    owner_id=bindparam("new_owner"), label=bindparam("new_label"), is_primary=bindparam("primary")))
_MAKE_PRIMARY = update(_ADDRESS).where(_ADDRESS.c.id == bindparam("address_id")).values(is_primary=True)
# `owner`, not `owner_id`: an UPDATE keeps its columns' names for the values it sets.
_CLEAR_PRIMARY = (update(_ADDRESS).where(_ADDRESS.c.owner_id == bindparam("owner"), _ADDRESS.c.is_primary.is_(True))
                  .values(is_primary=False))
_DELETE_ADDRESS = delete(_ADDRESS).where(_ADDRESS.c.id == bindparam("address_id"))
_DELETE_OWNERS_ADDRESSES = delete(_ADDRESS).where(_ADDRESS.c.owner_id == bindparam("owner_id"))
_DELETE_OWNERS_BOOK = delete(_BOOK).where(_BOOK.c.owner_id == bindparam("owner_id"))


@functools.cache
def _books_oldest_first(count: int) -> Statement:
    """Every address of `count` owners (`owner_0`…), oldest first: one bind per owner, as a
    `Statement` takes no `IN` list."""
    owners = [bindparam(f"owner_{i}", type_=_ADDRESS.c.owner_id.type) for i in range(count)]
    return Statement(sa_select(_ADDRESS).where(_ADDRESS.c.owner_id.in_(owners))
                     .order_by(_ADDRESS.c.created_at, _ADDRESS.c.id))


@functools.cache
def _lock_books(count: int) -> Statement:
    """`_lock_books_upsert` for `count` owners, both dialects."""
    return Statement(_lock_books_upsert(pg_insert, count), sqlite=_lock_books_upsert(sqlite_insert, count))


def _lock_books_upsert(insert_of: Any, count: int) -> Any:
    """Create the books that are missing and lock the others, in one statement: a `DO UPDATE`
    whose WHERE does not hold updates nothing (no new row version) but still locks each existing
    row, waiting for its holder like `FOR UPDATE`. It holds only when a user's request meets a
    book marked anonymous: the marker is cleared, so housekeeping never takes a user's book. On
    SQLite the insert takes the database's write lock."""
    stmt = insert_of(_BOOK).values(
        [{"owner_id": bindparam(f"owner_{i}", type_=_BOOK.c.owner_id.type),
          "created_at": bindparam("created", type_=_BOOK.c.created_at.type),
          "anonymous": bindparam(f"anonymous_{i}", type_=_BOOK.c.anonymous.type)} for i in range(count)])
    return stmt.on_conflict_do_update(index_elements=["owner_id"], set_={"anonymous": false()},
                                      where=and_(_BOOK.c.anonymous, ~stmt.excluded.anonymous))


class AddressRepository:
    """The address books' locks and writes, on rows (`rows.AddressRow`) and the statements above,
    and the reads a change decides on; the reads that only answer the API are `queries.AddressQueries`.
    Every read is filtered by owner: another owner's address is simply not found."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_book(self, owner_id: uuid.UUID, *, anonymous: bool) -> None:
        """Serialise changes to one owner's addresses until the transaction ends (the row is
        created on first use, marked `anonymous` when the owner is an anonymous visitor)."""
        await self.lock_books(owner_id, anonymous=(owner_id,) if anonymous else ())

    async def lock_books(self, *owner_ids: uuid.UUID, anonymous: Collection[uuid.UUID] = ()) -> None:
        """`lock_book` for several owners; `anonymous`: those of them that are anonymous visitors."""
        # Always in one order, so two transactions locking the same pair cannot deadlock.
        owners = sorted(set(owner_ids))
        params: dict[str, Any] = {f"owner_{i}": owner for i, owner in enumerate(owners)}
        params |= {f"anonymous_{i}": owner in anonymous for i, owner in enumerate(owners)}
        params["created"] = datetime.now(UTC)
        await _lock_books(len(owners)).execute(self.session, params)

    async def labels(self, owner_id: uuid.UUID) -> list[tuple[str, bool]]:
        """Each address's label and whether it is the primary one."""
        return [(label, primary) for label, primary in await _LABELS.rows(self.session, {"owner_id": owner_id})]

    async def books_oldest_first(self, *owner_ids: uuid.UUID) -> list[AddressRow]:
        """Every address of these owners, oldest first (read after their books' lock: a locking
        read would see the rows of its snapshot from before the wait)."""
        stmt = _books_oldest_first(len(owner_ids))
        rows = await stmt.rows(self.session, {f"owner_{i}": owner for i, owner in enumerate(owner_ids)})
        return [AddressRow(**dict(zip(stmt.keys, row, strict=True))) for row in rows]

    async def insert(self, address: AddressRow) -> None:
        await _INSERT_ADDRESS.execute(self.session, vars(address))

    async def change(self, address_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Write `values` (column: value) to one address."""
        await self.session.execute(_CHANGE_ADDRESS, {**values, "address_id": address_id})

    async def move(self, addresses: Sequence[AddressRow]) -> None:
        """Write the owner, label and primary flag of `addresses` (in that order)."""
        # One UPDATE each (a `Statement` runs one set of parameters): a claim moves few, a guest's one.
        for a in addresses:
            await _MOVE_ADDRESS.execute(self.session, {"address_id": a.id, "new_owner": a.owner_id,
                                                       "new_label": a.label, "primary": a.is_primary})

    async def make_primary(self, address_id: uuid.UUID) -> None:
        await self.session.execute(_MAKE_PRIMARY, {"address_id": address_id})

    async def clear_primary(self, owner_id: uuid.UUID) -> None:
        """No primary for a moment: the next write names the new one (one primary per owner)."""
        await self.session.execute(_CLEAR_PRIMARY, {"owner": owner_id})

    async def delete(self, address_id: uuid.UUID) -> None:
        await self.session.execute(_DELETE_ADDRESS, {"address_id": address_id})

    async def delete_all_for_owner(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(_DELETE_OWNERS_ADDRESSES, {"owner_id": owner_id})
        await self.session.execute(_DELETE_OWNERS_BOOK, {"owner_id": owner_id})

    async def delete_untouched_anonymous(self, untouched_since: datetime, limit: int) -> int:
        """Delete up to `limit` address books, with their addresses, of anonymous visitors (marked
        `anonymous`) whose addresses were none of them changed since `untouched_since`; books
        a writer holds are skipped (PostgreSQL). The number of rows deleted.

        Housekeeping's batch, off the request paths: its statements are built per round from the
        models' columns; it reads owners and deletes, and holds no ORM object."""
        touched = (select(Address.id).where(col(Address.owner_id) == col(AddressBook.owner_id),
                                            col(Address.updated_at) >= untouched_since).exists())
        # Only books marked anonymous, through their partial index (ix_address_book_anonymous_created):
        # neither the users nor their books are read, however many. No user owns a book so
        # marked: an anonymous id is never a user's, and a user's request on one clears the mark.
        picked = (select(AddressBook.owner_id)
                  .where(col(AddressBook.anonymous), col(AddressBook.created_at) < untouched_since, ~touched)
                  .limit(limit))
        picked = held_for_write(picked, self.session, of=AddressBook, skip_locked=True)
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

    async def add(self, anon_id: uuid.UUID, user_id: uuid.UUID, via: str, claimed_at: datetime) -> None:
        # A Core INSERT, not flushed with the ORM's rows: the account it names is in the database
        # already (every sign-in method inserted or flushed it first).
        await _INSERT_CLAIM.execute(self.session, {"id": uuid.uuid4(), "anon_id": anon_id, "user_id": user_id,
                                                   "via": via, "claimed_at": claimed_at})


class StorefrontRepository:
    """The storefront rows (few: one per brand)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_all(self) -> None:
        """Serialise the storefront writes until the transaction ends: the one-default rule and
        the unique origins read every row before writing one (PostgreSQL; SQLite's writers are serial)."""
        if on_postgres(self.session):
            await self.session.execute(sa_select(func.pg_advisory_xact_lock(
                func.hashtextextended(bindparam("key"), 0))), {"key": "identity.storefronts"})

    async def list_all(self) -> Sequence[StorefrontRecord]:
        return (await self.session.exec(select(StorefrontRecord).order_by(col(StorefrontRecord.slug)))).all()

    async def get(self, slug: str) -> StorefrontRecord | None:
        return await self.session.get(StorefrontRecord, slug)

    async def add_unique(self, record: StorefrontRecord) -> bool:
        """Insert `record`; False when its slug exists (see `_flush_unique`)."""
        self.session.add(record)
        return await _flush_unique(self.session)

    async def delete(self, record: StorefrontRecord) -> None:
        await self.session.delete(record)
        await self.session.flush()


class SigningKeyRepository:
    """Identity's signing keys (`service.keys` has the rules)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> list[SigningKeyRecord]:
        return list((await self.session.exec(select(SigningKeyRecord))).all())

    async def published(self, at: datetime) -> list[SigningKeyRecord]:
        """The keys that verify at `at`: not retired, not past their overlap; the active one (newest
        not superseded) first."""
        published = (col(SigningKeyRecord.retired_at).is_(None)
                     & or_(col(SigningKeyRecord.retire_after).is_(None), col(SigningKeyRecord.retire_after) > at))
        rows = (await self.session.exec(select(SigningKeyRecord).where(published))).all()
        return sorted(rows, key=lambda r: (r.retire_after is None, r.activated_at), reverse=True)
