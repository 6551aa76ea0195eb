"""Customer groups (docs/api.md#customer-groups): staff keep each storefront's groups and put
customers in them; the access token a customer gets for a storefront carries its group there
(`grp`), which is what catalog, cart and orders price by.

- Only staff put a customer in a group: nothing a customer sends (a company name) does.
- A customer is in one group per storefront at most (the token carries one): joining another
  group of the storefront leaves the first (the answer's `previous_group`).
- A bulk change is all or nothing, as Medusa's `addCustomers` is: an entry no account has
  refuses the whole change (404 `CUSTOMERS_NOT_FOUND`, naming each one), and so does a staff account.
- A membership change refuses the customer's access tokens signed before it (`TokenRevoked`,
  sessions kept): the client refreshes, and the new token carries the new group. Prices follow at once.
- Deleting a group drops its memberships; catalog's price lists naming it stay and price nobody.
- Every write is audited and announced through the outbox in its transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.identity import (
    CustomerGroupChanged,
    CustomerGroupDeleted,
    CustomerGroupMembersChanged,
    Storefront,
    TokenRevoked,
)
from atelier_identity import domain
from atelier_identity.errors import (
    CustomerGroupExists,
    CustomerGroupNotFound,
    CustomersNotFound,
    StaffNotGroupable,
    StorefrontNotInScope,
)
from atelier_identity.models import CustomerGroup, CustomerGroupMember, User
from atelier_identity.repository.customer_groups import CustomerGroupRepository
from atelier_identity.schemas.groups import CustomerGroupCreate, CustomerGroupUpdate
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.storefronts import next_revision


@dataclass(frozen=True)
class GroupView:
    group: CustomerGroup
    members: int


@dataclass(frozen=True)
class MemberChange:
    user: User
    previous_group: str | None = None


@dataclass(frozen=True)
class MembersChange:
    changed: list[MemberChange]
    unchanged: list[MemberChange]


class CustomerGroupService(IdentityUseCase):
    @property
    def groups(self) -> CustomerGroupRepository:
        return CustomerGroupRepository(self.session)

    # -- reads -----------------------------------------------------------------------------------
    # An API key limited to some storefronts (`Principal.may_touch`) finds only their groups, makes
    # none on another, and names only the customers signed up on them (docs/security.md, "API keys").

    async def all(self, storefront: str | None, staff: Principal | None = None) -> list[GroupView]:
        return [GroupView(group, count) for group, count in await self.groups.with_counts(storefront)
                if staff is None or staff.may_touch(group.storefront)]

    async def get(self, group_id: uuid.UUID, staff: Principal) -> GroupView:
        group = await self._group(group_id, staff)
        return GroupView(group, await self.groups.member_count(group.id))

    async def members(self, group_id: uuid.UUID, staff: Principal, *, limit: int,
                      offset: int) -> tuple[int, Sequence[User]]:
        await self._group(group_id, staff)
        return await self.groups.members(group_id, limit=limit, offset=offset)

    # -- groups ----------------------------------------------------------------------------------
    async def create(self, data: CustomerGroupCreate, staff: Principal, requested: Storefront) -> GroupView:
        """A group on the storefront named (else the request's), which must exist (400)."""
        storefront = await self.context.storefronts.get(data.storefront or requested.slug)
        if not staff.may_touch(storefront.slug):
            raise StorefrontNotInScope()
        at = now()
        group = CustomerGroup(storefront=storefront.slug, code=data.code, name=data.name,
                              revision=next_revision(0), created_at=at, updated_at=at)
        if not await self.groups.add_unique(group):
            raise CustomerGroupExists(details={"storefront": storefront.slug, "code": data.code})
        await self._announce(group)
        await audit.record(self.session, staff, "customer_group.create", "customer_group", group.id,
                           after=_state(group))
        return GroupView(group, 0)

    async def seed(self, storefront: str, code: str, name: str) -> bool:
        """The demo's group `code` on `storefront`, made (and announced) unless it exists; no actor to audit."""
        if any(view.group.code == code for view in await self.all(storefront)):
            return False
        at = now()
        group = CustomerGroup(storefront=storefront, code=code, name=name, revision=next_revision(0),
                              created_at=at, updated_at=at)
        if not await self.groups.add_unique(group):
            raise CustomerGroupExists(details={"storefront": storefront, "code": code})
        await self._announce(group)
        return True

    async def rename(self, group_id: uuid.UUID, data: CustomerGroupUpdate, staff: Principal) -> GroupView:
        group = await self._group(group_id, staff, lock=True)
        if data.name != group.name:
            before = _state(group)
            group.name, group.updated_at, group.revision = data.name, now(), next_revision(group.revision)
            await self._announce(group)
            await audit.record(self.session, staff, "customer_group.update", "customer_group", group.id,
                               before=before, after=_state(group))
        return GroupView(group, await self.groups.member_count(group.id))

    async def delete(self, group_id: uuid.UUID, staff: Principal) -> None:
        """The group and its memberships go; its members' tokens are refused (they pay public
        prices from their next token). Price lists naming its code stay in catalog, pricing nobody."""
        group = await self._group(group_id, staff, lock=True)
        members = await self.groups.member_ids(group.id)
        before = {**_state(group), "members": len(members)}
        await self.groups.remove(group)
        await outbox.add(self.session, CustomerGroupDeleted(storefront=group.storefront, code=group.code,
                                                            revision=next_revision(group.revision)))
        if members:
            await outbox.add(self.session, CustomerGroupMembersChanged(storefront=group.storefront, code=group.code,
                                                                       removed=members))
        await self._refresh_tokens(members)
        await audit.record(self.session, staff, "customer_group.delete", "customer_group", group.id, before=before)

    # -- members ---------------------------------------------------------------------------------
    async def assign(self, group_id: uuid.UUID, entries: Sequence[str], staff: Principal) -> MembersChange:
        """Put the accounts `entries` names (ids or e-mails) in the group; see the module doc."""
        group = await self._group(group_id, staff, lock=True)
        users = await self._customers(entries, staff)
        current = await self.groups.memberships(group.storefront, [user.id for user in users])
        previous_codes = await self.groups.codes_of_groups({m.group_id for m in current.values()} - {group.id})
        changed: list[MemberChange] = []
        unchanged: list[MemberChange] = []
        left: dict[uuid.UUID, list[uuid.UUID]] = {}
        at = now()
        for user in users:
            membership = current.get(user.id)
            if membership is not None and membership.group_id == group.id:
                unchanged.append(MemberChange(user, group.code))
                continue
            previous = None
            if membership is not None:
                previous = previous_codes.get(membership.group_id)
                left.setdefault(membership.group_id, []).append(user.id)
                membership.group_id, membership.created_at = group.id, at
            else:
                self.session.add(CustomerGroupMember(user_id=user.id, storefront=group.storefront, group_id=group.id,
                                                     created_at=at))
            changed.append(MemberChange(user, previous))
        if changed:
            await self.session.flush()
            for old_group, user_ids in left.items():
                await outbox.add(self.session, CustomerGroupMembersChanged(
                    storefront=group.storefront, code=previous_codes.get(old_group, ""), removed=user_ids))
            await self._members_changed(group, staff, "customer_group.assign", changed, added=True)
        return MembersChange(changed=changed, unchanged=unchanged)

    async def unassign(self, group_id: uuid.UUID, entries: Sequence[str], staff: Principal) -> MembersChange:
        """Take the accounts `entries` names out of the group (all or nothing, as `assign`)."""
        group = await self._group(group_id, staff, lock=True)
        users = await self._customers(entries, staff, staff_allowed=True)
        current = await self.groups.memberships(group.storefront, [user.id for user in users])
        changed = [MemberChange(user) for user in users
                   if (m := current.get(user.id)) is not None and m.group_id == group.id]
        leaving = {change.user.id for change in changed}
        unchanged = [MemberChange(user) for user in users if user.id not in leaving]
        if changed:
            await self.groups.remove_members(group.id, leaving)
            await self._members_changed(group, staff, "customer_group.unassign", changed, added=False)
        return MembersChange(changed=changed, unchanged=unchanged)

    async def unassign_one(self, group_id: uuid.UUID, user_id: uuid.UUID, staff: Principal) -> MembersChange:
        return await self.unassign(group_id, [str(user_id)], staff)

    # -- helpers ---------------------------------------------------------------------------------
    async def _group(self, group_id: uuid.UUID, staff: Principal, *, lock: bool = False) -> CustomerGroup:
        group = await self.groups.get(group_id, lock=lock)
        if group is None or not staff.may_touch(group.storefront):
            raise CustomerGroupNotFound()
        return group

    async def _customers(self, entries: Sequence[str], staff: Principal, *,
                         staff_allowed: bool = False) -> list[User]:
        """The accounts `entries` names, each once, in the order named; 404 naming every entry no
        account has (or none the caller may touch), 400 naming staff accounts (they pay no group's
        prices), before anything changes."""
        refs = domain.member_references(entries)
        users = [user for user in await self.groups.customers(refs.ids, refs.emails)
                 if domain.customer_in_scope(staff, user)]
        by_id = {user.id: user for user in users}
        by_email = {user.email: user for user in users if user.email is not None}
        missing = [str(user_id) for user_id in refs.ids if user_id not in by_id]
        missing += [email for email in refs.emails if email not in by_email]
        if missing:
            raise CustomersNotFound(missing)
        named = list({user.id: user for user in [*(by_id[i] for i in refs.ids),
                                                   *(by_email[e] for e in refs.emails)]}.values())
        if not staff_allowed and (staffers := [user.email or str(user.id) for user in named if user.staff_roles]):
            raise StaffNotGroupable(staffers)
        return named

    async def _announce(self, group: CustomerGroup) -> None:
        await outbox.add(self.session, CustomerGroupChanged(storefront=group.storefront, code=group.code,
                                                            name=group.name, revision=group.revision))

    async def _members_changed(self, group: CustomerGroup, staff: Principal, action: str,
                               changed: list[MemberChange], *, added: bool) -> None:
        user_ids = [change.user.id for change in changed]
        await outbox.add(self.session, CustomerGroupMembersChanged(
            storefront=group.storefront, code=group.code, **{"added" if added else "removed": user_ids}))
        await self._refresh_tokens(user_ids)
        await audit.record(self.session, staff, action, "customer_group", group.id, after={
            "storefront": group.storefront, "code": group.code,
            "customers": [str(user_id) for user_id in user_ids],
            **({"left": {str(c.user.id): c.previous_group for c in changed if c.previous_group}} if added else {})})

    async def _refresh_tokens(self, user_ids: Sequence[uuid.UUID]) -> None:
        """Refuse the access tokens these customers hold (their group is in them); their sessions
        go on, so the next refresh signs the group they are in now."""
        at = now()
        expires_at = at + self.context.longest_access_ttl
        for user_id in user_ids:
            await outbox.add(self.session, TokenRevoked(user_id=user_id, all_before=at, expires_at=expires_at))


def _state(group: CustomerGroup) -> dict[str, object]:
    """What the audit log keeps of a group."""
    return {"storefront": group.storefront, "code": group.code, "name": group.name}
