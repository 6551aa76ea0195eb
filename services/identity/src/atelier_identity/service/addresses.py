"""Addresses (S1's rules, S0's anonymous owners): at most N per owner, unique labels, one primary.

Every change first locks the owner's address book, so the count, the labels and the primary
are checked and changed by one transaction at a time (ten parallel creations leave ten). The use
case holds rows (`rows.AddressRow`), read after the lock; each change is a statement by id
(`AddressRepository`), and the row answered is the one read with the change applied. The reads
that only answer the API are `AddressQueries`'.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.auth import Principal
from atelier_identity import domain
from atelier_identity.context import IdentityContext
from atelier_identity.errors import AddressLabelExists, AddressLimitReached, AddressNotFound, LastAddress
from atelier_identity.queries import AddressQueries
from atelier_identity.repository import AddressRepository
from atelier_identity.rows import AddressRow
from atelier_identity.schemas import AddressCreate, AddressUpdate
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase

# Fields copied as they are from a create or update body.
_PLAIN_FIELDS = ("type", "first_name", "last_name", "company", "address_line_1", "address_line_2", "city", "state",
                 "postal_code", "country", "phone", "email")


class AddressService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.limit = context.settings.address_limit
        self.addresses = AddressRepository(session)

    async def page(self, principal: Principal, *, limit: int, offset: int) -> tuple[int, list[AddressRow]]:
        return await AddressQueries(self.session).page(principal.owner_id, limit=limit, offset=offset)

    async def get(self, principal: Principal, address_id: uuid.UUID) -> AddressRow:
        return await self._read(address_id, principal.owner_id)

    async def get_for_owner(self, address_id: uuid.UUID, owner_id: uuid.UUID) -> tuple[AddressRow, str | None]:
        """For other services (orders' snapshots): the address if `owner_id` owns it, and the
        owner's tax number (kept for invoices; None: none given, or an anonymous owner)."""
        found = await AddressQueries(self.session).one(address_id, owner_id)
        if found is None:
            raise AddressNotFound()
        return found

    async def create(self, principal: Principal, data: AddressCreate) -> AddressRow:
        # A guest checkout's first step: the book's lock, its labels, the INSERT.
        owner = principal.owner_id
        await self.addresses.lock_book(owner, anonymous=principal.user_id is None)
        existing = await self.addresses.labels(owner)
        if len(existing) >= self.limit:
            raise AddressLimitReached(self.limit)
        taken = [label for label, _ in existing]
        address_type = data.type or "shipping"
        label = data.label or domain.default_label(address_type, taken)
        if domain.unique_label(label, taken) != label:
            raise AddressLabelExists()
        # S1: the first address is the primary one; a later one only when asked.
        primary = not existing or data.is_primary is True
        if primary and existing:
            await self.addresses.clear_primary(owner)
        created_at = now()
        address = AddressRow(owner_id=owner, label=label, is_primary=primary, created_at=created_at,
                             updated_at=created_at, **self._fields(data, type=address_type))
        await self.addresses.insert(address)
        return address

    async def update(self, principal: Principal, address_id: uuid.UUID, data: AddressUpdate) -> AddressRow:
        owner = principal.owner_id
        await self.addresses.lock_book(owner, anonymous=principal.user_id is None)
        book = await self.addresses.books_oldest_first(owner)
        address = _find(book, address_id)
        changes = self._fields(data)
        if data.label is not None and data.label != address.label:
            others = [a.label for a in book if a.id != address.id]
            if domain.unique_label(data.label, others) != data.label:
                raise AddressLabelExists()
            changes["label"] = data.label
        # `is_primary: false` changes nothing: an owner always has one primary; another one is chosen instead.
        if data.is_primary and not address.is_primary:
            await self.addresses.clear_primary(owner)
            changes["is_primary"] = True
        return await self._change(address, changes)

    async def set_primary(self, principal: Principal, address_id: uuid.UUID) -> AddressRow:
        owner = principal.owner_id
        await self.addresses.lock_book(owner, anonymous=principal.user_id is None)
        address = _find(await self.addresses.books_oldest_first(owner), address_id)
        if address.is_primary:
            return address
        await self.addresses.clear_primary(owner)
        return await self._change(address, {"is_primary": True})

    async def delete(self, principal: Principal, address_id: uuid.UUID) -> None:
        owner = principal.owner_id
        await self.addresses.lock_book(owner, anonymous=principal.user_id is None)
        book = await self.addresses.books_oldest_first(owner)
        address = _find(book, address_id)
        remaining = [a for a in book if a.id != address.id]
        if not remaining:
            raise LastAddress()
        await self.addresses.delete(address.id)
        if address.is_primary:
            # S1: deleting the primary promotes the oldest remaining address (after the delete: one primary).
            await self._change(remaining[0], {"is_primary": True})

    async def adopt(self, *, from_owner: uuid.UUID, to_owner: uuid.UUID) -> int:
        """A user takes over an anonymous visitor's addresses (the claim), within the limit.

        The user's own addresses and primary stay; the oldest anonymous ones fill the book up to
        the limit (a clashing label gets a suffix); any beyond it stay with the anonymous id.
        """
        await self.addresses.lock_books(from_owner, to_owner, anonymous=(from_owner,))
        # Both books in one read, after the lock (a locking read that joined them would see the
        # rows of its snapshot from before the wait).
        books = await self.addresses.books_oldest_first(from_owner, to_owner)
        mine = [a for a in books if a.owner_id == to_owner]
        incoming = [a for a in books if a.owner_id == from_owner]
        adopted = domain.addresses_to_adopt(len(mine), incoming, self.limit)
        if not adopted:
            return 0
        taken = [a.label for a in mine]
        has_primary = any(a.is_primary for a in mine)
        for address in adopted:
            address.label = domain.unique_label(address.label, taken)
            taken.append(address.label)
            address.owner_id = to_owner
            address.is_primary = address.is_primary and not has_primary
            has_primary = has_primary or address.is_primary
        if not has_primary:
            # The anonymous primary stayed behind: the oldest adopted address leads instead.
            adopted[0].is_primary = True
        await self.addresses.move(adopted)
        left = incoming[len(adopted):]
        if left and not any(a.is_primary for a in left):
            # Written after the move: the anonymous primary must have left before another takes its place.
            left[0].is_primary = True
            await self.addresses.make_primary(left[0].id)
        return len(adopted)

    async def erase_owner(self, owner_id: uuid.UUID) -> None:
        await self.addresses.delete_all_for_owner(owner_id)

    # -- helpers ---------------------------------------------------------------------------------

    async def _read(self, address_id: uuid.UUID, owner_id: uuid.UUID) -> AddressRow:
        found = await AddressQueries(self.session).one(address_id, owner_id)
        if found is None:
            raise AddressNotFound()
        return found[0]

    async def _change(self, address: AddressRow, changes: dict[str, Any]) -> AddressRow:
        """Write `changes` to `address`, stamped now; the row as it is now."""
        changes = {**changes, "updated_at": now()}
        await self.addresses.change(address.id, changes)
        return replace(address, **changes)

    @staticmethod
    def _fields(data: AddressCreate | AddressUpdate, **overrides: Any) -> dict[str, Any]:
        """The plain fields that were sent, with S3's one `full_name` split into first and last."""
        sent = data.model_dump(include=set(_PLAIN_FIELDS) | {"full_name"}, exclude_unset=True)
        full_name = sent.pop("full_name", None)
        if full_name is not None and "first_name" not in sent:
            sent["first_name"], sent["last_name"] = domain.split_full_name(full_name)
        for field in ("last_name", "state", "postal_code"):
            # Kept as empty strings: S1 and S3 clients read them as text.
            if field in sent and sent[field] is None:
                sent[field] = ""
        return {**sent, **overrides}


def _find(book: Sequence[AddressRow], address_id: uuid.UUID) -> AddressRow:
    """The address `address_id` of an owner's book; another owner's is not found."""
    for address in book:
        if address.id == address_id:
            return address
    raise AddressNotFound()
