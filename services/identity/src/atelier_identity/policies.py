"""The storefront policies identity enforces (`contracts.identity.StorefrontPolicies`,
docs/storefronts.md#policies): pure rules, no I/O. A field left None is the install's setting.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import timedelta
from difflib import SequenceMatcher

from atelier_common.contracts.identity import Storefront
from atelier_identity import domain
from atelier_identity.settings import IdentitySettings

# Django's `UserAttributeSimilarityValidator` default: a password this similar to the e-mail (or
# a part of it) is refused under the strict policy.
SIMILARITY_MAX = 0.7


def access_ttl(storefront: Storefront | None, settings: IdentitySettings) -> timedelta:
    """How long an access token issued on `storefront` lives."""
    minutes = storefront.policies.access_token_minutes if storefront is not None else None
    return timedelta(minutes=minutes if minutes is not None else settings.access_token_ttl_minutes)


def longest_access_ttl(settings: IdentitySettings, storefronts: Iterable[Storefront]) -> timedelta:
    """The longest lifetime an access token may have now (the install's, or a storefront's): how
    long a revocation, a revoked refresh token or a rotated-out signing key must be kept."""
    return max([timedelta(minutes=settings.access_token_ttl_minutes),
                *(access_ttl(storefront, settings) for storefront in storefronts)])


def lockout_rule(storefront: Storefront | None, settings: IdentitySettings) -> str:
    """The (account, client address) failed-password rule on `storefront`: the install's count,
    over the storefront's lock-out (`sign_in_failures_per_account_and_ip` unless it sets one)."""
    minutes = storefront.policies.signin_lockout_minutes if storefront is not None else None
    if minutes is None:
        return settings.sign_in_failures_per_account_and_ip
    amount = settings.sign_in_failures_per_account_and_ip.split("/", 1)[0].strip()
    return f"{amount}/{minutes} minutes"


def lockout_rules(settings: IdentitySettings, storefronts: Iterable[Storefront]) -> list[str]:
    """Every (account, client address) rule in force: a pair locked on one storefront stays locked
    on the others (an attacker cannot change storefronts to guess again)."""
    rules = {settings.sign_in_failures_per_account_and_ip}
    rules.update(lockout_rule(storefront, settings) for storefront in storefronts)
    return sorted(rules)


def registrations_rule(storefront: Storefront) -> str | None:
    """Accounts one client address may register per hour on `storefront`; None: no such limit."""
    limit = storefront.policies.registrations_per_hour_per_ip
    return f"{limit}/hour" if limit is not None else None


def passkey_signup_signs_in(storefront: Storefront, settings: IdentitySettings) -> bool:
    """Whether an account just made by passkey sign-up on `storefront` is signed in at once."""
    return (not settings.require_verified_email or storefront.verified_email_optional
            or bool(storefront.policies.passkey_signup_signs_in))


def password_problems(password: str, email: str, storefront: Storefront | None) -> list[str]:
    """What is wrong with `password` for the account `email` on `storefront` (empty: acceptable).
    "length": the minimum length only; unset: the install's rule (`domain.password_problems`);
    "strict": that, and Django's common-password and similarity validators (S3)."""
    policy = storefront.policies.password_policy if storefront is not None else None
    if policy == "length":
        short = len(password) < domain.PASSWORD_MIN_LENGTH
        return [f"Password must be at least {domain.PASSWORD_MIN_LENGTH} characters."] if short else []
    problems = domain.password_problems(password, email)
    if policy == "strict":
        lowered = password.lower().strip()
        if lowered in common_passwords():
            problems.append("This password is too common.")
        if too_similar(lowered, domain.normalise_email(email)) and \
                "Password cannot be your email address." not in problems:
            problems.append("The password is too similar to the email address.")
    return problems


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's list, from leaked password sets: what Django's
    `CommonPasswordValidator` list is too). Loaded once, on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def too_similar(password: str, email: str) -> bool:
    """Django's `UserAttributeSimilarityValidator` on the e-mail: the address, its local part and
    each word of it (split on . _ - + @), compared with `SequenceMatcher`."""
    if not email:
        return False
    local = email.partition("@")[0]
    parts = {email, local, *(word for word in _words(local) if len(word) >= 3)} - {""}
    return any(SequenceMatcher(a=password, b=part).quick_ratio() >= SIMILARITY_MAX
               and SequenceMatcher(a=password, b=part).ratio() >= SIMILARITY_MAX for part in parts)


def _words(text: str) -> list[str]:
    for separator in "._-+":
        text = text.replace(separator, " ")
    return text.split()
