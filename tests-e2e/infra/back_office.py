"""Steps of the back-office journeys: staffers with a role (a paid order is a journey step)."""

from __future__ import annotations

from typing import Any

import httpx
from infra.journeys import login, register_verified


async def staffer_account(api: httpx.AsyncClient, admin: dict[str, str], role: str) -> dict[str, Any]:
    """A new verified account that the admin made a `role` staffer: `{email, user}`."""
    account = await register_verified(api)
    made = await api.post("/api/v1/staff/accounts", headers=admin, json={"email": account["email"], "roles": [role]})
    assert made.status_code == 200, made.text
    return account


async def staffer(api: httpx.AsyncClient, admin: dict[str, str], role: str) -> dict[str, str]:
    """Authorization headers of a new `role` staffer."""
    account = await staffer_account(api, admin, role)
    tokens = await login(api, account["email"])  # after the change: the token carries the role
    return {"Authorization": f"Bearer {tokens['access']}"}
