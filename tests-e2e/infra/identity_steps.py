"""Steps of the identity journeys: visitors, mail, magic links, Google through the fake provider, passkeys.

Every call goes through the gateway's public URL, as a browser or an app would make it.
"""

from __future__ import annotations

import itertools
import re
import uuid
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from infra.journeys import PASSWORD, login, poll, register_verified

CALLBACK = "/api/v1/auth/oauth/google/callback"
CODE_IN_MAIL = re.compile(r"enter this code: (\d{6})")

_addresses = itertools.count()


def loopback_address() -> str:
    """A client address of its own (127.0.x.y, never 127.0.0.1) for one visitor.

    The platform limits credential attempts per client address; each visitor of these tests is a
    different person, so each comes from its own loopback address instead of sharing one budget.
    """
    n = next(_addresses) % (250 * 250)
    return f"127.0.{n // 250 + 1}.{n % 250 + 2}"


def visitor_client(base_url: str | httpx.URL, address: str | None = None) -> httpx.AsyncClient:
    """A new browser: no cookies, its own client address (or `address`)."""
    return httpx.AsyncClient(base_url=base_url, timeout=30,
                             transport=httpx.AsyncHTTPTransport(local_address=address or loopback_address()))


@asynccontextmanager
async def visitor(api: httpx.AsyncClient):
    async with visitor_client(api.base_url) as client:
        yield client


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def error_code(response: httpx.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def expect_error(response: httpx.Response, status: int, code: str) -> None:
    assert (response.status_code, error_code(response)) == (status, code), response.text


async def me(api: httpx.AsyncClient, access: str) -> dict[str, Any]:
    """GET /users/me with this access token; it must work."""
    r = await api.get("/api/v1/users/me", headers=bearer(access))
    assert r.status_code == 200, r.text
    return r.json()


async def signed_in_customer(api: httpx.AsyncClient, email: str | None = None) -> dict[str, Any]:
    """A verified customer with a password, logged in: `{email, id, access, refresh, user}`."""
    account = await register_verified(api, email)
    tokens = await login(api, account["email"])
    return {"email": account["email"], "id": tokens["user"]["id"], "access": tokens["access"],
            "refresh": tokens["refresh"], "user": tokens["user"], "password": PASSWORD}


async def refused_by_gateway(api: httpx.AsyncClient, access: str, path: str = "/api/v1/users/me") -> None:
    """Poll until the access token answers 401 (revocation travels as an event in the distributed mode)."""

    async def refused() -> bool:
        r = await api.get(path, headers=bearer(access))
        return r.status_code == 401 and error_code(r) == "INVALID_TOKEN"

    await poll(refused, timeout=30, message=f"the revoked access token refused on {path}")


# -- mail -------------------------------------------------------------------------------------


async def mailbox(api: httpx.AsyncClient, to: str) -> list[dict[str, Any]]:
    r = await api.get("/api/dev/mailbox", params={"to": to})
    assert r.status_code == 200, r.text
    return r.json()["results"]


async def mail_ids(api: httpx.AsyncClient, to: str) -> set[str]:
    return {m["id"] for m in await mailbox(api, to)}


async def new_mail(api: httpx.AsyncClient, to: str, subject_contains: str, seen: set[str] = frozenset()) -> dict:
    """The newest mail to `to` whose subject matches and whose id is not in `seen` (polled)."""

    async def find() -> dict[str, Any] | None:
        for mail in await mailbox(api, to):
            if mail["id"] not in seen and subject_contains.lower() in mail["subject"].lower():
                return mail
        return None

    return await poll(find, timeout=30, message=f"a new '{subject_contains}' mail to {to}")


def code_from(mail: dict[str, Any]) -> str:
    match = CODE_IN_MAIL.search(mail["text"])
    assert match, mail["text"]
    return match.group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def magic_link(api: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """Ask for a magic link and answer its mail (the code and the link's token are in it)."""
    seen = await mail_ids(api, email)
    r = await api.post("/api/v1/auth/magic-link", json={"email": email})
    assert r.status_code == 200, r.text
    return await new_mail(api, email, "sign-in code", seen)


# -- Google through the fake provider ---------------------------------------------------------


async def oauth_start(api: httpx.AsyncClient, return_to: str | None = None) -> str:
    body = {"return_to": return_to} if return_to is not None else None
    r = await api.post("/api/v1/auth/oauth/google/start", json=body)
    assert r.status_code == 200, r.text
    return r.json()["auth_url"]


async def consent(api: httpx.AsyncClient, auth_url: str, sub: str) -> str:
    """The person picks account `sub` at the provider, which sends the browser back to the platform:
    answers that callback's path and query (on the gateway)."""
    async with httpx.AsyncClient(timeout=30) as browser:
        r = await browser.get(f"{auth_url}&{urlencode({'user': sub})}")
    assert r.status_code in (302, 307), r.text
    location = r.headers["location"]
    assert location.startswith(f"{str(api.base_url).rstrip('/')}{CALLBACK}?"), location
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


async def oauth_callback(api: httpx.AsyncClient, sub: str, return_to: str | None = None) -> httpx.Response:
    """start → the provider's authorize redirect → the platform's callback (its answer)."""
    return await api.get(await consent(api, await oauth_start(api, return_to), sub))


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


# -- passkeys ---------------------------------------------------------------------------------

PASSKEYS = "/api/v1/auth/passkeys"


async def register_passkey(api: httpx.AsyncClient, access: str, authenticator: Any,
                           name: str = "Laptop") -> dict[str, Any]:
    begun = await api.post(f"{PASSKEYS}/register/begin", json={"name": name}, headers=bearer(access))
    assert begun.status_code == 200, begun.text
    options = begun.json()
    done = await api.post(f"{PASSKEYS}/register/complete", headers=bearer(access), json={
        "registration_id": options["registration_id"], "credential": authenticator.create(options)})
    assert done.status_code == 201, done.text
    return {"options": options, **done.json()}


async def passkey_login_begin(api: httpx.AsyncClient, email: str | None = None) -> dict[str, Any]:
    r = await api.post(f"{PASSKEYS}/login/begin", json={"email": email} if email else {})
    assert r.status_code == 200, r.text
    return r.json()


async def passkey_login_complete(api: httpx.AsyncClient, options: dict[str, Any],
                                 credential: dict[str, Any]) -> httpx.Response:
    return await api.post(f"{PASSKEYS}/login/complete", json={
        "authentication_id": options["authentication_id"], "credential": credential})


# -- addresses --------------------------------------------------------------------------------


def address(label: str, **fields: Any) -> dict[str, Any]:
    return {"label": label, "type": "shipping", "first_name": "Ada", "last_name": "Lovelace",
            "address_line_1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH",
            "country": "GB", "phone": "+44 20 7946 0000", **fields}


async def addresses(api: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await api.get("/api/v1/addresses", headers=headers, params={"limit": 50})
    assert r.status_code == 200, r.text
    return r.json()["results"]
