"""What every repository of generation shares: the session, the dialect, counting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.db import dialect_insert, on_postgres


class RepositoryBase:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def is_postgres(self) -> bool:
        return on_postgres(self.session)

    def insert(self, table: Any) -> Any:
        return dialect_insert(self.session)(table)

    async def _count(self, stmt: Any) -> int:
        return (await self.session.execute(sa_select(func.count()).select_from(stmt.subquery()))).scalar_one()
