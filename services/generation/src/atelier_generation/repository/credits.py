"""Credit wallets, their transactions and the credit packs on sale."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, true, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from atelier_common.columns import table_of
from atelier_generation.models import (
    CreditPack,
    CreditTransaction,
    CreditWallet,
)
from atelier_generation.repository._base import RepositoryBase


class WalletRepository(RepositoryBase):
    async def ensure(self, owner_id: uuid.UUID, now: datetime) -> None:
        stmt = self.insert(CreditWallet).values(owner_id=owner_id, balance=0, updated_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id"]))

    async def balance(self, owner_id: uuid.UUID) -> int:
        stmt = sa_select(col(CreditWallet.balance)).where(col(CreditWallet.owner_id) == owner_id)
        return (await self.session.execute(stmt)).scalar_one_or_none() or 0

    async def lock(self, owner_id: uuid.UUID, now: datetime) -> None:
        """Hold the owner's wallet row until commit: per-owner limits are checked under it."""
        await self.ensure(owner_id, now)
        stmt = sa_select(col(CreditWallet.owner_id)).where(col(CreditWallet.owner_id) == owner_id)
        if self.is_postgres:
            stmt = stmt.with_for_update()
        await self.session.execute(stmt)

    async def debit(self, owner_id: uuid.UUID, amount: int, now: datetime) -> int | None:
        """The new balance, or None when the balance does not cover `amount` (nothing changed)."""
        stmt = (update(CreditWallet)
                .where(col(CreditWallet.owner_id) == owner_id, col(CreditWallet.balance) >= amount)
                .values(balance=CreditWallet.balance - amount, updated_at=now)
                .returning(col(CreditWallet.balance)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def credit(self, owner_id: uuid.UUID, amount: int, now: datetime) -> int:
        await self.ensure(owner_id, now)
        stmt = (update(CreditWallet).where(col(CreditWallet.owner_id) == owner_id)
                .values(balance=CreditWallet.balance + amount, updated_at=now).returning(col(CreditWallet.balance)))
        return (await self.session.execute(stmt)).scalar_one()

    async def take(self, owner_id: uuid.UUID) -> int:
        """Delete the wallet; return what it held."""
        stmt = delete(CreditWallet).where(col(CreditWallet.owner_id) == owner_id).returning(col(CreditWallet.balance))
        return (await self.session.execute(stmt)).scalar_one_or_none() or 0


class TransactionRepository(RepositoryBase):
    def add(self, transaction: CreditTransaction) -> None:
        self.session.add(transaction)

    async def add_purchase_once(self, transaction: CreditTransaction) -> bool:
        """Insert unless this (order, product) was granted before; whether it was inserted."""
        values = transaction.model_dump()
        stmt = (self.insert(CreditTransaction).values(**values)
                .on_conflict_do_nothing(index_elements=["order_id", "product_id"])
                .returning(col(CreditTransaction.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def set_balance_after(self, transaction_id: uuid.UUID, balance: int) -> None:
        await self.session.execute(update(CreditTransaction).where(col(CreditTransaction.id) == transaction_id)
                                   .values(balance_after=balance))

    async def latest(self, owner_id: uuid.UUID, limit: int) -> Sequence[CreditTransaction]:
        stmt = (select(CreditTransaction).where(col(CreditTransaction.owner_id) == owner_id)
                .order_by(col(CreditTransaction.created_at).desc(), col(CreditTransaction.id).desc()).limit(limit))
        return (await self.session.exec(stmt)).all()

    async def reassign(self, old: uuid.UUID, new: uuid.UUID) -> None:
        await self.session.execute(update(CreditTransaction).where(col(CreditTransaction.owner_id) == old)
                                   .values(owner_id=new))

    async def delete_for(self, owner_id: uuid.UUID) -> None:
        await self.session.execute(delete(CreditTransaction).where(col(CreditTransaction.owner_id) == owner_id))


class CreditPackRepository(RepositoryBase):
    async def upsert(self, pack: CreditPack) -> None:
        values = pack.model_dump()
        stmt = self.insert(CreditPack).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["product_id"],
                                          set_={k: v for k, v in values.items() if k != "product_id"})
        await self.session.execute(stmt)

    async def remove(self, product_id: uuid.UUID) -> None:
        await self.session.execute(_REMOVE_PACK, {"product": product_id})

    async def list_active(self) -> Sequence[CreditPack]:
        stmt = (select(CreditPack).where(col(CreditPack.is_active) == true())
                .order_by(col(CreditPack.credits), col(CreditPack.sku)))
        return (await self.session.exec(stmt)).all()


_PACK = table_of(CreditPack)
# Every catalog.product_changed of a product that is not a pack (each checkout's stock change):
# built once, and on the table (an ORM-enabled DELETE would also plan to sync the session).
_REMOVE_PACK = delete(_PACK).where(_PACK.c.product_id == bindparam("product"))
