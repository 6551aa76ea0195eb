"""S1 Marbelle's frontend calls, shared by the profile's journeys and its frontend's contract tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from infra.journeys import PASSWORD, latest_mail, token_from

V1 = "/api/v1"
USER_FIELDS = {"id", "email", "first_name", "last_name", "company_name", "phone", "is_business_customer",
               "is_active", "is_verified", "date_joined"}


def ok(r: httpx.Response, status: int = 200) -> Any:
    """The seed's envelope `{success: true, message, data?}`: its `data`."""
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is True and isinstance(body["message"], str) and body["message"], body
    return body.get("data")


def failed(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False and isinstance(body["message"], str), body
    assert "error" not in body  # the seed's shape, not the native one
    return body


async def register(s: httpx.AsyncClient, email: str | None = None, **headers: str) -> str:
    email = email or f"marbelle-{uuid.uuid4().hex[:10]}@example.com"
    r = await s.post(f"{V1}/auth/register/", headers=headers, json={
        "email": email, "first_name": "John", "last_name": "Doe", "password": PASSWORD,
        "password_confirm": PASSWORD, "company_name": "Acme Corp", "phone": "+1234567890"})
    user = ok(r, 201)
    assert set(user) == USER_FIELDS and user["email"] == email and user["is_business_customer"] is True
    return email


async def verified_login(s: httpx.AsyncClient, api: httpx.AsyncClient, **headers: str) -> tuple[str, dict[str, Any]]:
    email = await register(s, **headers)
    token = token_from(await latest_mail(api, email, "confirm your email"))
    user = ok(await s.post(f"{V1}/auth/verify-email/", json={"token": token}))
    assert user["email"] == email
    data = ok(await s.post(f"{V1}/auth/login/", headers=headers, json={"email": email, "password": PASSWORD}))
    return email, data


def bearer(data: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {data['access']}"}
