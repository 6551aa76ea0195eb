"""Accounts without an email address (S0): a username and a password make one where the storefront
allows it (`Storefront.email_optional`). Such an account signs in by its username, needs no
verification (there is no address to prove), and every mailed flow answers `NO_EMAIL_ADDRESS`
until an address is added through the email-change flow (`POST /auth/email-change`)."""

from __future__ import annotations

from atelier_common.contracts.identity import Storefront
from atelier_identity.errors import NoEmailAddress, RegistrationIncomplete
from atelier_identity.models import User
from atelier_identity.schemas import RegisterRequest


def username_only(data: RegisterRequest, storefront: Storefront) -> None:
    """Check what `storefront` requires of a registration: an email and both names, or, where
    `email_optional`, an email or a username (the names then optional too)."""
    if storefront.email_optional:
        if data.email is None and data.username is None:
            raise RegistrationIncomplete("An email address or a username is required",
                                         ["email", "username"])
        return
    missing = [name for name in ("email", "first_name", "last_name") if getattr(data, name) is None]
    if missing:
        raise RegistrationIncomplete(fields=missing)


def mail_address(user: User) -> str:
    """The address a mail to `user` goes to; `NoEmailAddress` (409) when the account has none."""
    if user.email is None:
        raise NoEmailAddress()
    return user.email


def keeps_login_name(user: User, fields: dict[str, object]) -> None:
    """An account without an address signs in by its username: it cannot clear it."""
    if user.email is None and "username" in fields and fields["username"] is None:
        raise RegistrationIncomplete("An account without an email address keeps its username", ["username"])
