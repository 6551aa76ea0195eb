"""`atelier users` against an embedded platform's database: create with roles, set a password
(prompted or from stdin, never an argument), grant and revoke roles, suspend and reactivate; each
checked through the platform's own sign-in."""

from __future__ import annotations

import asyncio
import json

import httpx
import jwt
from typer.testing import CliRunner, Result

from atelier_platform.cli import app

PASSWORD, NEW_PASSWORD = "first secret words", "second secret words"


async def atelier(*args: str, input: str | None = None) -> Result:
    # The command runs its own event loop: off this one.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), input)


async def login(platform: httpx.AsyncClient, password: str) -> httpx.Response:
    return await platform.post("/api/v1/auth/login", json={"email": "sue@example.com", "password": password})


async def test_create_with_a_role_set_password_and_roles(platform: httpx.AsyncClient) -> None:
    created = await atelier("users", "create", "Sue@example.com", "--role", "support", "--role", "finance",
                            input=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    assert PASSWORD not in created.output.splitlines()[-1]  # the prompt hides it; the JSON line says roles
    assert json.loads(created.output.splitlines()[-1])["roles"] == ["finance", "support"]
    signed_in = await login(platform, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    claims = jwt.decode(signed_in.json()["access"], options={"verify_signature": False})
    assert claims["roles"] == ["customer", "staff", "finance", "support"]

    changed = await atelier("users", "set-password", "sue@example.com", "--stdin", input=f"{NEW_PASSWORD}\n")
    assert changed.exit_code == 0, changed.output
    assert (await login(platform, PASSWORD)).status_code == 401
    # The sessions of the old password ended with it.
    refreshed = await platform.post("/api/v1/auth/refresh", json={"refresh": signed_in.json()["refresh"]})
    assert refreshed.status_code == 401
    assert (await login(platform, NEW_PASSWORD)).status_code == 200

    revoked = await atelier("users", "revoke-role", "sue@example.com", "finance")
    assert json.loads(revoked.output)["roles"] == ["support"]


async def test_a_password_is_never_an_argument_and_the_policy_applies(platform: httpx.AsyncClient) -> None:
    refused = await atelier("users", "create", "sue@example.com", "--password", PASSWORD)
    assert refused.exit_code == 2  # no such option
    weak = await atelier("users", "create", "sue@example.com", "--stdin", input="1234\n")
    assert weak.exit_code == 1
    missing = await atelier("users", "set-password", "nobody@example.com", "--stdin", input=f"{PASSWORD}\n")
    assert missing.exit_code == 1 and "not found" in missing.output.lower()
    mismatch = await atelier("users", "create", "sue@example.com", input=f"{PASSWORD}\nsomething else\n"
                             f"{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output.lower()


async def test_suspend_refuses_sign_in_until_reactivated(platform: httpx.AsyncClient) -> None:
    await atelier("users", "create", "sue@example.com", "--stdin", input=f"{PASSWORD}\n")
    session = (await login(platform, PASSWORD)).json()
    suspended = await atelier("users", "suspend", "sue@example.com")
    assert json.loads(suspended.output) == {"email": "sue@example.com", "suspended": True, "changed": True}
    again = await atelier("users", "suspend", "sue@example.com")
    assert json.loads(again.output)["changed"] is False
    refused = await login(platform, PASSWORD)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ACCOUNT_DISABLED"
    refreshed = await platform.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
    assert refreshed.status_code == 403
    await atelier("users", "reactivate", "sue@example.com")
    assert (await login(platform, PASSWORD)).status_code == 200
