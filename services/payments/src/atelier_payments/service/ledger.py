"""The billing ledger (S0, S4): money and credit movements of an owner, and who owns them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.service import UseCase
from atelier_payments import domain
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.domain import LedgerKind
from atelier_payments.models import LedgerEntry
from atelier_payments.queries import PaymentQueries
from atelier_payments.repository import LedgerRepository, PaymentRepository, reassign_owner


class LedgerService(UseCase[PaymentsContext]):
    def __init__(self, session: AsyncSession, context: PaymentsContext) -> None:
        super().__init__(session, context)
        self.ledger = LedgerRepository(session)
        self.payments = PaymentRepository(session)

    async def page(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[int, Sequence[LedgerEntry]]:
        return await PaymentQueries(self.session).ledger_page(user_id, limit=limit, offset=offset)

    async def credits_consumed(self, *, user_id: uuid.UUID, credits: int, reason: str,
                               reference_id: uuid.UUID | None, storefront: str = DEFAULT_STOREFRONT) -> None:
        """Generation spent credits (a job, an unlock, a regeneration) on `storefront`: a negative entry."""
        self.ledger.add(LedgerEntry(owner_id=user_id, user_id=user_id, storefront=storefront,
                                    kind=LedgerKind.CREDIT_CONSUMED,
                                    credits=-abs(credits), reference_id=str(reference_id) if reference_id else None,
                                    description=f"Used {abs(credits)} credit{'s' if abs(credits) != 1 else ''}"
                                                f" ({reason})"))
        await self.session.flush()

    async def claim_anonymous(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """What an anonymous customer paid becomes the user's (anon_id stays on the payment)."""
        await reassign_owner(self.session, anon_id, user_id)

    async def anonymise_user(self, user_id: uuid.UUID) -> None:
        """Payments and entries are accounting records and stay; the person leaves them: the
        owner becomes a random id and the buyer contact is erased from order snapshots."""
        tombstone = uuid.uuid4()
        for payment in await self.payments.list_for_user(user_id):
            payment.owner_id = tombstone
            payment.user_id = None
            payment.anon_id = None
            payment.order_snapshot = domain.anonymised_snapshot(payment.order_snapshot)
        await self.ledger.anonymise(user_id, tombstone)
        await self.session.flush()
