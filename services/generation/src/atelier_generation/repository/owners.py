"""The `generation_owner` rows and handing everything an anonymous id owns to its user."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from atelier_common.columns import table_of
from atelier_common.db import Statement
from atelier_common.owners import OwnerState, buyer_of, lock_owner
from atelier_generation.models import (
    Book,
    CreditTransaction,
    CreditWallet,
    GeneratedImage,
    GenerationJob,
    GenerationOwner,
    ImageFavorite,
    Restoration,
    RetryPack,
)
from atelier_generation.repository._base import RepositoryBase
from atelier_generation.repository.books import BookRepository, RetryPackRepository
from atelier_generation.repository.credits import TransactionRepository, WalletRepository
from atelier_generation.repository.images import ImageRepository
from atelier_generation.repository.jobs import JobRepository
from atelier_generation.repository.restorations import RestorationRepository


def _hand_over_statement() -> Any:
    """What an anonymous id owns moved to its user in one statement (PostgreSQL: data-modifying
    CTEs): its rows re-owned, its favorites re-made for the user, its wallet deleted; the wallet's
    balance returned, for the caller to credit to the user's wallet."""
    old: Any = bindparam("old")
    new: Any = bindparam("new")

    def moved(model: Any, **values: Any) -> Any:
        table = model.__table__
        return update(table).where(table.c.owner_id == old).values(owner_id=new, **values).cte(f"moved_{table.name}")

    favorite, wallet = table_of(ImageFavorite), table_of(CreditWallet)
    claimed_at: Any = bindparam("now", type_=table_of(Book).c.claimed_at.type)
    # Every part sees the statement's snapshot: the INSERT copies the favorites the DELETE removes.
    favorites = (pg_insert(favorite).from_select(
        ["owner_id", "image_id", "created_at"],
        sa_select(bindparam("new", type_=favorite.c.owner_id.type), favorite.c.image_id,
                  bindparam("now", type_=favorite.c.created_at.type))
        .where(favorite.c.owner_id == old))
        .on_conflict_do_nothing(index_elements=["owner_id", "image_id"]).cte("favorites"))
    old_favorites = delete(favorite).where(favorite.c.owner_id == old).cte("old_favorites")
    return (delete(wallet).where(wallet.c.owner_id == old).returning(wallet.c.balance)
            .add_cte(moved(CreditTransaction), moved(GenerationJob), moved(GeneratedImage), favorites, old_favorites,
                     moved(Restoration), moved(Book, anonymous=False, anon_reader_id=old, claimed_at=claimed_at),
                     moved(RetryPack)))


_HAND_OVER = Statement(_hand_over_statement())


class OwnerRepository(RepositoryBase):
    """The `generation_owner` rows (`atelier_common.owners`)."""

    async def hand_over(self, old: uuid.UUID, new: uuid.UUID, now: datetime) -> int:
        """Everything `old` owns becomes `new`'s, but the credits: `old`'s wallet is deleted and
        what it held returned (for the caller to credit). One statement on PostgreSQL."""
        if self.is_postgres:
            rows = await _HAND_OVER.rows(self.session, {"old": old, "new": new, "now": now})
            return rows[0][0] if rows else 0  # no wallet, nothing to return
        moved = await WalletRepository(self.session).take(old)
        await TransactionRepository(self.session).reassign(old, new)
        await JobRepository(self.session).reassign(old, new)
        await ImageRepository(self.session).reassign(old, new, now)
        await RestorationRepository(self.session).reassign(old, new)
        await BookRepository(self.session).reassign(old, new, now)
        await RetryPackRepository(self.session).reassign(old, new)
        return moved

    async def lock(self, owner_id: uuid.UUID, now: datetime, *, claimed_by: uuid.UUID | None = None,
                   erased: bool = False) -> OwnerState:
        return await lock_owner(self.session, GenerationOwner, owner_id, claimed_by=claimed_by, erased=erased,
                                now=now)

    async def buyer(self, owner_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
        return await buyer_of(self.session, GenerationOwner, owner_id, now=now)
