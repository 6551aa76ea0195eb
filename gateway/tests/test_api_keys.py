"""API keys at the edge: exchanged with identity for an access token, which is what services get;
the exchange kept briefly and dropped once the key is revoked."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from atelier_common.contracts.identity import TokenRevoked
from atelier_common.errors import ServiceUnavailable
from atelier_common.events import Envelope
from atelier_testing import assert_error

SECRET = "atk_live_" + "s3cr3t" * 7


def _register(gateway, roles=("support",), storefronts=("default",)) -> uuid.UUID:
    key_id = uuid.uuid4()
    gateway.services["identity"].state.api_keys[SECRET] = {"id": key_id, "roles": list(roles),
                                                           "storefronts": list(storefronts)}
    return key_id


def _exchanges(gateway) -> int:
    return int(gateway.services["identity"].state.exchanges)


class TestApiKeys:
    async def test_services_get_the_exchanged_token_never_the_key(self, gateway) -> None:
        key_id = _register(gateway)
        r = await gateway.client.get("/api/v1/staff/orders", headers={"Authorization": f"Bearer {SECRET}"})
        assert r.status_code == 200, r.text
        forwarded = r.json()["headers"]["authorization"]
        assert SECRET not in str(r.json())
        claims = jwt.decode(forwarded.removeprefix("Bearer "), options={"verify_signature": False})
        assert claims["sub"] == str(key_id) and claims["roles"] == ["staff", "support"]
        assert claims["sfs"] == ["default"] and claims["email"] == "api-key:erp"

    async def test_the_exchange_is_kept_by_the_secrets_hash(self, gateway, caplog) -> None:
        caplog.set_level(logging.DEBUG)
        _register(gateway)
        headers = {"Authorization": f"Bearer {SECRET}"}
        tokens = {(await gateway.client.get("/api/v1/staff/orders", headers=headers)).json()["headers"]["authorization"]
                  for _ in range(5)}
        assert len(tokens) == 1 and _exchanges(gateway) == 1
        kept = gateway.app.state.gateway.auth._exchanged
        assert SECRET not in str(kept) and len(kept) == 1
        assert "/api/v1/staff/orders" in caplog.text and SECRET not in caplog.text  # the access log's lines

    async def test_an_unknown_key_is_refused_as_a_bad_token(self, gateway) -> None:
        r = await gateway.client.get("/api/v1/staff/orders", headers={"Authorization": f"Bearer {SECRET}"})
        assert_error(r, 401, "INVALID_TOKEN")
        assert SECRET not in r.text

    async def test_a_revoked_key_is_asked_again_and_refused(self, gateway) -> None:
        key_id = _register(gateway)
        headers = {"Authorization": f"Bearer {SECRET}"}
        assert (await gateway.client.get("/api/v1/staff/orders", headers=headers)).status_code == 200
        # Identity revokes it: it refuses the secret, and announces the key's tokens as denied.
        gateway.services["identity"].state.api_keys.clear()
        now = datetime.now(UTC)
        await gateway.bus.publish([Envelope.wrap(TokenRevoked(user_id=key_id, all_before=now,
                                                              expires_at=now + timedelta(minutes=15)),
                                                 producer="identity")])
        await gateway.bus.drain()
        assert_error(await gateway.client.get("/api/v1/staff/orders", headers=headers), 401, "INVALID_TOKEN")
        assert _exchanges(gateway) == 2

    async def test_identity_unreachable_is_503_not_a_pass(self, gateway) -> None:
        _register(gateway)

        async def unavailable(_secret: str):
            raise ServiceUnavailable("identity down")

        gateway.app.state.gateway.auth.exchanger = unavailable
        r = await gateway.client.get("/api/v1/staff/orders", headers={"Authorization": f"Bearer {SECRET}"})
        assert_error(r, 503, "SERVICE_UNAVAILABLE")

    async def test_exchanges_count_as_credential_attempts_of_the_address(self, gateway) -> None:
        """Made-up keys cost identity one look-up each: counted like sign-ins (3 a minute here)."""
        statuses = [(await gateway.client.get("/api/v1/staff/orders",
                                              headers={"Authorization": f"Bearer atk_live_guess{n}"})).status_code
                    for n in range(5)]
        assert statuses == [401, 401, 401, 429, 429] and _exchanges(gateway) == 3

    async def test_a_kept_exchange_is_not_an_attempt(self, gateway) -> None:
        _register(gateway)
        statuses = {(await gateway.client.get("/api/v1/staff/orders", headers={"Authorization": f"Bearer {SECRET}"}
                                              )).status_code for _ in range(10)}
        assert statuses == {200} and _exchanges(gateway) == 1


class TestCachedAnswers:
    async def test_a_key_limited_to_some_storefronts_never_shares_staffs_cached_answers(self, gateway) -> None:
        """Staff entries show every storefront's products; such a key reads as shoppers do, so it
        gets entries of its own. A key of every storefront is staff as before."""
        from atelier_common.cache.entries import LIMITED_KEY_AUDIENCE, STAFF_AUDIENCE
        from atelier_gateway.pipeline import RequestHeaders

        edge = gateway.app.state.gateway.proxy.edge
        scope = {"type": "http", "method": "GET", "path": "/api/v1/products", "raw_path": b"/api/v1/products",
                 "query_string": b"", "scheme": "http", "client": ("203.0.113.7", 5000),
                 "server": ("127.0.0.1", 8000)}
        audiences = []
        for storefronts in (("default",), ("*",)):
            _register(gateway, roles=("merchandiser",), storefronts=storefronts)
            gateway.app.state.gateway.auth._exchanged.clear()
            headers = RequestHeaders.read([(b"host", b"testserver"), (b"authorization", f"Bearer {SECRET}".encode())])
            audiences.append((await edge.derive(scope, headers)).audience)
        assert audiences == [LIMITED_KEY_AUDIENCE, STAFF_AUDIENCE]
