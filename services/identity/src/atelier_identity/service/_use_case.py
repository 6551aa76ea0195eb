"""The base of identity's use cases: the context's collaborators they reach, named once."""

from __future__ import annotations

from atelier_common.ratelimit import RateLimiter
from atelier_common.service import UseCase
from atelier_identity.context import IdentityContext
from atelier_identity.mail import Mailer
from atelier_identity.settings import IdentitySettings


class IdentityUseCase(UseCase[IdentityContext]):
    """Built from `(session, context)` like every use case; a subclass builds only its own helpers."""

    @property
    def settings(self) -> IdentitySettings:
        return self.context.settings

    @property
    def mailer(self) -> Mailer:
        return self.context.mailer

    @property
    def limiter(self) -> RateLimiter:
        return self.context.limiter
