"""Money-moving staff writes ask identity who the caller is now, not what the token says.

A staff token carries the roles its holder had when it was issued. Identity ends every session of
an account whose staff roles change or which is suspended, and each process refuses the old tokens
once it hears `identity.token_revoked`: an event, so not at once (docs/security.md). A refund, a
credit grant or a cancellation that refunds must not ride that gap, so such a route takes
`CurrentFinancePrincipal` (or `confirmed(check)`): the token's role check first (403 early, no
call), then identity's `/internal/users/{id}/access`, asked at that moment: the account must be
active and its roles now must pass the same check, else the token is one of those revoked (401
`INVALID_TOKEN`). Identity unreachable: 503, never the token's word alone (fail closed).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Request

from atelier_common.auth import Principal, RequireRole, require_finance, require_support
from atelier_common.errors import InvalidToken, ServiceUnavailable
from atelier_common.internal import error_code
from atelier_common.service import Runtime
from atelier_common.state import app_state

# Identity's answer for an account that no longer exists (any other 404: not an answer about it).
_ACCOUNT_GONE = "USER_NOT_FOUND"


async def current_roles(runtime: Runtime, user_id: uuid.UUID) -> tuple[bool, frozenset[str]] | None:
    """(active, roles) of the account now, by identity; None when the account is gone.
    ServiceUnavailable when identity cannot tell (down, timing out, answering nonsense)."""
    response = await runtime.internal.call("identity", "GET", f"/internal/users/{user_id}/access")
    if response.status_code == 404 and error_code(response) == _ACCOUNT_GONE:
        return None
    try:
        if response.status_code != 200:
            raise ValueError(f"status {response.status_code}")
        body = response.json()
        active, roles = body["is_active"], body["roles"]
        if not isinstance(active, bool) or not isinstance(roles, list):
            raise ValueError("unexpected answer")
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceUnavailable("identity cannot confirm the caller's roles now") from exc
    return active, frozenset(str(role) for role in roles)


async def confirm(runtime: Runtime, principal: Principal, roles: frozenset[str]) -> Principal:
    """`principal` when identity says, now, that the account is active and holds one of `roles`
    (or admin); else 401: identity ended the sessions of an account whose roles changed or which
    was suspended, and this token is one of those."""
    if principal.user_id is None:
        raise InvalidToken()
    account = await current_roles(runtime, principal.user_id)
    if account is None:
        raise InvalidToken("The account no longer exists")
    active, now = account
    if not active or not replace(principal, roles=now).has_role(*roles):
        raise InvalidToken("The token has been revoked")
    return principal


def confirmed(check: RequireRole) -> Callable[..., Awaitable[Principal]]:
    """A dependency: `check` on the token, then identity's word on the account (see the module)."""

    # `check` as a default: a string annotation (this module's `from __future__`) could not name it.
    async def confirmed_by_identity(request: Request, principal: Principal = Depends(check)) -> Principal:
        return await confirm(app_state(request.app, "runtime", Runtime), principal, check.roles)

    return confirmed_by_identity


# What such a route answers besides its own errors (its `responses=`).
CONFIRMED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "INVALID_TOKEN: also a token issued before its staff roles changed or the account was "
                         "suspended"},
    503: {"description": "SERVICE_UNAVAILABLE: identity could not confirm the caller's roles; nothing done"}}
# Module-level, like `auth`'s aliases: FastAPI caches a dependency per callable within a request.
confirmed_finance = confirmed(require_finance)
confirmed_support = confirmed(require_support)
CurrentFinancePrincipal = Annotated[Principal, Depends(confirmed_finance)]
CurrentSupportPrincipal = Annotated[Principal, Depends(confirmed_support)]
