"""Pure rules of identity: no I/O, no clock (callers pass `now`)."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from atelier_common.auth import ROLE_ADMIN, ROLE_CUSTOMER, ROLE_STAFF, STAFF_ROLES
from atelier_common.contracts.identity import Storefront
from atelier_common.keys import same_signature

PASSWORD_MIN_LENGTH = 8
# Argon2 hashes any length, but a megabyte password is a cheap way to burn our CPU.
PASSWORD_MAX_LENGTH = 256
# Purposes of the single-use tokens in `email_token`.
VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"
EMAIL_CHANGE = "email_change"
OAUTH_TICKET = "oauth_ticket"

MAGIC_CODE_DIGITS = 6
PHONE_PATTERN = re.compile(r"\+?[0-9 ()./-]{4,32}")


def normalise_email(email: str) -> str:
    """Addresses are compared and stored lower-case, so `A@x.com` and `a@x.com` are one account."""
    return email.strip().lower()


def password_problems(password: str, email: str) -> list[str]:
    """What is wrong with `password` for the account `email`; empty when it is acceptable."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"Password must be at least {PASSWORD_MIN_LENGTH} characters.")
    if password.isdigit():
        problems.append("Password cannot be entirely numeric.")
    lowered, email = password.lower(), normalise_email(email)
    local_part = email.partition("@")[0]
    if email and (email in lowered or lowered == local_part):
        problems.append("Password cannot be your email address.")
    return problems


def sign_in_backoff_seconds(failures: int, cap: int) -> int:
    """How long a client address waits after its `failures`-th failed password on an account under
    attack (docs/security.md): 1 s after the first, doubling with each, at most `cap`."""
    return min(cap, 2 ** min(max(failures, 1) - 1, 30))


def roles_of(staff_roles: Iterable[str]) -> list[str]:
    """The access token's `roles` claim: every account is a customer; a staffer also carries
    `staff` (what caches and visibility key on) and each of its staff roles, which services check."""
    staff = sorted(set(staff_roles))
    return [ROLE_CUSTOMER, ROLE_STAFF, *staff] if staff else [ROLE_CUSTOMER]


class StaffRoleHolder(Protocol):
    is_staff: bool
    staff_roles: list[str]


class StaffActor(Protocol):
    def has_role(self, *wanted: str) -> bool: ...


def unknown_staff_roles(roles: Iterable[str]) -> list[str]:
    return sorted(set(roles) - set(STAFF_ROLES))


def set_staff_roles(user: StaffRoleHolder, roles: Iterable[str]) -> tuple[list[str], list[str]]:
    """Give `user` exactly `roles` (checked by the caller); returns (before, after). `is_staff`
    follows: no role left, no staff access."""
    before, after = list(user.staff_roles), sorted(set(roles))
    user.staff_roles, user.is_staff = after, bool(after)
    return before, after


def may_act_on_account(actor: StaffActor, account: StaffRoleHolder) -> bool:
    """Support acts on customers' accounts; one holding any staff role is the admin's alone:
    support must not sign an admin out, nor undo what an admin did to a staffer."""
    return not account.staff_roles or actor.has_role(ROLE_ADMIN)


class ScopedCaller(Protocol):
    def may_touch(self, storefront: str | None) -> bool: ...


class SignedUp(Protocol):
    signup_storefront: str


def customer_in_scope(caller: ScopedCaller, account: SignedUp) -> bool:
    """Whether an API key limited to some storefronts may see or act on `account`: accounts are
    platform-wide, so it is the storefront the account signed up on that decides
    (docs/security.md, "API keys"). A person's token touches every account."""
    return caller.may_touch(account.signup_storefront)


def is_business_customer(company_name: str | None) -> bool:
    """What `/users/me` shows (`is_business_customer`, Marbelle's profile): a company name was
    given. Display only: it puts nobody in a customer group (`token_group`)."""
    return bool(company_name and company_name.strip())


def token_group(assigned: str | None, staff_roles: Sequence[str]) -> str | None:
    """The group whose price lists the customer pays on the storefront a token is signed for
    (`grp`): the one staff assigned there (`assigned`), nothing a customer can send; none for
    staff, who read the catalog at its own prices."""
    return None if staff_roles else assigned


@dataclass(frozen=True)
class MemberReferences:
    """A bulk assignment's entries, told apart: account ids and e-mail addresses (normalised), each once."""

    ids: list[uuid.UUID]
    emails: list[str]


def member_references(entries: Iterable[str]) -> MemberReferences:
    """Staff paste ids and e-mails alike: an entry that reads as a UUID is an id, any other an
    e-mail (compared as `normalise_email` stores them)."""
    ids: dict[uuid.UUID, None] = {}
    emails: dict[str, None] = {}
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            ids[uuid.UUID(entry)] = None
        except ValueError:
            emails[normalise_email(entry)] = None
    return MemberReferences(ids=list(ids), emails=list(emails))


def new_secret() -> str:
    """An opaque token for refresh tokens and mailed links (256 bits)."""
    return secrets.token_urlsafe(32)


def generated_username() -> str:
    """The name an account made without one starts with (S4's `user_<8 hex>`); the owner may change it."""
    return f"user_{secrets.token_hex(4)}"


def digest(secret: str) -> str:
    """Only this digest is stored: a leaked table gives no usable token."""
    return hashlib.sha256(secret.encode()).hexdigest()


class RefreshState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    REUSED = "reused"
    EXPIRED = "expired"


class IssuedToken(Protocol):
    used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


def refresh_state(token: IssuedToken | None, now: datetime) -> RefreshState:
    """Whether a presented refresh token may be rotated.

    A token that was already rotated and shows up again was copied: someone holds a stolen
    token, so its whole family must go (checked before expiry, since the family may be alive).
    """
    if token is None:
        return RefreshState.UNKNOWN
    if token.revoked_at is not None:
        return RefreshState.REVOKED
    if token.used_at is not None:
        return RefreshState.REUSED
    if token.expires_at <= now:
        return RefreshState.EXPIRED
    return RefreshState.VALID


def new_magic_code() -> str:
    """Six random digits (S4)."""
    return f"{secrets.randbelow(10 ** MAGIC_CODE_DIGITS):0{MAGIC_CODE_DIGITS}d}"


def same_digest(secret: str, stored_digest: str) -> bool:
    return same_signature(digest(secret), stored_digest)


def needs_claim(anon_id: uuid.UUID | None, user_id: uuid.UUID) -> bool:
    """An anonymous identity is claimed when there is one and it is not the user itself."""
    return anon_id is not None and anon_id != user_id


# -- OAuth -----------------------------------------------------------------------------------


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def resolve_return_to(return_to: str | None, frontend_url: str, origins: Iterable[str] = ()) -> str | None:
    """The absolute frontend address to send the browser back to, or None when none was asked for.

    S2: a relative path starting with `/` (resolved against the storefront's `frontend_url`), or an
    absolute URL on the origin of `frontend_url` or one of the storefront's `origins`. `//host`
    and backslashes are refused (ValueError): browsers read them as another host (an open redirect).
    """
    if return_to is None:
        return None
    if not return_to or "\\" in return_to or any(ord(c) < 0x20 for c in return_to):
        raise ValueError("unsafe return_to")
    if return_to.startswith("/") and not return_to.startswith("//"):
        return urljoin(origin_of(frontend_url), return_to)
    target = urlsplit(return_to)
    allowed = {origin_of(url).lower() for url in (frontend_url, *origins)}
    if not target.scheme or not target.netloc or origin_of(return_to).lower() not in allowed:
        raise ValueError("return_to is not on the storefront's origins")
    return return_to


@dataclass(frozen=True)
class RelyingParty:
    """The WebAuthn relying party of a storefront: who passkeys are made for, and where from."""

    id: str
    name: str
    origins: list[str]


def relying_party(storefront: Storefront) -> RelyingParty:
    """The storefront's `passkey.rp_id`, its name, and the origins a browser may report: the
    passkey's own origins, else the storefront's, else the origin of its `frontend_url`. A
    storefront without passkey settings is its frontend's host."""
    passkey = storefront.passkey
    origins = (passkey.origins if passkey else []) or storefront.origins or [origin_of(storefront.frontend_url)]
    rp_id = passkey.rp_id if passkey else (urlsplit(storefront.frontend_url).hostname or "localhost")
    return RelyingParty(id=rp_id, name=storefront.name, origins=list(origins))


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


# -- addresses --------------------------------------------------------------------------------

ADDRESS_TYPES = ("shipping", "billing", "other")


def split_full_name(full_name: str) -> tuple[str, str]:
    """S3 sends one `full_name`; S1 keeps first and last names."""
    first, _, last = full_name.strip().partition(" ")
    return first, last.strip()


def default_label(address_type: str, taken: Iterable[str]) -> str:
    """A label for an address created without one (S3 clients do not send labels)."""
    return unique_label(address_type.capitalize(), taken)


def unique_label(label: str, taken: Iterable[str], max_length: int = 50) -> str:
    """`label`, or `label (2)`, `label (3)`… whichever is free (labels are unique per owner)."""
    taken_lower = {t.lower() for t in taken}
    if label.lower() not in taken_lower:
        return label
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = label[: max_length - len(suffix)] + suffix
        if candidate.lower() not in taken_lower:
            return candidate
        n += 1


T = TypeVar("T")


def addresses_to_adopt(kept: int, incoming: Sequence[T], limit: int) -> list[T]:
    """Which anonymous addresses a user takes over: theirs stay, the oldest incoming fill up to `limit`."""
    return list(incoming[: max(0, limit - kept)])


# Who may receive each outbound webhook event: the staff roles that may read what its body tells
# (admin: every one). An API key subscribes its own endpoints to these alone; a type not listed here
# is admin's only.
_ORDER_MONEY = frozenset({"support", "finance"})
WEBHOOK_EVENT_ROLES: dict[str, frozenset[str]] = {
    **{t: _ORDER_MONEY for t in ("order.placed", "order.paid", "order.status_changed", "order.cancelled",
                                 "order.edited", "payment.failed", "payment.refunded", "invoice.issued",
                                 "credit_note.issued", "return.requested", "return.received", "return.rejected",
                                 "subscription.changed")},
    "identity.user_registered": frozenset({"support"}),
    "job.completed": frozenset({"support"}), "job.failed": frozenset({"support"}),
    "product.low_stock": frozenset({"merchandiser"}),
    "promotion.changed": frozenset({"merchandiser"}), "promotion.redeemed": frozenset({"merchandiser"}),
    "gift_card.issued": frozenset({"finance"}), "gift_card.changed": frozenset({"finance"}),
}


def webhook_events_beyond(roles: Iterable[str], events: Iterable[str]) -> list[str]:
    """The event types of `events` that staff holding `roles` may not receive (none for an admin)."""
    held = set(roles)
    if ROLE_ADMIN in held:
        return []
    return sorted(e for e in set(events) if held.isdisjoint(WEBHOOK_EVENT_ROLES.get(e, frozenset())))
