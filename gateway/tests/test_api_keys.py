"""API keys at the edge: exchanged with identity for an access token, which is what services get;
the exchange kept briefly and dropped once the key is revoked."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from atelier_common.contracts.identity import TokenRevoked
from atelier_common.errors import ServiceUnavailable
from atelier_common.events import Envelope
from atelier_testing import assert_error, poll_until

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


class TestRevocationWithTheBrokerDown:
    """Identity marks a revoked key in the install's Redis after its commit; the gateway reads the mark
    before it reuses an exchange, so the key stops at once though no `identity.token_revoked` is heard."""

    @staticmethod
    def _marks(redis_url: str, prefix: str):
        from atelier_common.denylist import SharedRevocations
        from atelier_common.redisguard import RedisGuard

        return SharedRevocations(redis_url, RedisGuard(redis_url), key_prefix=prefix)

    async def test_a_marked_key_stops_at_its_next_request(self, start_gateway, redis_url: str) -> None:
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        marks = self._marks(redis_url, prefix)
        async with start_gateway(redis_url=redis_url, redis_key_prefix=prefix,
                                 api_key_revocation_check_seconds=0) as gateway:
            key_id = _register(gateway)
            headers = {"Authorization": f"Bearer {SECRET}"}
            assert (await gateway.client.get("/api/v1/staff/orders", headers=headers)).status_code == 200
            # Identity revokes it (no event: the broker is down) and marks it after the commit.
            gateway.services["identity"].state.api_keys.clear()
            assert await marks.mark(str(key_id), datetime.now(UTC).timestamp(), keep_seconds=300)
            assert_error(await gateway.client.get("/api/v1/staff/orders", headers=headers), 401, "INVALID_TOKEN")
            assert _exchanges(gateway) == 2  # the kept exchange was dropped and identity refused
        marks.close()

    async def test_by_default_a_marked_key_stops_within_the_check_interval(self, start_gateway,
                                                                          redis_url: str) -> None:
        """The default reads the mark once a second per kept exchange, not per request: a busy key
        costs one GET a second, and a revoked one stops within that second."""
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        marks = self._marks(redis_url, prefix)
        async with start_gateway(redis_url=redis_url, redis_key_prefix=prefix) as gateway:
            auth = gateway.app.state.gateway.auth
            assert auth.revocation_check_seconds == 1.0
            reads = 0
            read = auth.revocations.revoked_at

            async def counted(subject: str) -> float | None:
                nonlocal reads
                reads += 1
                return await read(subject)

            auth.revocations.revoked_at = counted
            key_id = _register(gateway)
            headers = {"Authorization": f"Bearer {SECRET}"}
            statuses = {(await gateway.client.get("/api/v1/staff/orders", headers=headers)).status_code
                        for _ in range(20)}
            assert statuses == {200} and reads <= 1 and _exchanges(gateway) == 1
            gateway.services["identity"].state.api_keys.clear()
            assert await marks.mark(str(key_id), datetime.now(UTC).timestamp(), keep_seconds=300)

            async def refused() -> bool | None:
                r = await gateway.client.get("/api/v1/staff/orders", headers=headers)
                return r.status_code == 401 or None

            started = time.monotonic()
            await poll_until(refused, timeout=10, message="the marked key refused")
            assert time.monotonic() - started < 2.5
        marks.close()

    async def test_a_mark_older_than_the_exchange_costs_no_exchange(self, start_gateway, redis_url: str) -> None:
        """A token issued after the mark (no key is issued one once revoked: another key of the same
        id cannot be, so only the clock decides) is reused as usual: one GET per request, no exchange."""
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        marks = self._marks(redis_url, prefix)
        async with start_gateway(redis_url=redis_url, redis_key_prefix=prefix,
                                 api_key_revocation_check_seconds=0) as gateway:
            key_id = _register(gateway)
            assert await marks.mark(str(key_id), datetime.now(UTC).timestamp() - 30, keep_seconds=300)
            headers = {"Authorization": f"Bearer {SECRET}"}
            statuses = {(await gateway.client.get("/api/v1/staff/orders", headers=headers)).status_code
                        for _ in range(5)}
            assert statuses == {200} and _exchanges(gateway) == 1
        marks.close()

    async def test_redis_out_keeps_the_exchange_for_its_minute(self, start_gateway) -> None:
        """Redis unreachable (and the broker down): the kept exchange is used, within its bound
        (`API_KEY_CACHE_SECONDS`); never a 500, never an exchange per request."""
        async with start_gateway(redis_url="redis://127.0.0.1:9/0", redis_timeout_seconds=0.05,
                                 api_key_revocation_check_seconds=0) as gateway:
            _register(gateway)
            headers = {"Authorization": f"Bearer {SECRET}"}
            statuses = {(await gateway.client.get("/api/v1/staff/orders", headers=headers)).status_code
                        for _ in range(5)}
            assert statuses == {200} and _exchanges(gateway) == 1

    async def test_without_redis_the_jwt_path_reads_no_mark(self, gateway) -> None:
        assert gateway.app.state.gateway.auth.revocations is None


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
