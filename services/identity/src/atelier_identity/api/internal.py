"""`/internal/...`: for other services only (service credential), never routed by the gateway."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from atelier_common.auth import require_service
from atelier_common.db import SessionDep
from atelier_identity.api.deps import UserServiceDep
from atelier_identity.schemas import UserRead

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/users/{user_id}", response_model=UserRead)
async def get_user(user_id: uuid.UUID, session: SessionDep, users: UserServiceDep) -> UserRead:
    return UserRead.model_validate(await users.get(session, user_id))
