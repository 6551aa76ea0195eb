"""Sign-in throttling: failed passwords and magic codes are counted, successes never; sign-in mail
is capped per account without keeping the owner from theirs (docs/security.md).

Every password check (login, and the current password of a password change, an email change or
an account deletion) goes through `SignInThrottle.check_password`, so a guess costs the same
whichever route it takes. The counts live in identity's rate limiter: Redis when `redis_url` is
set (every identity process shares them), else this process's memory.

- **Per (account, client address)**: `sign_in_failures_per_account_and_ip` failures, then that
  pair alone waits (429, Retry-After) until the oldest ages out. Counted before the check, so
  guesses sent in parallel cannot all pass at once; a correct password clears the pair. A
  storefront's `signin_lockout_minutes` is that window for the passwords tried there; a pair
  locked on one storefront is locked on every other too (no second budget by changing storefront).
- **Per account, from every address**: past `sign_in_failures_per_account` the account is under
  attack, and an address with failures on it waits after each further failure (1 s, doubling,
  at most `sign_in_backoff_max_seconds`). It slows; it never refuses an address that has no
  failure on the account, so the owner signing in from elsewhere always gets in.
- **Per client address, any account**: `sign_in_failures_per_ip` (password spraying).

`MagicCodeThrottle` counts wrong magic-link codes the same way per (account, client address); at
the account's ceiling a wrong code ends its code rather than locking the account. `MailBudget`
decides whether a magic-link, reset or resend-verification request may mail the account.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from atelier_common.contracts.identity import Storefront
from atelier_common.ratelimit import RateLimiter
from atelier_identity import domain, policies
from atelier_identity.settings import IdentitySettings

PAIR, ACCOUNT, IP, BACKOFF = "sign-in", "sign-in-account", "sign-in-ip", "sign-in-backoff"
CODE_PAIR, CODE_ACCOUNT = "magic-code", "magic-code-account"
MAIL_ACCOUNT, MAIL_RESERVE = "sign-in-mail", "sign-in-mail-reserve"


class SignInThrottle:
    def __init__(self, settings: IdentitySettings, limiter: RateLimiter,
                 storefronts: Iterable[Storefront] = ()) -> None:
        self.settings = settings
        self.limiter = limiter
        # Every (account, client address) rule in force (the storefronts' lock-outs and the install's).
        self.pair_rules = policies.lockout_rules(settings, storefronts)

    async def check_password(self, account: str, ip: str, check: Callable[[], Awaitable[bool]],
                             storefront: Storefront | None = None) -> bool:
        """`check()` (the password verification) unless this account and address must wait first
        (`RateLimited`); `account` names the account (its id; the login name when unknown). The
        password is tried on `storefront` (its lock-out; None: the install's)."""
        rule = policies.lockout_rule(storefront, self.settings)
        await self._admit(account, ip, rule)
        matches = await check()
        if matches:
            for pair_rule in {rule, *self.pair_rules}:
                await self.limiter.clear(pair_rule, PAIR, account, ip)
        else:
            await self._failed(account, ip, rule)
        return matches

    async def _admit(self, account: str, ip: str, rule: str) -> None:
        settings, limiter = self.settings, self.limiter
        await limiter.check(settings.sign_in_failures_per_ip, IP, ip)
        for other in self.pair_rules:  # locked on another storefront: locked here too
            if other != rule:
                await limiter.check(other, PAIR, account, ip)
        failures = (await limiter.window(rule, PAIR, account, ip)).count
        if failures and (await limiter.window(settings.sign_in_failures_per_account, ACCOUNT, account)).full:
            await limiter.check(self._backoff(failures), BACKOFF, account, ip)
        # Counted now and cleared by a success: guesses in flight count against the pair.
        await limiter.hit(rule, PAIR, account, ip)

    async def _failed(self, account: str, ip: str, rule: str) -> None:
        settings, limiter = self.settings, self.limiter
        await limiter.add(settings.sign_in_failures_per_ip, IP, ip)
        await limiter.add(settings.sign_in_failures_per_account, ACCOUNT, account)
        if (await limiter.window(settings.sign_in_failures_per_account, ACCOUNT, account)).full:
            failures = (await limiter.window(rule, PAIR, account, ip)).count
            # The next attempt from here looks at the same rule (its failures are this count then).
            await limiter.add(self._backoff(failures), BACKOFF, account, ip)

    def _backoff(self, failures: int) -> str:
        """One attempt per back-off: the rule whose window holds this address's last failure."""
        return f"1/{domain.sign_in_backoff_seconds(failures, self.settings.sign_in_backoff_max_seconds)} seconds"


class MagicCodeThrottle:
    """Wrong magic-link codes. Per (account, client address): `magic_code_failures_per_account_and_ip`,
    then that pair waits (429). Per account from every address: at `magic_code_failures_per_account`
    the account is under attack and a wrong code ends the code it was tried on (one guess per code
    instead of `magic_link_max_attempts`); a right code is never refused by it, and a new code can
    be asked for. Like a password, an attempt is counted for its pair before the code is compared
    (parallel guesses cannot all pass) and a right code clears the pair."""

    def __init__(self, settings: IdentitySettings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter

    async def admit(self, account: str, ip: str) -> None:
        await self.limiter.hit(self.settings.magic_code_failures_per_account_and_ip, CODE_PAIR, account, ip)

    async def succeeded(self, account: str, ip: str) -> None:
        await self.limiter.clear(self.settings.magic_code_failures_per_account_and_ip, CODE_PAIR, account, ip)

    async def failed(self, account: str) -> bool:
        """Count a wrong guess at a code of `account`; True when the account is at its ceiling (the
        code guessed at must end)."""
        rule = self.settings.magic_code_failures_per_account
        await self.limiter.add(rule, CODE_ACCOUNT, account)
        return (await self.limiter.window(rule, CODE_ACCOUNT, account)).full


class MailBudget:
    """Magic-link, reset and resent verification mail to one account. Up to
    `sign_in_mail_per_account` from every address together; past it, each client address may still
    cause `sign_in_mail_reserve_per_account_and_ip` of its own. A flood uses up its own address's reserve, never the owner's; a flood from many
    addresses gets the reserve once per address. Each call counts (`add` never double-counts a
    full window), so parallel requests cannot exceed either."""

    def __init__(self, settings: IdentitySettings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter

    async def allows(self, account: str, ip: str) -> bool:
        """Whether a request from `ip` may mail `account` now (counted when it may)."""
        settings, limiter = self.settings, self.limiter
        if await limiter.add(settings.sign_in_mail_per_account, MAIL_ACCOUNT, account):
            return True
        return await limiter.add(settings.sign_in_mail_reserve_per_account_and_ip, MAIL_RESERVE, account, ip)
