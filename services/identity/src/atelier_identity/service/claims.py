"""Anonymous customers becoming users: the claim, which every sign-in method makes."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.identity import AnonymousClaimed
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.repository import ClaimRepository
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.service.addresses import AddressService


class Claims(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.addresses = AddressService(session, context)

    async def claim(self, anon_id: uuid.UUID | None, user_id: uuid.UUID, *, via: str) -> bool:
        """What the anonymous visitor owns moves to the account.

        Identity moves its own data (addresses) in this transaction; the other services move
        theirs (carts, books, orders) on `identity.anonymous_claimed`.
        """
        if not domain.needs_claim(anon_id, user_id):
            return False
        assert anon_id is not None
        await self.addresses.adopt(from_owner=anon_id, to_owner=user_id)
        await ClaimRepository(self.session).add(anon_id, user_id, via, now())
        await outbox.add(self.session, AnonymousClaimed(anon_id=anon_id, user_id=user_id))
        return True
