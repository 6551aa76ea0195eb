"""Identity's housekeeping: spent secrets, finished refresh families, old mail and abandoned
anonymous addresses go; a user's data, live secrets, owed mail and a rotated token whose family
is alive (the proof of theft) stay. SQLite, and PostgreSQL when set."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlmodel import col, select

from atelier_common.housekeeping import Housekeeper
from atelier_identity.housekeeping import sweeps
from atelier_identity.models import (
    Address,
    AddressBook,
    EmailToken,
    MagicLink,
    MailMessage,
    OAuthState,
    RefreshToken,
    User,
    WebauthnChallenge,
)

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's own "now": the sweeps compare with the real clock, and a module imported at the
    start of a long run would otherwise make a five-minute challenge look expired."""
    monkeypatch.setattr(sys.modules[__name__], "NOW", datetime.now(UTC))
DAY = timedelta(days=1)


def _address(owner_id: uuid.UUID, label: str, updated: datetime) -> Address:
    return Address(owner_id=owner_id, label=label, first_name="Ada", address_line_1="1 Lane", city="London",
                   country="GB", created_at=updated, updated_at=updated)


def _keeper(api, batch_size: int = 3) -> Housekeeper:
    runtime = api.h.runtime
    return Housekeeper(runtime.db, sweeps(runtime.context), service="identity", batch_size=batch_size)


async def _all(api, column) -> set:
    async with api.h.runtime.db.read_only() as session:
        return set((await session.exec(select(column))).all())


class TestIdentitySweeps:
    async def test_only_what_is_spent_or_abandoned_goes(self, api) -> None:
        user = User(email="kept@example.com", first_name="Kept", last_name="User")
        rows: list = [user]
        gone: dict[str, set] = {"tokens": set(), "links": set(), "states": set(), "challenges": set(),
                                "refresh": set(), "mail": set(), "addresses": set()}
        kept: dict[str, set] = {key: set() for key in gone}
        for i in range(4):  # single-use secrets: used, expired, live
            used = EmailToken(user_id=user.id, purpose="verify_email", token_hash=f"u{i}", expires_at=NOW + DAY,
                              used_at=NOW - timedelta(minutes=1))
            dead = EmailToken(user_id=user.id, purpose="reset", token_hash=f"e{i}", expires_at=NOW - timedelta(seconds=1))
            live = EmailToken(user_id=user.id, purpose="reset", token_hash=f"l{i}", expires_at=NOW + DAY)
            rows += [used, dead, live]
            gone["tokens"] |= {used.id, dead.id}
            kept["tokens"].add(live.id)
            link_dead = MagicLink(email=f"m{i}@example.com", code_hash="c", token_hash=f"md{i}",
                                  expires_at=NOW - DAY)
            link_live = MagicLink(email=f"m{i}@example.com", code_hash="c", token_hash=f"ml{i}",
                                  expires_at=NOW + DAY)
            state_used = OAuthState(state_hash=f"s{i}", provider="google", code_verifier="v", nonce="n",
                                    expires_at=NOW + DAY, used_at=NOW)
            state_live = OAuthState(state_hash=f"sl{i}", provider="google", code_verifier="v", nonce="n",
                                    expires_at=NOW + DAY)
            challenge_dead = WebauthnChallenge(nonce_hash=f"w{i}", purpose="login", challenge=b"x",
                                               expires_at=NOW - timedelta(minutes=5))
            challenge_live = WebauthnChallenge(nonce_hash=f"wl{i}", purpose="login", challenge=b"x",
                                               expires_at=NOW + timedelta(minutes=5))
            rows += [link_dead, link_live, state_used, state_live, challenge_dead, challenge_live]
            gone["links"].add(link_dead.id)
            kept["links"].add(link_live.id)
            gone["states"].add(state_used.id)
            kept["states"].add(state_live.id)
            gone["challenges"].add(challenge_dead.id)
            kept["challenges"].add(challenge_live.id)
        # Refresh families: all expired (goes); revoked an hour ago (goes); revoked a minute ago
        # (stays: access tokens issued beside it still live); an expired rotated token whose family
        # has a live successor (stays: shown again, it proves theft).
        finished, revoked, fresh_revoked, alive = (uuid.uuid4() for _ in range(4))
        families = [
            (finished, dict(expires_at=NOW - DAY, used_at=NOW - 2 * DAY), "refresh"),
            (finished, dict(expires_at=NOW - timedelta(hours=1)), "refresh"),
            (revoked, dict(expires_at=NOW + DAY, revoked_at=NOW - timedelta(hours=1)), "refresh"),
            (fresh_revoked, dict(expires_at=NOW + DAY, revoked_at=NOW - timedelta(minutes=1)), None),
            (alive, dict(expires_at=NOW - timedelta(hours=1), used_at=NOW - 2 * DAY), None),
            (alive, dict(expires_at=NOW + DAY), None),
        ]
        for n, (family, fields, bucket) in enumerate(families):
            token = RefreshToken(user_id=user.id, family_id=family, token_hash=f"r{n}", **fields)
            rows.append(token)
            (gone if bucket else kept)["refresh"].add(token.id)
        for _ in range(3):  # mail: delivered two days ago, failed two days ago, delivered now, still owed
            old_sent = MailMessage(recipient="a@example.com", kind="k", subject="s", text="t", html="h",
                                   sent_at=NOW - 2 * DAY)
            old_failed = MailMessage(recipient="a@example.com", kind="k", subject="s", text="t", html="h",
                                     failed_at=NOW - 2 * DAY)
            recent = MailMessage(recipient="a@example.com", kind="k", subject="s", text="t", html="h",
                                 sent_at=NOW - timedelta(hours=1))
            owed = MailMessage(recipient="a@example.com", kind="k", subject="s", text="t", html="h",
                               created_at=NOW - 5 * DAY)
            rows += [old_sent, old_failed, recent, owed]
            gone["mail"] |= {old_sent.id, old_failed.id}
            kept["mail"] |= {recent.id, owed.id}
        # Addresses: abandoned anonymous visitors (all untouched for 31 days) go with their book; an
        # anonymous visitor with one recent change keeps both addresses; a user's old address stays.
        old, recent_change = NOW - timedelta(days=31), NOW - timedelta(days=2)
        for _ in range(4):
            visitor = uuid.uuid4()
            rows.append(AddressBook(owner_id=visitor, created_at=old, anonymous=True))
            for label in ("Home", "Work"):
                address = _address(visitor, label, old)
                rows.append(address)
                gone["addresses"].add(address.id)
        active = uuid.uuid4()
        active_rows = [_address(active, "Home", old), _address(active, "Work", recent_change)]
        rows += [AddressBook(owner_id=active, created_at=old, anonymous=True), *active_rows]
        users_row = _address(user.id, "Home", old - DAY * 300)
        rows += [AddressBook(owner_id=user.id, created_at=old - DAY * 300), users_row]
        kept["addresses"] |= {a.id for a in active_rows} | {users_row.id}
        async with api.h.runtime.db.transaction() as session:
            session.add(user)
            await session.flush()
            session.add_all(rows[1:])

        report = await _keeper(api).run_once()

        assert not report.failed
        assert report.removed["email_tokens"] == 8 and report.removed["magic_links"] == 4
        assert report.removed["oauth_states"] == 4 and report.removed["webauthn_challenges"] == 4
        assert report.removed["refresh_tokens"] == 3 and report.removed["mail"] == 6
        assert report.removed["anonymous_addresses"] == 4 * 3  # two addresses and a book each
        assert await _all(api, EmailToken.id) == kept["tokens"]
        assert await _all(api, MagicLink.id) == kept["links"]
        assert await _all(api, OAuthState.id) == kept["states"]
        assert await _all(api, WebauthnChallenge.id) == kept["challenges"]
        assert await _all(api, RefreshToken.id) == kept["refresh"]
        assert await _all(api, MailMessage.id) == kept["mail"]
        assert await _all(api, Address.id) == kept["addresses"]
        assert await _all(api, AddressBook.owner_id) == {active, user.id}
        assert await _all(api, User.id) == {user.id}

    async def test_a_rotated_token_still_proves_theft_after_housekeeping(self, api, expect_error) -> None:
        session = await api.signed_in()
        rotated = await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]})
        assert rotated.status_code == 200
        async with api.h.runtime.db.transaction() as db:  # the first token's own lifetime is over
            first = (await db.exec(select(RefreshToken).where(col(RefreshToken.used_at).is_not(None)))).one()
            first.expires_at = NOW - timedelta(minutes=1)
        assert (await _keeper(api).run_once()).removed["refresh_tokens"] == 0
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": session["refresh"]}),
                     401, "INVALID_TOKEN")
        # The reuse revoked the family: the current token is refused too.
        expect_error(await api.client.post("/api/v1/auth/refresh", json={"refresh": rotated.json()["refresh"]}),
                     401, "INVALID_TOKEN")

    async def test_addresses_written_meanwhile_survive(self, api, test_keys) -> None:
        old = NOW - timedelta(days=40)
        abandoned = [uuid.uuid4() for _ in range(10)]
        async with api.h.runtime.db.transaction() as session:
            for owner in abandoned:
                session.add(AddressBook(owner_id=owner, created_at=old, anonymous=True))
                session.add(_address(owner, "Home", old))
        visitors = [test_keys.anon_headers(uuid.uuid4()) for _ in range(3)]
        body = {"label": "Home", "first_name": "Ada", "address_line_1": "1 Lane", "city": "London", "country": "GB"}

        async def write(headers: dict[str, str]) -> str:
            response = await api.client.post("/api/v1/addresses", json=body, headers=headers)
            assert response.status_code == 201, response.text
            return response.json()["id"]

        results = await asyncio.gather(_keeper(api, batch_size=2).run_once(), *(write(h) for h in visitors))
        report, written = results[0], set(results[1:])
        assert report.removed["anonymous_addresses"] == 20
        assert {str(a) for a in await _all(api, Address.id)} == written


@pytest.mark.databases("postgres", why="PostgreSQL's plans")
async def test_the_anonymous_address_sweep_reads_anonymous_books_alone(api, db_backend: str) -> None:
    """#57: however many users (each with a book), the sweep reads the anonymous books through their
    partial index, never the users' books nor the users."""
    async with api.h.runtime.db.transaction() as session:
        await session.execute(text("""
            INSERT INTO "user" (id, email, first_name, last_name, is_staff, staff_roles, is_active,
                                signup_storefront, created_at, updated_at)
            SELECT md5('u' || n)::uuid, 'u' || n || '@example.com', 'U', 'N', false, '[]', true, 'default',
                   now() - interval '400 days', now() - interval '400 days'
            FROM generate_series(1, 20000) AS n"""))
        await session.execute(text("""
            INSERT INTO address_book (owner_id, created_at, anonymous)
            SELECT md5('u' || n)::uuid, now() - interval '400 days', false FROM generate_series(1, 20000) AS n
            UNION ALL
            SELECT md5('a' || n)::uuid, now() - interval '40 days', true FROM generate_series(1, 200) AS n"""))
    async with api.h.runtime.db.transaction() as session:
        await session.execute(text("ANALYZE"))
    sent: list[tuple[str, dict]] = []

    def record(_conn, _cursor, statement: str, parameters, _context, _many: bool) -> None:
        if statement.startswith("SELECT address_book.owner_id"):
            sent.append((statement, dict(parameters or {})))

    engine = api.h.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        report = await _keeper(api, batch_size=500).run_once()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert report.removed["anonymous_addresses"] == 200
    async with api.h.runtime.db.transaction() as session:
        connection = await session.connection()
        plan = "\n".join((await connection.exec_driver_sql(f"EXPLAIN {sent[0][0]}", sent[0][1])).scalars().all())
    assert "ix_address_book_anonymous_created" in plan and "Seq Scan on address_book" not in plan, plan
    assert "\"user\"" not in plan, plan
    assert len(await _all(api, AddressBook.owner_id)) == 20000
