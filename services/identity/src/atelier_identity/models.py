"""Tables of the identity service.

No `from __future__ import annotations` here: SQLModel resolves relationship types at class creation.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Relationship, SQLModel

from atelier_identity import domain


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetimes are not stored; use UTC")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class User(SQLModel, table=True):
    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("email", name="uq_user_email"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Lower-case (domain.normalise_email); it is also the login name.
    email: str = Field(max_length=320)
    # None for accounts without a password (passkey, OAuth, magic link).
    password_hash: str | None = Field(default=None, max_length=255)
    first_name: str = Field(max_length=150)
    last_name: str = Field(max_length=150)
    phone: str | None = Field(default=None, max_length=32)
    company_name: str | None = Field(default=None, max_length=200)
    is_staff: bool = False
    is_active: bool = True
    email_verified_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_business_customer(self) -> bool:
        return domain.is_business_customer(self.company_name)

    @property
    def roles(self) -> list[str]:
        return domain.roles_of(is_staff=self.is_staff)


class RefreshToken(SQLModel, table=True):
    """One issued refresh token. Rotation marks it used and issues the next one in its family."""

    __tablename__ = "refresh_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_refresh_token_token_hash"),
        Index("ix_refresh_token_family_id", "family_id"),
        Index("ix_refresh_token_user_id", "user_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    # Every token rotated from one login shares the family id; reuse revokes the family.
    family_id: uuid.UUID
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    user: User = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class EmailToken(SQLModel, table=True):
    """A single-use token sent by mail (email verification; later reset and email change)."""

    __tablename__ = "email_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_email_token_token_hash"),
        Index("ix_email_token_user_id_purpose", "user_id", "purpose"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    user: User = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class MailMessage(SQLModel, table=True):
    """Outgoing mail, written in the transaction that decided to send it; the sender delivers it."""

    __tablename__ = "mail_message"
    __table_args__ = (
        Index("ix_mail_message_due", "sent_at", "next_attempt_at"),
        Index("ix_mail_message_recipient", "recipient", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recipient: str = Field(max_length=320)
    kind: str = Field(max_length=50)
    subject: str = Field(max_length=255)
    text: str = Field(sa_type=Text)
    html: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # Not before this instant: set at queueing, pushed on while a sender holds it and after failures.
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Given up after mail_max_attempts.
    failed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
