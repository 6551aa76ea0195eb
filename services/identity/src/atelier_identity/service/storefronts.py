"""Storefronts: identity owns them (docs/storefronts.md). Staff create, change and delete
them; every write stores the whole record with a new revision and adds `storefront.changed` or
`storefront.deleted` to the outbox, which keeps every process's copy current.

The default storefront has no row until staff edit it: until then it is built from settings
(`storefronts.default_storefront`). One storefront is always the default: making one the default
makes the previous one not (stored, and announced, too).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import audit, outbox
from atelier_common.auth import Principal
from atelier_common.contracts.identity import (
    DEFAULT_LINK_PATHS,
    DEFAULT_STOREFRONT,
    Storefront,
    StorefrontChanged,
    StorefrontDeleted,
)
from atelier_common.errors import PermissionDenied, ValidationFailed, validation_details
from atelier_common.service import Runtime
from atelier_common.storefronts import Loader
from atelier_identity.context import IdentityContext
from atelier_identity.errors import (
    DefaultStorefrontRequired,
    StorefrontExists,
    StorefrontInUse,
    StorefrontNotDeletable,
    StorefrontNotFound,
    StorefrontOriginTaken,
    StorefrontProfileTaken,
    StorefrontSlugImmutable,
)
from atelier_identity.models import StorefrontRecord
from atelier_identity.repository import StorefrontRepository
from atelier_identity.schemas import StorefrontCreate, StorefrontUpdate
from atelier_identity.service._clock import now
from atelier_identity.service._use_case import IdentityUseCase
from atelier_identity.settings import IdentitySettings
from atelier_identity.storefronts import default_storefront, next_revision

__all__ = ["StorefrontService", "own_storefronts", "read_storefronts"]

log = logging.getLogger("atelier.identity.storefronts")


async def read_storefronts(session: AsyncSession, settings: IdentitySettings) -> list[Storefront]:
    """Every storefront, the default first: the rows, and the default built from settings while it
    has none (the default then, unless a row is)."""
    records = [Storefront.model_validate(row.data) for row in await StorefrontRepository(session).list_all()]
    if not any(record.slug == DEFAULT_STOREFRONT for record in records):
        synthesized = default_storefront(settings)
        if any(record.is_default for record in records):
            synthesized = synthesized.model_copy(update={"is_default": False})
        records.append(synthesized)
    return sorted(records, key=lambda record: (not record.is_default, record.slug))


def own_storefronts(runtime: Runtime) -> Loader:
    """Identity's own copy loads from its table (never from itself over HTTP)."""
    settings = IdentitySettings.of(runtime)

    async def load() -> list[Storefront]:
        async with runtime.db.read_only() as session:
            return await read_storefronts(session, settings)

    return load


class StorefrontService(IdentityUseCase):
    def __init__(self, session: AsyncSession, context: IdentityContext) -> None:
        super().__init__(session, context)
        self.orders = context.orders
        self.rows = StorefrontRepository(session)

    # -- reads -----------------------------------------------------------------------------------
    async def list_all(self) -> list[Storefront]:
        return await read_storefronts(self.session, self.settings)

    # An API key limited to some storefronts (`Principal.may_touch`) finds only them, and changes
    # or deletes only them; it never moves the default (that changes another storefront too).

    async def page(self, *, limit: int, offset: int, staff: Principal | None = None) -> tuple[int, list[Storefront]]:
        everything = [record for record in await self.list_all() if staff is None or staff.may_touch(record.slug)]
        return len(everything), everything[offset:offset + limit]

    async def get(self, slug: str, staff: Principal | None = None) -> Storefront:
        if staff is not None and not staff.may_touch(slug):
            raise StorefrontNotFound(details={"slug": slug})
        return _find(await self.list_all(), slug)

    async def exists(self, slug: str) -> bool:
        return any(record.slug == slug for record in await self.list_all())

    # -- writes ----------------------------------------------------------------------------------
    async def create(self, data: StorefrontCreate, *, staff: Principal | None = None) -> Storefront:
        await self.rows.lock_all()
        everything = await self.list_all()
        if any(record.slug == data.slug for record in everything):
            raise StorefrontExists(details={"slug": data.slug})
        record = _record(data, revision=next_revision(0))
        _check_unique(record, everything)
        if not await self.rows.add_unique(_row(record)):
            raise StorefrontExists(details={"slug": data.slug})
        await outbox.add(self.session, StorefrontChanged(storefront=record))
        if record.is_default:
            await self._demote_others(everything, record.slug)
        if staff is not None:  # the audit log, in this transaction
            await audit.record(self.session, staff, "storefront.create", "storefront", record.slug,
                               after=changes_of(None, record))
        return record

    async def update(self, slug: str, data: StorefrontUpdate, *, staff: Principal | None = None) -> Storefront:
        """A PATCH: what is sent replaces the current value (`tax`, `link_paths` and `policies` key by key).
        The whole result is checked again as a creation would be."""
        if data.slug is not None and data.slug != slug:
            raise StorefrontSlugImmutable()
        if staff is not None and not staff.may_touch(slug):
            raise StorefrontNotFound(details={"slug": slug})
        if staff is not None and staff.storefronts is not None and data.is_default is not None:
            raise PermissionDenied("An API key limited to some storefronts does not move the default storefront")
        await self.rows.lock_all()
        everything = await self.list_all()
        current = _find(everything, slug)
        changes = data.model_dump(mode="json", exclude_unset=True)
        changes.pop("slug", None)
        if changes.get("is_default") is False and current.is_default:
            raise DefaultStorefrontRequired()
        record = _record(_merged(current, changes), revision=next_revision(current.revision))
        _check_unique(record, [other for other in everything if other.slug != slug])
        if record.currency != current.currency:
            counts = await self.orders.storefront_orders(slug)
            if counts.unpaid:
                raise StorefrontInUse("The currency cannot change while the storefront has unpaid orders",
                                      orders=counts.orders, unpaid=counts.unpaid)
        await self._store(record)
        if record.is_default and not current.is_default:
            await self._demote_others(everything, record.slug)
        if staff is not None:
            await audit.record(self.session, staff, "storefront.update", "storefront", slug,
                               before=changes_of(record, current), after=changes_of(current, record))
        return record

    async def replace(self, slug: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> tuple[Storefront, Storefront]:
        """Storefront `slug`'s document changed by `change` (its JSON values in, new ones out), under
        the storefronts' lock, checked whole as a creation would be (400, nothing changed), stored and
        announced: (before, after). The shipping zones' staff routes write through it."""
        await self.rows.lock_all()
        current = _find(await self.list_all(), slug)
        values = change(current.model_dump(mode="json", exclude={"revision"}))
        try:
            data = StorefrontCreate.model_validate_json(json.dumps(values))
        except ValidationError as exc:
            raise ValidationFailed(details=validation_details([dict(error) for error in exc.errors()])) from exc
        record = _record(data, revision=next_revision(current.revision))
        await self._store(record)
        return current, record

    async def delete(self, slug: str, *, staff: Principal | None = None) -> None:
        if staff is not None and not staff.may_touch(slug):
            raise StorefrontNotFound(details={"slug": slug})
        if slug == DEFAULT_STOREFRONT:
            raise StorefrontNotDeletable()
        await self.rows.lock_all()
        current = _find(await self.list_all(), slug)
        if current.is_default:
            raise StorefrontNotDeletable()
        counts = await self.orders.storefront_orders(slug)
        if counts.orders:
            raise StorefrontInUse("A storefront with orders cannot be deleted", orders=counts.orders,
                                  unpaid=counts.unpaid)
        row = await self.rows.get(slug)
        if row is None:  # listed a moment ago, under the lock: only a concurrent SQLite writer
            raise StorefrontNotFound()
        await self.rows.delete(row)
        await outbox.add(self.session, StorefrontDeleted(slug=slug, revision=next_revision(current.revision)))
        if staff is not None:
            await audit.record(self.session, staff, "storefront.delete", "storefront", slug,
                               before=changes_of(None, current))

    # -- steps -----------------------------------------------------------------------------------
    async def _store(self, record: Storefront) -> None:
        """Write `record` over its row (the default's first edit inserts it) and announce it."""
        row = await self.rows.get(record.slug)
        if row is None:
            if not await self.rows.add_unique(_row(record)):
                raise StorefrontExists(details={"slug": record.slug})
        else:
            row.data = record.model_dump(mode="json")
            row.revision = record.revision
            row.updated_at = now()
            self.session.add(row)
            await self.session.flush()
        await outbox.add(self.session, StorefrontChanged(storefront=record))

    async def _demote_others(self, everything: Sequence[Storefront], default: str) -> None:
        for other in everything:
            if other.is_default and other.slug != default:
                await self._store(other.model_copy(update={
                    "is_default": False, "revision": next_revision(other.revision)}))


def _find(everything: Sequence[Storefront], slug: str) -> Storefront:
    for record in everything:
        if record.slug == slug:
            return record
    raise StorefrontNotFound(details={"slug": slug})


def _merged(current: Storefront, changes: dict[str, Any]) -> StorefrontCreate:
    """`current` with `changes` applied, checked as a new storefront would be (400 otherwise)."""
    values = current.model_dump(mode="json", exclude={"revision"})
    for name, value in changes.items():
        if name in ("tax", "link_paths", "policies"):
            values[name] = {**values[name], **value}
        else:
            values[name] = value
    try:
        return StorefrontCreate.model_validate_json(json.dumps(values))
    except ValidationError as exc:
        raise ValidationFailed(details=validation_details([dict(error) for error in exc.errors()])) from exc


def _record(data: StorefrontCreate, *, revision: int) -> Storefront:
    values = data.model_dump()
    values["link_paths"] = {**DEFAULT_LINK_PATHS, **values["link_paths"]}
    return Storefront.model_validate({**values, "revision": revision})


def _row(record: Storefront) -> StorefrontRecord:
    at = now()
    return StorefrontRecord(slug=record.slug, data=record.model_dump(mode="json"), revision=record.revision,
                            created_at=at, updated_at=at)


def _check_unique(record: Storefront, others: Sequence[Storefront]) -> None:
    """No two storefronts share an origin (the gateway finds a request's storefront by it) or a
    compatibility profile (`/compat/<profile>/...` is one storefront's)."""
    for other in others:
        if other.slug == record.slug:
            continue
        taken = [origin for origin in record.origins if origin in other.origins]
        if taken:
            raise StorefrontOriginTaken(taken, other.slug)
        if record.compat_profile is not None and record.compat_profile == other.compat_profile:
            raise StorefrontProfileTaken(record.compat_profile, other.slug)


def changes_of(base: Storefront | None, record: Storefront) -> dict[str, Any]:
    """The fields of `record` that differ from `base` (all of them without one), as JSON: what an
    audit row keeps of a storefront write."""
    now = record.model_dump(mode="json", exclude={"revision"})
    was = base.model_dump(mode="json", exclude={"revision"}) if base is not None else {}
    return {key: value for key, value in now.items() if was.get(key, object()) != value}
