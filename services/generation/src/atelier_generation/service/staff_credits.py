"""Staff grant or take back credits by hand: through the ledger, with a reason the customer
reads there, recorded in the audit log. Who may is the route's `RequireRole` (finance)."""

from __future__ import annotations

import uuid

from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.service import UseCase
from atelier_generation.context import GenerationContext
from atelier_generation.domain import TransactionKind
from atelier_generation.errors import DeductionExceedsBalance
from atelier_generation.models import CreditTransaction
from atelier_generation.repository import TransactionRepository, WalletRepository
from atelier_generation.schemas import CreditAdjustment, CreditAdjustmentRead
from atelier_generation.service._shared import utcnow

# The ledger line the customer sees; the staffer's reason follows it.
GRANTED, DEDUCTED = "Credits added by support", "Credits removed by support"


class StaffCredits(UseCase[GenerationContext]):
    async def adjust(self, user_id: uuid.UUID, data: CreditAdjustment, staff: Principal) -> CreditAdjustmentRead:
        """Add `data.amount` credits (negative: take them), never below zero (409, nothing
        changed): one guarded UPDATE, as spending does, so a concurrent spend cannot overdraw."""
        now = utcnow()
        wallets = WalletRepository(self.session)
        await wallets.lock(user_id, now)
        before = await wallets.balance(user_id)
        if data.amount > 0:
            balance = await wallets.credit(user_id, data.amount, now)
        else:
            debited = await wallets.debit(user_id, -data.amount, now)
            if debited is None:
                raise DeductionExceedsBalance(details={"balance": before, "requested": -data.amount})
            balance = debited
        transaction = CreditTransaction(
            owner_id=user_id, kind=TransactionKind.ADJUSTMENT, amount=data.amount, balance_after=balance,
            description=f"{GRANTED if data.amount > 0 else DEDUCTED}: {data.reason}"[:200], created_at=now)
        TransactionRepository(self.session).add(transaction)
        await audit.record(self.session, staff, "credits.adjust", "customer", user_id,
                           before={"balance": before}, after={"balance": balance, "amount": data.amount},
                           reason=data.reason)
        return CreditAdjustmentRead(transaction_id=transaction.id, user_id=user_id, amount=data.amount,
                                    balance=balance)
