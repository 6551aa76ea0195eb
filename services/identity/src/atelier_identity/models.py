"""Tables of the identity service.

No `from __future__ import annotations` here: SQLModel resolves relationship types at class creation.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, LargeBinary, Text, UniqueConstraint, false, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Relationship, SQLModel

from atelier_common.columns import UtcDateTime, json_field, utcnow
from atelier_common.contracts.identity import TAX_NUMBER_MAX_LENGTH
from atelier_common.imports import ImportRefRow
from atelier_common.versions import version_of
from atelier_identity import domain

USERNAME_INDEX = "uq_user_username_lower"
USED = text("used_at IS NOT NULL")
# The `webauthn_rp_id` setting's default: the relying party of passkeys stored before storefronts.
DEFAULT_RP_ID = "localhost"


def _spent_indexes(table: str) -> tuple[Index, Index]:
    """What housekeeping's "used or expired" sweep of a single-use secret reads: the expiry range,
    and the used rows (partial: few, since each pass deletes them)."""
    return (Index(f"ix_{table}_expires_at", "expires_at"),
            Index(f"ix_{table}_used", "used_at", postgresql_where=USED, sqlite_where=USED))


class User(SQLModel, table=True):
    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("email", name="uq_user_email"),
                      Index(USERNAME_INDEX, func.lower(text("username")), unique=True))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Lower-case (domain.normalise_email); it is also the login name. None: an account registered by
    # username alone where the storefront allows it (`Storefront.email_optional`) until it adds one.
    email: str | None = Field(default=None, max_length=320)
    # None for accounts without a password (passkey, OAuth, magic link).
    password_hash: str | None = Field(default=None, max_length=255)
    first_name: str = Field(max_length=150)
    last_name: str = Field(max_length=150)
    phone: str | None = Field(default=None, max_length=32)
    company_name: str | None = Field(default=None, max_length=200)
    # A business customer's tax or VAT number (`PATCH /users/me`): orders prints it on the invoices
    # of the account's orders that give none (`GET /internal/addresses/{id}` carries it).
    tax_number: str | None = Field(default=None, max_length=TAX_NUMBER_MAX_LENGTH)
    # S4: optional; unique whatever its case (USERNAME_INDEX), another login name besides the email.
    username: str | None = Field(default=None, max_length=30)
    display_name: str | None = Field(default=None, max_length=100)
    # True exactly when `staff_roles` is not empty (`domain.set_staff_roles` keeps the two together);
    # kept as a column because the sign-in and listing queries already filter on it.
    is_staff: bool = False
    # The staff roles (support, merchandiser, finance, admin), sorted; empty for a customer.
    staff_roles: list[str] = Field(default_factory=list, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                      nullable=False, server_default="[]"))
    is_active: bool = True
    # The storefront the account was created on (accounts are platform-wide; docs/storefronts.md).
    signup_storefront: str = Field(default="default", max_length=64, sa_column_kwargs={"server_default": "default"})
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
        return domain.roles_of(self.staff_roles)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def version(self) -> str:
        """What a staff form was built from (`atelier_common.versions`): every staff write
        and account change moves `updated_at`."""
        return version_of(self.updated_at, self.is_active, self.email_verified_at)


class RefreshToken(SQLModel, table=True):
    """One issued refresh token. Rotation marks it used and issues the next one in its family."""

    __tablename__ = "refresh_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_refresh_token_token_hash"),
        Index("ix_refresh_token_family_id", "family_id"),
        Index("ix_refresh_token_user_id", "user_id"),
        # Housekeeping's two ranges: expired tokens, revoked ones (partial: few stay revoked long).
        Index("ix_refresh_token_expires_at", "expires_at"),
        Index("ix_refresh_token_revoked_at", "revoked_at", postgresql_where=text("revoked_at IS NOT NULL"),
              sqlite_where=text("revoked_at IS NOT NULL")),
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
    # The storefront of the request that issued it (support's list of a customer's sessions);
    # None: no storefront known, or issued before this was kept.
    storefront: str | None = Field(default=None, max_length=64)

    user: User = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class EmailToken(SQLModel, table=True):
    """A single-use secret: mailed links (verification, reset, email change) and OAuth tickets."""

    __tablename__ = "email_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_email_token_token_hash"),
        Index("ix_email_token_user_id_purpose", "user_id", "purpose"),
        *_spent_indexes("email_token"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Email change only: the address the token proves.
    new_email: str | None = Field(default=None, max_length=320)

    user: User = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class MailMessage(SQLModel, table=True):
    """Outgoing mail, written in the transaction that decided to send it; the sender delivers it."""

    __tablename__ = "mail_message"
    __table_args__ = (
        Index("ix_mail_message_due", "sent_at", "next_attempt_at"),
        Index("ix_mail_message_recipient", "recipient", "created_at"),
        # Housekeeping: given-up mail (sent mail is a range of ix_mail_message_due).
        Index("ix_mail_message_failed_at", "failed_at", postgresql_where=text("failed_at IS NOT NULL"),
              sqlite_where=text("failed_at IS NOT NULL")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recipient: str = Field(max_length=320)
    kind: str = Field(max_length=50)
    subject: str = Field(max_length=255)
    text: str = Field(sa_type=Text)
    html: str = Field(sa_type=Text)
    # The From of the storefront the mail belongs to; None (mail queued before storefronts): the
    # `mail_from` setting.
    sender: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # Not before this instant: set at queueing, pushed on while a sender holds it and after failures.
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Given up after mail_max_attempts.
    failed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class MagicLink(SQLModel, table=True):
    """A sign-in code mailed to an address (S4): the 6-digit code or the link token, once."""

    __tablename__ = "magic_link"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_magic_link_token_hash"),
        Index("ix_magic_link_email", "email"),
        *_spent_indexes("magic_link"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Not a foreign key: the account may not exist yet (the first verify creates it).
    email: str = Field(max_length=320)
    code_hash: str = Field(max_length=64)
    token_hash: str = Field(max_length=64)
    # Wrong codes tried so far; at the limit the code is dead.
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OAuthState(SQLModel, table=True):
    """One started OAuth sign-in, kept server-side until its callback (single use)."""

    __tablename__ = "oauth_state"
    __table_args__ = (UniqueConstraint("state_hash", name="uq_oauth_state_state_hash"), *_spent_indexes("oauth_state"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    state_hash: str = Field(max_length=64)
    provider: str = Field(max_length=32)
    code_verifier: str = Field(max_length=128)
    nonce: str = Field(max_length=128)
    return_to: str | None = Field(default=None, max_length=2000)
    # The storefront the sign-in started on: an account the callback creates signed up there.
    storefront: str = Field(default="default", max_length=64, sa_column_kwargs={"server_default": "default"})
    # The anonymous visitor who started the sign-in: claimed when it succeeds.
    anon_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OAuthAccount(SQLModel, table=True):
    """A provider identity linked to a user."""

    __tablename__ = "oauth_account"
    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_oauth_account_provider_subject"),
        Index("ix_oauth_account_user_id", "user_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    provider: str = Field(max_length=32)
    subject: str = Field(max_length=255)
    email: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebauthnChallenge(SQLModel, table=True):
    """A WebAuthn ceremony in progress; `begin` returns its nonce, `complete` spends it once."""

    __tablename__ = "webauthn_challenge"
    __table_args__ = (UniqueConstraint("nonce_hash", name="uq_webauthn_challenge_nonce_hash"),
                      *_spent_indexes("webauthn_challenge"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    nonce_hash: str = Field(max_length=64)
    # register (a signed-in user adds a passkey), signup (a new account), login.
    purpose: str = Field(max_length=16)
    challenge: bytes = Field(sa_type=LargeBinary)
    # The relying party (the storefront's `passkey.rp_id`) it was issued for: completed there only.
    rp_id: str = Field(default=DEFAULT_RP_ID, max_length=253, sa_column_kwargs={"server_default": DEFAULT_RP_ID})
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE")
    # The WebAuthn user handle offered at registration (random, not the user id).
    user_handle: bytes | None = Field(default=None, sa_type=LargeBinary)
    # Signup only: the account to create.
    email: str | None = Field(default=None, max_length=320)
    first_name: str | None = Field(default=None, max_length=150)
    last_name: str | None = Field(default=None, max_length=150)
    device_name: str | None = Field(default=None, max_length=100)
    anon_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Passkey(SQLModel, table=True):
    """A WebAuthn credential of a user."""

    __tablename__ = "passkey"
    __table_args__ = (
        UniqueConstraint("credential_id", name="uq_passkey_credential_id"),
        Index("ix_passkey_user_id", "user_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    # base64url of the raw credential id (what assertions name).
    credential_id: str = Field(max_length=1400)
    # The relying party the credential was created for (a storefront's `passkey.rp_id`): it signs
    # in there only. Rows from before storefronts: the default `webauthn_rp_id`.
    rp_id: str = Field(default=DEFAULT_RP_ID, max_length=253, sa_column_kwargs={"server_default": DEFAULT_RP_ID})
    public_key: bytes = Field(sa_type=LargeBinary)
    user_handle: bytes = Field(sa_type=LargeBinary)
    # Up to 2**32 - 1.
    sign_count: int = Field(default=0, sa_type=BigInteger)
    name: str = Field(max_length=100)
    aaguid: str | None = Field(default=None, max_length=36)
    transports: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AddressBook(SQLModel, table=True):
    """One row per address owner (user or anonymous id): locked while its addresses change."""

    __tablename__ = "address_book"
    # Housekeeping's sweep of abandoned anonymous books reads these alone, oldest first.
    __table_args__ = (Index("ix_address_book_anonymous_created", "created_at", sqlite_where=text("anonymous"),
                            postgresql_where=text("anonymous")),)

    owner_id: uuid.UUID = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # An anonymous visitor's book (its owner is no user): the only ones housekeeping may delete.
    # Set when the book is created; a user's request on a book marked so clears it.
    anonymous: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class Address(SQLModel, table=True):
    """S1's address, plus `type` (S3) and `email` (S0's delivery contact). The use cases read and
    write it as `rows.AddressRow`, never as this model's objects."""

    __tablename__ = "address"
    __table_args__ = (
        UniqueConstraint("owner_id", "label", name="uq_address_owner_id_label"),
        Index("ix_address_owner_id", "owner_id", "created_at"),
        # At most one primary per owner, whatever the application does.
        Index("uq_address_one_primary", "owner_id", unique=True, sqlite_where=text("is_primary"),
              postgresql_where=text("is_primary")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # A user id or an anonymous id (S0); no foreign key for that reason.
    owner_id: uuid.UUID
    label: str = Field(max_length=50)
    type: str = Field(default="shipping", max_length=16)
    first_name: str = Field(max_length=150)
    last_name: str = Field(default="", max_length=150)
    company: str | None = Field(default=None, max_length=200)
    address_line_1: str = Field(max_length=255)
    address_line_2: str | None = Field(default=None, max_length=255)
    city: str = Field(max_length=120)
    state: str = Field(default="", max_length=120)
    postal_code: str = Field(default="", max_length=20)
    country: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    is_primary: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AnonymousClaim(SQLModel, table=True):
    """A record of an anonymous identity claimed by a user (and how)."""

    __tablename__ = "anonymous_claim"
    __table_args__ = (Index("ix_anonymous_claim_anon_id", "anon_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    anon_id: uuid.UUID
    user_id: uuid.UUID = Field(foreign_key="user.id", ondelete="CASCADE")
    via: str = Field(max_length=32)
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StorefrontRecord(SQLModel, table=True):
    """A storefront as staff wrote it (`contracts.identity.Storefront` in `data`). The default
    storefront has no row until staff edit it: until then it is built from settings."""

    __tablename__ = "storefront"

    slug: str = Field(primary_key=True, max_length=64)
    data: dict[str, Any] = json_field()
    # Grows with every write (`Storefront.revision`): copies elsewhere apply changes in any order.
    revision: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class IdentityImportRef(ImportRefRow, table=True):
    """Which row a source's primary key became (`atelier import`): a second run finds it and skips."""

    __tablename__ = "identity_import_ref"


class StaffAudit(SQLModel, table=True):
    """One staff write of any service, from its `staff.action_recorded` event
    (`atelier_common.audit` says why the log lives here). The id is the event's, so a redelivery
    is the same row."""

    __tablename__ = "staff_audit"
    __table_args__ = (
        # What the admin's filters read, each newest first.
        Index("ix_staff_audit_at", "at"),
        Index("ix_staff_audit_actor_id_at", "actor_id", "at"),
        Index("ix_staff_audit_action_at", "action", "at"),
        Index("ix_staff_audit_target", "target_type", "target_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime)
    actor_id: uuid.UUID
    actor_email: str | None = Field(default=None, max_length=320)
    actor_roles: list[str] = Field(default_factory=list, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                      nullable=False))
    service: str = Field(max_length=32)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=32)
    target_id: str = Field(max_length=128)
    before: dict[str, Any] | None = json_field(nullable=True)
    after: dict[str, Any] | None = json_field(nullable=True)
    reason: str | None = Field(default=None, sa_type=Text)


# -- Outbound webhooks (docs/webhooks.md) ---------------------------------------------------

class WebhookEndpoint(SQLModel, table=True):
    """A receiver staff registered: where to send which events, signed with `secret`."""

    __tablename__ = "webhook_endpoint"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    url: str = Field(max_length=2048)
    # Public event types (`webhooks.EVENT_TYPES`).
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                 nullable=False))
    # Only events of this storefront (None: every storefront).
    storefront: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=500)
    # `whsec_<base64 key>` (Standard Webhooks): kept as is, the HMAC needs the key itself.
    secret: str = Field(max_length=128)
    enabled: bool = True
    # Why it was disabled (retries ran out), shown to staff; cleared when re-enabled.
    disabled_reason: str | None = Field(default=None, max_length=500)
    # The API key that made it, which alone sees it (with admins); None: made by a person. Nothing is
    # sent to it once that key is revoked or expired.
    owner_key_id: uuid.UUID | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: the unit sent, retried and replayed. Unique on (event, endpoint):
    a redelivered event finds its row and adds none."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_delivery_event_endpoint"),
        Index("ix_webhook_delivery_endpoint_created", "endpoint_id", "created_at"),
        # The worker's claim: pending rows by due time.
        Index("ix_webhook_delivery_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoint.id", ondelete="CASCADE")
    event_id: uuid.UUID
    event_type: str = Field(max_length=100)
    # The `webhook-id` header: the same for every attempt and replay, so a receiver can drop copies.
    message_id: str = Field(max_length=100)
    # The exact body signed and sent (`{type, timestamp, data}`), the same bytes at every attempt.
    payload: str = Field(sa_type=Text)
    # pending → succeeded | failed (retries ran out); a replay makes it pending again.
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery: the log staff read."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery_at", "delivery_id", "at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="webhook_delivery.id", ondelete="CASCADE")
    at: datetime = Field(sa_type=UtcDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int


class SigningKeyRecord(SQLModel, table=True):
    """One Ed25519 key that signs (or signed) access tokens (`atelier keys`).

    The newest key with `activated_at` set signs; every key not retired is published in the JWKS,
    so tokens signed by an older one keep verifying until they expire. Kept in identity's database
    (not a file) so every identity process signs with the same key the moment it rotates; a backup
    therefore holds private keys and is a secret.
    """

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    private_pem: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    activated_at: datetime = Field(sa_type=UtcDateTime)
    # Set when a newer key took over: the old one stays published until then (the longest token
    # lifetime after the rotation), and is no longer published after it.
    retire_after: datetime | None = Field(default=None, sa_type=UtcDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


# -- Customer groups (docs/api.md#customer-groups) ------------------------------------------------

class CustomerGroup(SQLModel, table=True):
    """A storefront's group of customers, named by staff: price lists name its `code`, which the
    access tokens of its members on that storefront carry (`grp`)."""

    __tablename__ = "customer_group"
    __table_args__ = (UniqueConstraint("storefront", "code", name="uq_customer_group_storefront_code"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    storefront: str = Field(max_length=64)
    # Fixed at creation (`CUSTOMER_GROUP_PATTERN`): price lists and tokens name it.
    code: str = Field(max_length=32)
    name: str = Field(max_length=100)
    # Grows with every write (`CustomerGroupChanged.revision`): catalog's copy applies events in any order.
    revision: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class CustomerGroupMember(SQLModel, table=True):
    """A customer's group on a storefront: one at most (the token carries one `grp`), so the key
    is (user, storefront); joining another group of the storefront leaves the first."""

    __tablename__ = "customer_group_member"
    __table_args__ = (Index("ix_customer_group_member_group_id", "group_id", "created_at"),)

    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    storefront: str = Field(primary_key=True, max_length=64)
    group_id: uuid.UUID = Field(foreign_key="customer_group.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ApiKey(SQLModel, table=True):
    """A machine caller's credential (an ERP, an accounting tool): staff roles and/or narrow scopes,
    and the storefronts it may touch; its secrets are `ApiKeySecret` rows (two while one rotates out). docs/security.md."""

    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=100)
    # Staff roles (`STAFF_ROLES`): what its tokens carry besides `staff`.
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                nullable=False))
    # Storefront slugs, or ["*"]: every storefront, those made later included.
    storefronts: list[str] = Field(default_factory=list, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                      nullable=False))
    # Narrow scopes (`KEY_SCOPES`, e.g. `orders:read`): the routes each names, whatever the roles.
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"),
                                                                 nullable=False, server_default="[]"))
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_by: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Exchanges for an access token (the gateway caches each for up to a minute), not requests.
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    use_count: int = Field(default=0, sa_type=BigInteger)


class ApiKeySecret(SQLModel, table=True):
    """One secret of an API key, by its SHA-256 (a random 256-bit secret needs no slow hash)."""

    __tablename__ = "api_key_secret"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key_id: uuid.UUID = Field(foreign_key="api_key.id", index=True)
    secret_hash: str = Field(max_length=64, unique=True)
    # The secret's first characters (`atk_live_AbCd`): which one a caller holds, shown to admins.
    hint: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # Retired from then on (a rotation's old secret); None: live until rotated out.
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
