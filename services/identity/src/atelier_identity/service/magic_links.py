"""S4's magic links: a 6-digit code and a link by mail; the first use signs in (creating the account).

Requests answer the same whether the address has an account or not. A code allows a limited
number of attempts: each attempt is counted before the code is compared (and kept when the code
is refused), so the count survives the refusal and parallel guesses cannot exceed it. The same
right code sent again within `magic_link_retry_seconds` of its use is acknowledged (`Repeated`,
200) without a new session and without the account's profile: S4's frontend verifies its link
again at each render, and would show its own sign-in as failed (it keeps the first answer's
tokens); a replayer gets nothing. The repeat counts as an attempt, so the window is no room to guess.

Throttling (docs/security.md) is per (account, client address) so that nobody elsewhere keeps the
owner from a code: requests per pair, wrong codes per pair (`MagicCodeThrottle`), and the mail to
one account capped with a reserve per address (`MailBudget`). A request the budget does not mail
is answered alike and changes nothing: the code already mailed stays live.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.contracts.identity import Storefront
from atelier_common.db import commit_on_error
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.errors import EmailExists, InvalidMagicCode
from atelier_identity.mail import magic_link_mail
from atelier_identity.models import MagicLink, User
from atelier_identity.repository import MagicLinkRepository, UserRepository
from atelier_identity.schemas import MagicLinkVerify
from atelier_identity.service._shared import Guard, Sessions, SignedIn, now, prove_email, registered
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.throttle import MagicCodeThrottle, MailBudget


@dataclass(frozen=True)
class Repeated:
    """A repeat of the code that has just signed its account in: acknowledged with nothing of the
    account, since whoever sends it again need not be the person it signed in."""


class MagicLinkService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.sessions = Sessions(session, context)
        self.guard = Guard(session, context)
        self.codes = MagicCodeThrottle(context.settings, context.limiter)
        self.mail = MailBudget(context.settings, context.limiter)
        self.ttl = timedelta(minutes=context.settings.magic_link_ttl_minutes)

    async def request(self, email: str, *, ip: str, storefront: Storefront) -> None:
        """Mail a new code (voiding the previous one) from `storefront`, linking to its page: also
        for an address without an account, since the first verification creates it."""
        email = domain.normalise_email(email)
        await self.guard.attempt("magic-link", ip=ip, account=email)
        if not await self.mail.allows(email, ip):
            return
        requested_at = now()
        links = MagicLinkRepository(self.session)
        await links.void_for_email(email, requested_at)
        code, secret = domain.new_magic_code(), domain.new_secret()
        links.add(MagicLink(email=email, code_hash=domain.digest(code), token_hash=domain.digest(secret),
                            created_at=requested_at, expires_at=requested_at + self.ttl))
        url = storefront.link("magic_link", token=secret, email=email, code=code)
        await self.mailer.queue(self.session, magic_link_mail(to=email, url=url, code=code,
                                                              valid_minutes=self.settings.magic_link_ttl_minutes),
                                storefront)

    async def verify(self, data: MagicLinkVerify, *, ip: str, anon_id: uuid.UUID | None,
                     storefront: Storefront) -> SignedIn | Repeated:
        """Sign in with the link's token or the email and code (an account created now signed up on
        `storefront`). A wrong code's attempt is kept (`commit_on_error`) although the request fails.
        The link's token cannot be guessed: only codes are throttled per account."""
        email = domain.normalise_email(data.email) if data.email else None
        await self.guard.attempt("magic-link-verify", ip=ip)
        verified_at = now()
        links = MagicLinkRepository(self.session)
        if data.token is not None:
            email = await links.consume_by_token(domain.digest(data.token), verified_at)
        else:
            assert email is not None and data.code is not None
            await self.codes.admit(email, ip)
            max_attempts = self.settings.magic_link_max_attempts
            live = await links.take_attempt(email, verified_at, max_attempts)
            retried = None
            if live is None and self.settings.magic_link_retry_seconds > 0:
                # The same code again, just after it signed in: the same client repeating itself.
                since = verified_at - timedelta(seconds=self.settings.magic_link_retry_seconds)
                retried = await links.take_retry(email, since, max_attempts)
            code = live or retried
            matches = code is not None and domain.same_digest(data.code.strip(), code.code_hash)
            # Spent only when right: a wrong guess leaves the live code to its remaining attempts.
            spent = matches and (retried is not None or (live is not None and await links.consume(live.id, verified_at)))
            if not spent:
                # Counted per account only when there was a code to guess; at the account's
                # ceiling the code guessed at ends (its link still signs in).
                if code is not None and await self.codes.failed(email):
                    await links.exhaust(code.id, max_attempts)
                commit_on_error(self.session)
                raise InvalidMagicCode()
            await self.codes.succeeded(email, ip)
            if retried is not None:
                user = await UserRepository(self.session).get_by_email(email)
                if user is None or not user.is_active:
                    raise InvalidMagicCode()
                return Repeated()
        if email is None:
            raise InvalidMagicCode()
        return await self._sign_in(email, anon_id, storefront)

    async def check_user(self, email: str, *, ip: str) -> bool:
        """S4: whether an account exists for the address (rate limited like a credential)."""
        email = domain.normalise_email(email)
        await self.guard.attempt("check-user", ip=ip, account=email)
        user = await UserRepository(self.session).get_by_email(email)
        return user is not None and user.is_active

    async def _sign_in(self, email: str, anon_id: uuid.UUID | None, storefront: Storefront) -> SignedIn:
        users = UserRepository(self.session)
        user = await users.get_by_email(email)
        created = user is None
        if user is None:
            user = User(email=email, first_name="", last_name="", email_verified_at=now(),
                        username=domain.generated_username(), signup_storefront=storefront.slug)
            if not await users.add_unique(user):
                # Created by another request this instant (or, once in 2^32, the generated name
                # taken): the code was not spent (rolled back), the retry gets a fresh name.
                raise EmailExists()
            await registered(self.session, user, "magic_link")
        else:
            await prove_email(self.session, user)
        return await self.sessions.sign_in(user, anon_id=anon_id, via="magic_link", require_verified=False,
                                           storefront=storefront,
                                           created=created)
