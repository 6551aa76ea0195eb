"""`atelier_identity.imports.import_accounts`: accounts and addresses moved in, keyed by the source's
primary keys (runs on SQLite, and on PostgreSQL when it is configured)."""

from __future__ import annotations

import base64
import hashlib

from sqlmodel import func, select

from atelier_identity.imports import ImportedAddress, ImportedUser, import_accounts
from atelier_identity.models import Address, User
from atelier_identity.security import PasswordHasher

OLD = "an old Django password"


def pbkdf2(password: str) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), b"salty", 1_000)
    return f"pbkdf2_sha256$1000$salty${base64.b64encode(digest).decode()}"


USERS = [ImportedUser(source_pk="1", email="Old@Example.com", password_hash=pbkdf2(OLD), first_name="Old",
                      email_verified=True),
         ImportedUser(source_pk="2", email="nopass@example.com", password_hash="!unusable", email_verified=True)]
ADDRESSES = [ImportedAddress(source_pk="10", user_source_pk="1", label="Home", first_name="Old",
                             address_line_1="1 Main St", city="Sofia", country="Bulgaria", is_primary=True),
             ImportedAddress(source_pk="11", user_source_pk="99", label="Home", first_name="Nobody",
                             address_line_1="2 Main St", city="Sofia", country="Bulgaria")]


async def _run(api, *, dry_run: bool = False, users=USERS, addresses=ADDRESSES):  # type: ignore[no-untyped-def]  # a test helper over untyped fixtures
    return await import_accounts(api.h.runtime.db, users, addresses, source="marbelle", storefront="marbelle",
                                 passwords=PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1),
                                 dry_run=dry_run)


async def _count(api, table) -> int:  # type: ignore[no-untyped-def]  # a test helper over untyped fixtures
    async with api.h.runtime.db.read_only() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


class TestImportAccounts:
    async def test_imports_then_signs_in_with_the_old_password_and_rehashes(self, api) -> None:
        outcomes = await _run(api)
        assert [(o.model, o.pk, o.status) for o in outcomes] == [
            ("user", "1", "imported"), ("user", "2", "imported"), ("address", "10", "imported"),
            ("address", "11", "refused")]
        response = await api.login("old@example.com", OLD)
        assert response.status_code == 200, response.text
        async with api.h.runtime.db.read_only() as session:
            user = (await session.exec(select(User).where(User.email == "old@example.com"))).one()
            nopass = (await session.exec(select(User).where(User.email == "nopass@example.com"))).one()
        assert user.password_hash.startswith("$argon2id$") and user.signup_storefront == "marbelle"
        assert nopass.password_hash is None and not nopass.has_password

    async def test_a_second_run_skips_everything(self, api) -> None:
        await _run(api)
        again = await _run(api)
        assert [o.status for o in again] == ["skipped", "skipped", "skipped", "refused"]
        assert (await _count(api, User), await _count(api, Address)) == (2, 1)

    async def test_a_dry_run_writes_nothing(self, api) -> None:
        outcomes = await _run(api, dry_run=True)
        assert [o.status for o in outcomes] == ["imported", "imported", "imported", "refused"]
        assert (await _count(api, User), await _count(api, Address)) == (0, 0)

    async def test_an_email_already_used_is_refused_and_the_rest_imported(self, api) -> None:
        await api.verified_user("old@example.com")
        outcomes = await _run(api)
        assert (outcomes[0].status, outcomes[1].status) == ("refused", "imported")
        assert "already used" in outcomes[0].reason
        assert outcomes[2].status == "refused"  # its user was refused

    async def test_a_dump_larger_than_one_in_list_is_read_in_chunks(self, api) -> None:
        many = [ImportedUser(source_pk=str(n), email=f"user{n}@example.com") for n in range(1, 1_201)]
        assert {o.status for o in await _run(api, users=many, addresses=[])} == {"imported"}
        assert {o.status for o in await _run(api, users=many, addresses=[])} == {"skipped"}
        assert await _count(api, User) == 1_200

    async def test_two_rows_with_one_primary_key_are_both_refused(self, api) -> None:
        # Bob's account got Alice's name and password (the email of one, the rest of the other).
        alice = ImportedUser(source_pk="7", email="alice@example.com", password_hash=pbkdf2("alice's"),
                             first_name="Alice")
        bob = ImportedUser(source_pk="7", email="bob@example.com", password_hash=pbkdf2("bob's"), first_name="Bob")
        home = ImportedAddress(source_pk="10", user_source_pk="7", label="Home", first_name="?",
                               address_line_1="1 Main St", city="Sofia", country="Bulgaria")
        outcomes = await _run(api, users=[alice, bob], addresses=[home, home])
        assert [(o.model, o.pk, o.status) for o in outcomes] == [
            ("user", "7", "refused"), ("user", "7", "refused"), ("address", "10", "refused"),
            ("address", "10", "refused")]
        assert all("same primary key" in o.reason for o in outcomes), outcomes
        assert (await _count(api, User), await _count(api, Address)) == (0, 0)

    async def test_a_hash_asking_more_work_than_the_caps_is_refused(self, api) -> None:
        costly = ImportedUser(source_pk="3", email="costly@example.com",
                              password_hash="pbkdf2_sha256$999999999$salty$" + "A" * 44)
        [outcome] = await _run(api, users=[costly], addresses=[])
        assert outcome.status == "refused" and "over the cap of 3,000,000" in outcome.reason, outcome
        assert await _count(api, User) == 0
