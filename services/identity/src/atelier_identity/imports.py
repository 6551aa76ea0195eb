"""Accounts and addresses moved in from another product (`atelier import`).

An entry point like `create_user`: it opens its own transaction (one per batch). Each row is keyed
by its source's primary key in `import_ref`, so a second run skips what the first imported. A row
that cannot be imported is refused with a reason and the others go on; every check runs before
anything is written, so a refused user is never half there.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import email_validator
from pydantic import BaseModel
from sqlalchemy import insert
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import Database
from atelier_common.imports import (
    DUPLICATE_KEY,
    RowOutcome,
    chunks,
    import_transaction,
    imported_ids_of,
    known_refs,
    repeated,
)
from atelier_identity import domain
from atelier_identity.models import Address, AddressBook, IdentityImportRef, User
from atelier_identity.security import PasswordHasher
from atelier_identity.service._shared import now

_BULK = 5_000
USER_MODEL = "user"
ADDRESS_MODEL = "address"


class ImportedUser(BaseModel):
    source_pk: str
    email: str
    # The source's stored hash (a Django format); None or "!…" (unusable): signs in by magic link or reset.
    password_hash: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    company_name: str | None = None
    is_staff: bool = False
    is_active: bool = True
    email_verified: bool = False
    joined_at: datetime | None = None


class ImportedAddress(BaseModel):
    source_pk: str
    user_source_pk: str
    label: str
    type: str = "shipping"
    first_name: str
    last_name: str = ""
    company: str | None = None
    address_line_1: str
    address_line_2: str | None = None
    city: str
    state: str = ""
    postal_code: str = ""
    country: str
    phone: str | None = None
    is_primary: bool = False


async def import_accounts(db: Database, users: Sequence[ImportedUser], addresses: Sequence[ImportedAddress], *,
                          source: str, storefront: str, passwords: PasswordHasher,
                          dry_run: bool = False) -> list[RowOutcome]:
    """Create each account not imported before (refusing a taken email, or a hash no hasher reads or
    that asks more work than the caps allow),
    then each address for the account its source user became; `dry_run` checks everything the same
    way, against the real database, and writes nothing."""
    outcomes: list[RowOutcome] = []
    async with import_transaction(db, dry_run=dry_run) as session:
        outcomes = await _users(session, users, source, storefront, passwords)
        await session.flush()
        outcomes += await _addresses(session, addresses, source)
    return outcomes


async def imported_ids(db: Database, source: str, model: str, keys: Sequence[str]) -> dict[str, uuid.UUID]:
    """What each source key became (users: the account id), for the rows other services import
    for them: a customer's credits, books and orders."""
    return await imported_ids_of(db, IdentityImportRef, source, model, keys)


async def _users(session: AsyncSession, rows: Sequence[ImportedUser], source: str, storefront: str,
                 passwords: PasswordHasher) -> list[RowOutcome]:
    known = await known_refs(session, IdentityImportRef, source, USER_MODEL, [row.source_pk for row in rows])
    twice = repeated(row.source_pk for row in rows)
    emails = {row.source_pk: _email(row.email) for row in rows}
    taken: set[str] = set()
    for chunk in chunks([email for email in emails.values() if email]):
        taken.update(e for e in (await session.exec(select(User.email).where(col(User.email).in_(chunk)))).all() if e)
    outcomes: list[RowOutcome] = []
    users: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    for row in rows:
        email = emails[row.source_pk]
        if row.source_pk in twice:  # else one account would get one row's email, the other's password
            outcomes.append(RowOutcome(USER_MODEL, row.source_pk, "refused", DUPLICATE_KEY))
            continue
        if row.source_pk in known:
            outcomes.append(RowOutcome(USER_MODEL, row.source_pk, "skipped", "already imported"))
            continue
        refusal = _user_refusal(row, email, taken, passwords)
        if refusal or email is None:
            outcomes.append(RowOutcome(USER_MODEL, row.source_pk, "refused", refusal or "invalid email"))
            continue
        taken.add(email)
        stamp = row.joined_at or now()
        hashed = row.password_hash if row.password_hash and passwords.usable(row.password_hash) else None
        user_id = uuid.uuid4()
        users.append({"id": user_id, "email": email, "password_hash": hashed, "first_name": row.first_name[:150],
                      "last_name": row.last_name[:150], "phone": row.phone or None,
                      "company_name": row.company_name or None, "is_staff": row.is_staff, "is_active": row.is_active,
                      "signup_storefront": storefront, "email_verified_at": stamp if row.email_verified else None,
                      "created_at": stamp, "updated_at": now()})
        refs.append({"source": source, "model": USER_MODEL, "source_pk": row.source_pk, "target_id": user_id})
        outcomes.append(RowOutcome(USER_MODEL, row.source_pk, "imported"))
    await _insert(session, User, users)
    await _insert(session, IdentityImportRef, refs)
    return outcomes


def _email(raw: str) -> str | None:
    try:
        return domain.normalise_email(email_validator.validate_email(raw, check_deliverability=False).normalized)
    except email_validator.EmailNotValidError:
        return None


def _user_refusal(row: ImportedUser, email: str | None, taken: set[str], passwords: PasswordHasher) -> str | None:
    if email is None:
        return f"invalid email {row.email!r}"
    if email in taken:
        return f"email {email} is already used by another account"
    if row.password_hash and not row.password_hash.startswith("!"):
        # A format no hasher reads, or more work per sign-in than the caps allow.
        refusal = passwords.refusal(row.password_hash)
        if refusal:
            return refusal
    if row.phone and len(row.phone) > 32:
        return "phone longer than 32 characters"
    return None


async def _addresses(session: AsyncSession, rows: Sequence[ImportedAddress], source: str) -> list[RowOutcome]:
    # A bulk admin path, run once per move: it keeps the model (its columns, and the defaults
    # `_insert` reads from one instance) where the checkout's paths use `rows.AddressRow`.
    known = await known_refs(session, IdentityImportRef, source, ADDRESS_MODEL, [row.source_pk for row in rows])
    owners = await known_refs(session, IdentityImportRef, source, USER_MODEL, [row.user_source_pk for row in rows])
    books: set[uuid.UUID] = set()
    existing: list[tuple[uuid.UUID, str, bool]] = []
    for chunk in chunks(list(set(owners.values()))):
        books.update((await session.exec(select(AddressBook.owner_id).where(col(AddressBook.owner_id).in_(chunk)))).all())
        existing += (await session.exec(select(Address.owner_id, Address.label, Address.is_primary).where(
            col(Address.owner_id).in_(chunk)))).all()
    primaries = {owner for owner, _, is_primary in existing if is_primary}
    labels = {(owner, label) for owner, label, _ in existing}
    outcomes: list[RowOutcome] = []
    new_books: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    twice = repeated(row.source_pk for row in rows)
    for row in rows:
        owner = owners.get(row.user_source_pk)
        if row.source_pk in twice:
            outcomes.append(RowOutcome(ADDRESS_MODEL, row.source_pk, "refused", DUPLICATE_KEY))
            continue
        if row.source_pk in known:
            outcomes.append(RowOutcome(ADDRESS_MODEL, row.source_pk, "skipped", "already imported"))
            continue
        if owner is None:
            outcomes.append(RowOutcome(ADDRESS_MODEL, row.source_pk, "refused",
                                       f"its user {row.user_source_pk} was not imported"))
            continue
        if (owner, row.label) in labels:
            outcomes.append(RowOutcome(ADDRESS_MODEL, row.source_pk, "refused",
                                       f"the user already has an address labelled {row.label!r}"))
            continue
        if owner not in books:
            new_books.append({"owner_id": owner})
            books.add(owner)
        # One primary per owner (the table enforces it): a second one comes in as a plain address.
        primary = row.is_primary and owner not in primaries
        if primary:
            primaries.add(owner)
        labels.add((owner, row.label))
        address_id = uuid.uuid4()
        addresses.append({"id": address_id, "owner_id": owner, "label": row.label[:50], "type": row.type,
                          "first_name": row.first_name[:150], "last_name": row.last_name[:150],
                          "company": row.company or None, "address_line_1": row.address_line_1,
                          "address_line_2": row.address_line_2 or None, "city": row.city[:120],
                          "state": row.state[:120], "postal_code": row.postal_code[:20], "country": row.country[:100],
                          "phone": row.phone or None, "is_primary": primary})
        refs.append({"source": source, "model": ADDRESS_MODEL, "source_pk": row.source_pk, "target_id": address_id})
        outcomes.append(RowOutcome(ADDRESS_MODEL, row.source_pk, "imported"))
    await _insert(session, AddressBook, new_books)
    await _insert(session, Address, addresses)
    await _insert(session, IdentityImportRef, refs)
    return outcomes


async def _insert(session: AsyncSession, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Many rows in a few statements (executemany): 100,000 accounts in seconds, where building
    an ORM object per row costs more than the insert. Columns a row leaves out take the model's
    defaults, read once from one instance built the usual way (which also validates the first row)."""
    if not rows:
        return
    template = model(**rows[0]).model_dump()
    stamp = now()
    table = table_of(model)
    complete = [{**template, "created_at": stamp, "updated_at": stamp, **row} for row in rows]
    names = {column.name for column in table.c}
    for start in range(0, len(complete), _BULK):
        await session.execute(insert(table), [{k: v for k, v in row.items() if k in names}
                                              for row in complete[start:start + _BULK]])
