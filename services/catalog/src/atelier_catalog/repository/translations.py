"""Texts per locale: a record's translations, and those a page of views needs in one locale."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete
from sqlmodel import col, select

from atelier_catalog.models import Translation
from atelier_catalog.repository._shared import SessionRepository


class TranslationRepository(SessionRepository):
    async def of(self, subject: str, subject_id: uuid.UUID) -> Sequence[Translation]:
        stmt = (select(Translation).where(col(Translation.subject) == subject, col(Translation.subject_id) == subject_id)
                .order_by(col(Translation.locale)))
        return (await self.session.exec(stmt)).all()

    async def get(self, subject: str, subject_id: uuid.UUID, locale: str) -> Translation | None:
        stmt = select(Translation).where(col(Translation.subject) == subject,
                                         col(Translation.subject_id) == subject_id, col(Translation.locale) == locale)
        return (await self.session.exec(stmt)).first()

    async def remove(self, subject: str, subject_id: uuid.UUID, locale: str) -> bool:
        stmt = delete(Translation).where(col(Translation.subject) == subject, col(Translation.subject_id) == subject_id,
                                         col(Translation.locale) == locale)
        result = await self.session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    async def in_locale(self, locale: str, subject: str, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Translation]:
        """The `locale` texts of the records `ids` of `subject` that have one."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        stmt = select(Translation).where(col(Translation.locale) == locale, col(Translation.subject) == subject,
                                         col(Translation.subject_id).in_(wanted))
        return {row.subject_id: row for row in (await self.session.exec(stmt)).all()}

    async def of_products(self, product_ids: Iterable[uuid.UUID]) -> Sequence[Translation]:
        """Every product and variant translation of `product_ids` (the CSV export)."""
        wanted = list(product_ids)
        if not wanted:
            return []
        stmt = (select(Translation).where(col(Translation.product_id).in_(wanted))
                .order_by(col(Translation.product_id), col(Translation.subject), col(Translation.locale)))
        return (await self.session.exec(stmt)).all()
