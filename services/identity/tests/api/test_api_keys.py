"""API keys: made by admins (the secret shown once), exchanged by the gateway for access tokens
with the key's roles and storefront scope, rotated with two live secrets, revoked at once."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from sqlmodel import select

from atelier_identity.models import ApiKey, ApiKeySecret

SERVICE = {"X-Service-Token": "changethis"}
KEYS = "/api/v1/staff/api-keys"


async def _create(api, admin, **body) -> dict:
    response = await api.client.post(KEYS, json={"name": "ERP sync", "roles": ["support"],
                                                 "storefronts": ["default"], **body}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def _exchange(api, secret: str):
    return await api.client.post("/internal/api-keys/exchange", json={"secret": secret}, headers=SERVICE)


class TestCreate:
    async def test_the_secret_is_shown_once_and_stored_hashed(self, api, harness, test_keys) -> None:
        admin = test_keys.staff_headers()
        made = await _create(api, admin)
        secret = made["secret"]
        assert secret.startswith("atk_live_") and len(secret) > 40
        assert made["roles"] == ["support"] and made["storefronts"] == ["default"]
        assert made["secrets"] == [{"hint": secret[:13], "created_at": made["secrets"][0]["created_at"],
                                    "expires_at": None}]
        listed = (await api.client.get(KEYS, headers=admin)).json()["results"]
        got = (await api.client.get(f"{KEYS}/{made['id']}", headers=admin)).json()
        assert [k["id"] for k in listed] == [made["id"]] and got["name"] == "ERP sync"
        assert secret not in str(listed) + str(got) and "secret" not in got
        async with harness.runtime.db.transaction() as session:
            rows = (await session.exec(select(ApiKeySecret))).all()
        assert [r.secret_hash for r in rows] == [hashlib.sha256(secret.encode()).hexdigest()]

    async def test_admin_only(self, api, test_keys, expect_error) -> None:
        for roles in (("support",), ("finance",), ("merchandiser",)):
            expect_error(await api.client.post(KEYS, json={"name": "x", "roles": ["support"], "storefronts": ["*"]},
                                               headers=test_keys.staff_headers(*roles)), 403, "PERMISSION_DENIED")
            expect_error(await api.client.get(KEYS, headers=test_keys.staff_headers(*roles)), 403,
                         "PERMISSION_DENIED")
        expect_error(await api.client.get(KEYS), 401, "AUTHENTICATION_REQUIRED")

    async def test_roles_and_storefronts_are_checked(self, api, test_keys, expect_error) -> None:
        admin = test_keys.staff_headers()
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        for body in ({"roles": ["owner"]}, {"roles": []}, {"storefronts": []}, {"storefronts": ["nowhere"]},
                     {"expires_at": past}, {"expires_at": "2030-01-01T00:00:00"}):
            expect_error(await api.client.post(KEYS, json={"name": "x", "roles": ["support"], "storefronts": ["*"],
                                                           **body}, headers=admin), 400, "VALIDATION_ERROR")
        assert (await _create(api, admin, storefronts=["*", "default"]))["storefronts"] == ["*"]

    async def test_scopes_are_checked_and_a_key_has_a_role_or_a_scope(self, api, test_keys, expect_error) -> None:
        admin = test_keys.staff_headers()
        for body in ({"roles": [], "scopes": ["orders:write"]}, {"scopes": ["orders:read", "everything"]},
                     {"roles": [], "scopes": []}, {"roles": []}):
            response = await api.client.post(KEYS, json={"name": "x", "roles": ["support"], "storefronts": ["*"],
                                                         **body}, headers=admin)
            expect_error(response, 400, "VALIDATION_ERROR")
        made = await _create(api, admin, roles=[], scopes=["orders:read", "invoices:read", "orders:read"])
        assert (made["roles"], made["scopes"]) == ([], ["invoices:read", "orders:read"])
        listed = (await api.client.get(KEYS, headers=admin)).json()["results"]
        assert [k["scopes"] for k in listed] == [["invoices:read", "orders:read"]]
        assert (await _create(api, admin))["scopes"] == []

    async def test_writes_are_audited(self, api, harness, test_keys) -> None:
        made = await _create(api, test_keys.staff_headers())
        await harness.drain()
        audit = (await api.client.get("/api/v1/staff/audit", params={"target_id": made["id"]},
                                      headers=test_keys.staff_headers())).json()["results"]
        assert [a["action"] for a in audit] == ["api_key.create"]
        assert made["secret"] not in str(audit)


class TestExchange:
    async def test_a_secret_gives_a_token_with_the_keys_roles_and_scope(self, api, test_keys, expect_error) -> None:
        made = await _create(api, test_keys.staff_headers(), roles=["support", "finance"])
        response = await _exchange(api, made["secret"])
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert claims["sub"] == made["id"] and claims["email"] == "api-key:ERP sync"
        assert claims["roles"] == ["staff", "finance", "support"] and claims["sfs"] == ["default"]
        assert claims["exp"] - claims["iat"] <= 300
        key = (await api.client.get(f"{KEYS}/{made['id']}", headers=test_keys.staff_headers())).json()
        assert key["use_count"] == 1 and key["last_used_at"] is not None
        # The token passes identity's own role checks as a support staffer's would.
        token = {"Authorization": f"Bearer {response.json()['access_token']}"}
        assert (await api.client.get("/api/v1/staff/customers", headers=token)).status_code == 200
        expect_error(await api.client.get(KEYS, headers=token), 403, "PERMISSION_DENIED")

    async def test_a_scope_only_key_gets_its_scopes_in_the_token_and_only_their_routes(self, api, test_keys,
                                                                                       expect_error) -> None:
        made = await _create(api, test_keys.staff_headers(), roles=[], scopes=["customers:read"], storefronts=["*"])
        response = await _exchange(api, made["secret"])
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert (claims["roles"], claims["scp"]) == (["staff"], ["customers:read"])
        token = {"Authorization": f"Bearer {response.json()['access_token']}"}
        assert (await api.client.get("/api/v1/staff/customers", headers=token)).status_code == 200
        expect_error(await api.client.get("/api/v1/staff/mail", headers=token), 403, "PERMISSION_DENIED")
        expect_error(await api.client.post(f"/api/v1/staff/customers/{uuid.uuid4()}/sign-out", headers=token),
                     403, "PERMISSION_DENIED")
        # A key with roles only carries no `scp`: its roles alone decide.
        plain = await _exchange(api, (await _create(api, test_keys.staff_headers()))["secret"])
        assert "scp" not in jwt.decode(plain.json()["access_token"], options={"verify_signature": False})

    async def test_unknown_secrets_and_callers_are_refused(self, api, expect_error) -> None:
        for secret in ("atk_live_" + "x" * 43, "eyJhbGciOi.x.y", "atk_live_"):
            expect_error(await _exchange(api, secret), 401, "INVALID_TOKEN")
        expect_error(await api.client.post("/internal/api-keys/exchange", json={"secret": "atk_live_x"}), 401,
                     "AUTHENTICATION_REQUIRED")

    async def test_an_expired_key_is_refused(self, api, harness, test_keys, expect_error) -> None:
        made = await _create(api, test_keys.staff_headers(),
                             expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
        assert (await _exchange(api, made["secret"])).status_code == 200
        async with harness.runtime.db.transaction() as session:
            key = await session.get(ApiKey, uuid.UUID(made["id"]))
            assert key is not None
            key.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        expect_error(await _exchange(api, made["secret"]), 401, "INVALID_TOKEN")


class TestRotateAndRevoke:
    async def test_rotation_keeps_both_secrets_until_the_old_retires(self, api, harness, test_keys,
                                                                     expect_error) -> None:
        admin = test_keys.staff_headers()
        made = await _create(api, admin)
        old = made["secret"]
        rotated = (await api.client.post(f"{KEYS}/{made['id']}/rotate", headers=admin)).json()
        new = rotated["secret"]
        assert new != old and len(rotated["secrets"]) == 2
        retiring = [s for s in rotated["secrets"] if s["expires_at"] is not None]
        assert len(retiring) == 1 and retiring[0]["hint"] == old[:13]
        assert timedelta(hours=23) < datetime.fromisoformat(retiring[0]["expires_at"]) - datetime.now(UTC) \
            <= timedelta(hours=24)
        assert (await _exchange(api, old)).status_code == 200
        assert (await _exchange(api, new)).status_code == 200
        # A second rotation: the one still retiring goes now; two live at most.
        third = (await api.client.post(f"{KEYS}/{made['id']}/rotate", json={"old_secret_expires_in_seconds": 60},
                                       headers=admin)).json()
        assert len(third["secrets"]) == 2
        expect_error(await _exchange(api, old), 401, "INVALID_TOKEN")
        assert (await _exchange(api, new)).status_code == 200
        assert (await _exchange(api, third["secret"])).status_code == 200
        # Retiring at once.
        fourth = (await api.client.post(f"{KEYS}/{made['id']}/rotate", json={"old_secret_expires_in_seconds": 0},
                                        headers=admin)).json()
        assert len(fourth["secrets"]) == 1
        for gone in (new, third["secret"]):
            expect_error(await _exchange(api, gone), 401, "INVALID_TOKEN")
        assert (await _exchange(api, fourth["secret"])).status_code == 200

    async def test_revoke_stops_the_key_and_its_tokens(self, api, harness, test_keys, expect_error) -> None:
        admin = test_keys.staff_headers()
        made = await _create(api, admin)
        token = {"Authorization": f"Bearer {(await _exchange(api, made['secret'])).json()['access_token']}"}
        assert (await api.client.get("/api/v1/staff/customers", headers=token)).status_code == 200
        revoked = (await api.client.post(f"{KEYS}/{made['id']}/revoke", headers=admin)).json()
        assert revoked["revoked_at"] is not None
        expect_error(await _exchange(api, made["secret"]), 401, "INVALID_TOKEN")
        await harness.drain()  # identity.token_revoked for the key's id
        expect_error(await api.client.get("/api/v1/staff/customers", headers=token), 401, "INVALID_TOKEN")
        expect_error(await api.client.post(f"{KEYS}/{made['id']}/rotate", headers=admin), 404, "API_KEY_NOT_FOUND")
        access = (await api.client.get(f"/internal/users/{made['id']}/access", headers=SERVICE)).json()
        assert access == {"id": made["id"], "is_active": False, "roles": ["staff", "support"]}
        expect_error(await api.client.get(f"{KEYS}/{uuid.uuid4()}", headers=admin), 404, "API_KEY_NOT_FOUND")


async def test_secrets_never_reach_the_logs(api, test_keys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    admin = test_keys.staff_headers()
    made = await _create(api, admin)
    rotated = (await api.client.post(f"{KEYS}/{made['id']}/rotate", headers=admin)).json()
    for secret in (made["secret"], rotated["secret"], "atk_live_unknown"):
        await _exchange(api, secret)
    assert "/internal/api-keys/exchange" in caplog.text  # the access log saw the exchanges
    for secret in (made["secret"], rotated["secret"], "atk_live_unknown"):
        assert secret not in caplog.text


async def test_a_revocation_is_marked_in_the_shared_redis_after_its_commit(start_identity, test_keys,
                                                                         redis_url: str) -> None:
    """The gateways read this mark before they reuse a key's exchange: with the broker down, a revoked
    key stops there at once (docs/security.md, "API keys")."""
    from atelier_common.denylist import SharedRevocations
    from atelier_common.redisguard import RedisGuard

    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    marks = SharedRevocations(redis_url, RedisGuard(redis_url), key_prefix=prefix)
    async with start_identity(redis_url=redis_url, redis_key_prefix=prefix) as api:
        admin = test_keys.staff_headers()
        made, other = await _create(api, admin), await _create(api, admin, name="Books")
        assert await marks.revoked_at(made["id"]) is None
        before = datetime.now(UTC).timestamp()
        assert (await api.client.post(f"{KEYS}/{made['id']}/revoke", headers=admin)).status_code == 200
        at = await marks.revoked_at(made["id"])
        assert at is not None and before <= at <= datetime.now(UTC).timestamp()
        assert await marks.revoked_at(other["id"]) is None
        # Kept as long as a token the key was exchanged for may live (5 minutes, or longer access tokens).
        ttl = await marks._redis.ttl(f"{prefix}revoked-subject:{made['id']}")
        assert 300 <= ttl <= 16 * 60
    marks.close()
