"""`/.well-known/jwks.json`: the public keys that verify identity's access tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from atelier_identity.api.deps import ContextDep

router = APIRouter(tags=["keys"])


# Public, but outside the merged OpenAPI: the gateway serves the same path with its own keys added.
@router.get("/.well-known/jwks.json", include_in_schema=False)
async def get_jwks(context: ContextDep) -> dict[str, Any]:
    return await context.keys.jwks()
