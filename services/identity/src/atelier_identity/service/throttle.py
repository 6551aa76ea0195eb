"""Sign-in throttling: failed passwords are counted, successes never (docs/security.md).

Every password check (login, and the current password of a password change, an email change or
an account deletion) goes through `SignInThrottle.check_password`, so a guess costs the same
whichever route it takes. The counts live in identity's rate limiter: Redis when `redis_url` is
set (every identity process shares them), else this process's memory.

- **Per (account, client address)**: `sign_in_failures_per_account_and_ip` failures, then that
  pair alone waits (429, Retry-After) until the oldest ages out. Counted before the check, so
  guesses sent in parallel cannot all pass at once; a correct password clears the pair.
- **Per account, from every address**: past `sign_in_failures_per_account` the account is under
  attack, and an address with failures on it waits after each further failure (1 s, doubling,
  at most `sign_in_backoff_max_seconds`). It slows; it never refuses an address that has no
  failure on the account, so the owner signing in from elsewhere always gets in.
- **Per client address, any account**: `sign_in_failures_per_ip` (password spraying).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from atelier_common.ratelimit import RateLimiter
from atelier_identity import domain
from atelier_identity.settings import IdentitySettings

PAIR, ACCOUNT, IP, BACKOFF = "sign-in", "sign-in-account", "sign-in-ip", "sign-in-backoff"


class SignInThrottle:
    def __init__(self, settings: IdentitySettings, limiter: RateLimiter) -> None:
        self.settings = settings
        self.limiter = limiter

    async def check_password(self, account: str, ip: str, check: Callable[[], Awaitable[bool]]) -> bool:
        """`check()` (the password verification) unless this account and address must wait first
        (`RateLimited`); `account` names the account (its id; the login name when unknown)."""
        await self._admit(account, ip)
        matches = await check()
        if matches:
            await self.limiter.clear(self.settings.sign_in_failures_per_account_and_ip, PAIR, account, ip)
        else:
            await self._failed(account, ip)
        return matches

    async def _admit(self, account: str, ip: str) -> None:
        settings, limiter = self.settings, self.limiter
        await limiter.check(settings.sign_in_failures_per_ip, IP, ip)
        failures = (await limiter.window(settings.sign_in_failures_per_account_and_ip, PAIR, account, ip)).count
        if failures and (await limiter.window(settings.sign_in_failures_per_account, ACCOUNT, account)).full:
            await limiter.check(self._backoff(failures), BACKOFF, account, ip)
        # Counted now and cleared by a success: guesses in flight count against the pair.
        await limiter.hit(settings.sign_in_failures_per_account_and_ip, PAIR, account, ip)

    async def _failed(self, account: str, ip: str) -> None:
        settings, limiter = self.settings, self.limiter
        await limiter.add(settings.sign_in_failures_per_ip, IP, ip)
        await limiter.add(settings.sign_in_failures_per_account, ACCOUNT, account)
        if (await limiter.window(settings.sign_in_failures_per_account, ACCOUNT, account)).full:
            failures = (await limiter.window(settings.sign_in_failures_per_account_and_ip, PAIR, account, ip)).count
            # The next attempt from here looks at the same rule (its failures are this count then).
            await limiter.add(self._backoff(failures), BACKOFF, account, ip)

    def _backoff(self, failures: int) -> str:
        """One attempt per back-off: the rule whose window holds this address's last failure."""
        return f"1/{domain.sign_in_backoff_seconds(failures, self.settings.sign_in_backoff_max_seconds)} seconds"
