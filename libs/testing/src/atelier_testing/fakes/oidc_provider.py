"""A small OpenID Connect provider for the OAuth tests: discovery, authorize, token, userinfo, JWKS.

Served by uvicorn on a free loopback port (no network). It checks what a real provider checks
(client credentials, redirect URI, single-use codes, the PKCE verifier) and signs RS256
id_tokens with the nonce it was given. Tests pick the signing-in user by adding `user=<sub>`
to the authorization URL, as a person would choose an account.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Header, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "atelier-test-client"
CLIENT_SECRET = "atelier-test-secret"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    sub: str
    nonce: str | None
    code_challenge: str | None
    used: bool = False


@dataclass
class FakeOidcProvider:
    base_url: str = ""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, _Grant] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)
    # Ways to misbehave, for the refusal tests: "wrong_nonce", "wrong_audience", "foreign_key".
    misbehave: set[str] = field(default_factory=set)
    token_requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:12]
        self.app = self._build()

    def reset(self) -> None:
        self.users.clear()
        self.grants.clear()
        self.access_tokens.clear()
        self.misbehave.clear()
        self.token_requests.clear()

    def add_user(self, sub: str, email: str, *, email_verified: bool = True, given_name: str = "Grace",
                 family_name: str = "Hopper") -> None:
        self.users[sub] = {"sub": sub, "email": email, "email_verified": email_verified, "given_name": given_name,
                           "family_name": family_name}

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    # -- the provider --------------------------------------------------------------------------

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        claims = {"iss": self.base_url, "sub": grant.sub, "aud": grant.client_id, "iat": now, "exp": now + 300,
                  "nonce": grant.nonce, **{k: v for k, v in self.users[grant.sub].items() if k != "sub"}}
        if "wrong_nonce" in self.misbehave:
            claims["nonce"] = "not-the-nonce"
        if "wrong_audience" in self.misbehave:
            claims["aud"] = "someone-else"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if "foreign_key" in self.misbehave \
            else self.key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {"issuer": self.base_url, "authorization_endpoint": f"{self.base_url}/authorize",
                    "token_endpoint": f"{self.base_url}/token", "userinfo_endpoint": f"{self.base_url}/userinfo",
                    "jwks_uri": f"{self.base_url}/jwks", "response_types_supported": ["code"],
                    "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"]}

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                raise HTTPException(400, "bad client or response type")
            if q.get("deny"):
                denied = urlencode({"error": "access_denied", "state": q["state"]})
                return RedirectResponse(f"{q['redirect_uri']}?{denied}")
            sub = q.get("user")
            if sub not in self.users:
                raise HTTPException(400, "unknown test user")
            code = secrets.token_urlsafe(16)
            self.grants[code] = _Grant(client_id=q["client_id"], redirect_uri=q["redirect_uri"], sub=sub,
                                       nonce=q.get("nonce"), code_challenge=q.get("code_challenge"))
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")

        @app.post("/token")
        async def token(grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
                        code_verifier: str | None = Form(None), client_id: str | None = Form(None),
                        client_secret: str | None = Form(None),
                        authorization: str | None = Header(None)) -> JSONResponse:
            if authorization and authorization.startswith("Basic "):
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            self.token_requests.append({"code": code, "code_verifier": code_verifier, "client_id": client_id})
            grant = self.grants.get(code)
            if grant_type != "authorization_code" or grant is None or grant.used:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if redirect_uri != grant.redirect_uri:
                return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400)
            expected = base64.urlsafe_b64encode(hashlib.sha256((code_verifier or "").encode()).digest()).rstrip(b"=")
            if grant.code_challenge is None or expected.decode() != grant.code_challenge:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
            grant.used = True
            access = secrets.token_urlsafe(16)
            self.access_tokens[access] = grant.sub
            return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 300,
                                 "id_token": self._id_token(grant), "scope": "openid email profile"})

        @app.get("/userinfo")
        async def userinfo(authorization: str | None = Header(None)) -> dict[str, Any]:
            sub = self.access_tokens.get((authorization or "").removeprefix("Bearer "))
            if sub is None:
                raise HTTPException(401)
            return self.users[sub]

        return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServedProvider:
    """The provider running in a thread on a loopback port for the whole test session."""

    def __init__(self) -> None:
        self.provider = FakeOidcProvider()
        port = _free_port()
        self.provider.base_url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(self.provider.app, host="127.0.0.1", port=port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> FakeOidcProvider:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake OpenID provider did not start")
            time.sleep(0.01)
        return self.provider

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
