"""What every repository of generation shares: the session, the dialect, counting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession


class RepositoryBase:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def is_postgres(self) -> bool:
        bind = self.session.bind
        return bind is not None and bind.dialect.name == "postgresql"

    def insert(self, table: Any) -> Any:
        return (pg_insert if self.is_postgres else sqlite_insert)(table)

    async def _count(self, stmt: Any) -> int:
        return (await self.session.execute(sa_select(func.count()).select_from(stmt.subquery()))).scalar_one()
