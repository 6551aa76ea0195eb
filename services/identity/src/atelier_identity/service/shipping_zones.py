"""The staff routes of shipping zones and methods (docs/storefronts.md#shipping-zones).

Zones live in their storefront's document: every write here is a storefront write (the same lock,
the same whole-document check, a new revision, `storefront.changed`), audited as its own action."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from atelier_common import audit
from atelier_common.auth import Principal
from atelier_common.contracts.identity import ShippingMethod, ShippingZone, Storefront
from atelier_identity.errors import ShippingMethodNotFound, ShippingZoneNotFound, StorefrontNotInScope
from atelier_identity.schemas import (
    ShippingMethodCreate,
    ShippingMethodWrite,
    ShippingZoneCreate,
    ShippingZoneWrite,
)
from atelier_identity.service.storefronts import StorefrontService, changes_of

Zones = list[dict[str, Any]]


class ShippingZoneService(StorefrontService):
    # -- reads -----------------------------------------------------------------------------------
    # An API key limited to some storefronts (`Principal.may_touch`) finds only their zones and
    # adds none to another (docs/security.md, "API keys").

    async def zones(self, storefront: str | None = None,
                    staff: Principal | None = None) -> list[tuple[Storefront, ShippingZone]]:
        """Each zone with its storefront (whose currency its prices are in)."""
        return [(record, zone) for record in await self.list_all()
                if (storefront is None or record.slug == storefront)
                and (staff is None or staff.may_touch(record.slug)) for zone in record.shipping_zones]

    async def zone(self, zone_id: str, staff: Principal) -> tuple[Storefront, ShippingZone]:
        for record, zone in await self.zones(staff=staff):
            if str(zone.id) == zone_id:
                return record, zone
        raise ShippingZoneNotFound(details={"id": zone_id})

    # -- writes ----------------------------------------------------------------------------------
    async def create_zone(self, data: ShippingZoneCreate, staff: Principal,
                          requested: Storefront) -> tuple[Storefront, ShippingZone]:
        slug = data.storefront or requested.slug
        if not staff.may_touch(slug):
            raise StorefrontNotInScope()
        zone_id = uuid.uuid4()
        values = data.model_dump(mode="json", exclude={"storefront"})
        zone = {**values, "id": str(zone_id), "code": str(zone_id), "methods": []}
        record = await self._rewrite(slug, lambda zones: [*zones, zone], staff, "shipping_zone.create", str(zone_id))
        return record, _zone_of(record, str(zone_id))

    async def update_zone(self, zone_id: str, data: ShippingZoneWrite,
                          staff: Principal) -> tuple[Storefront, ShippingZone]:
        slug = (await self.zone(zone_id, staff))[0].slug
        changes = data.model_dump(mode="json", exclude_unset=True)
        record = await self._rewrite(slug, lambda zones: [
            {**zone, **changes} if zone["id"] == zone_id else zone for zone in zones],
            staff, "shipping_zone.update", zone_id)
        return record, _zone_of(record, zone_id)

    async def delete_zone(self, zone_id: str, staff: Principal) -> None:
        slug = (await self.zone(zone_id, staff))[0].slug
        await self._rewrite(slug, lambda zones: [zone for zone in zones if zone["id"] != zone_id],
                            staff, "shipping_zone.delete", zone_id)

    async def create_method(self, zone_id: str, data: ShippingMethodCreate, staff: Principal) -> ShippingMethod:
        slug = (await self.zone(zone_id, staff))[0].slug
        method_id = str(uuid.uuid4())
        method = {"id": method_id, "code": method_id, **_method_values(data, {})}
        record = await self._rewrite(slug, lambda zones: [
            {**zone, "methods": [*zone["methods"], method]} if zone["id"] == zone_id else zone for zone in zones],
            staff, "shipping_method.create", method_id)
        return _method_of(_zone_of(record, zone_id), method_id)

    async def update_method(self, zone_id: str, method_id: str, data: ShippingMethodWrite,
                            staff: Principal) -> ShippingMethod:
        owner, zone = await self.zone(zone_id, staff)
        slug = owner.slug
        _method_of(zone, method_id)

        def change(zones: Zones) -> Zones:
            return [{**zone, "methods": [{**method, **_method_values(data, method)} if method["id"] == method_id
                                         else method for method in zone["methods"]]}
                    if zone["id"] == zone_id else zone for zone in zones]
        record = await self._rewrite(slug, change, staff, "shipping_method.update", method_id)
        return _method_of(_zone_of(record, zone_id), method_id)

    async def delete_method(self, zone_id: str, method_id: str, staff: Principal) -> None:
        owner, zone = await self.zone(zone_id, staff)
        slug = owner.slug
        _method_of(zone, method_id)
        await self._rewrite(slug, lambda zones: [
            {**zone, "methods": [m for m in zone["methods"] if m["id"] != method_id]} if zone["id"] == zone_id
            else zone for zone in zones], staff, "shipping_method.delete", method_id)

    async def _rewrite(self, slug: str, change: Callable[[Zones], Zones], staff: Principal, action: str,
                       target: str) -> Storefront:
        """The storefront `slug` with its zones changed by `change`, under the storefronts' lock,
        checked whole (400, nothing changed), stored, announced and audited."""
        current, record = await self.replace(slug, lambda values: {
            **values, "shipping_zones": change(values["shipping_zones"])})
        await audit.record(self.session, staff, action, "shipping_zone", target,
                           before={"shipping_zones": changes_of(record, current).get("shipping_zones")},
                           after={"shipping_zones": changes_of(current, record).get("shipping_zones")})
        return record


def _method_values(data: ShippingMethodWrite, current: dict[str, Any]) -> dict[str, Any]:
    """The stored fields (`amount`, `tiers`) of a method from what staff sent (`price`, `rates`)."""
    sent = data.model_dump(mode="json", exclude_unset=True)
    kind = sent.get("kind", current.get("kind", "flat"))
    price = sent.get("price", current.get("amount", "0.00"))
    rates = sent.get("rates", current.get("tiers") or None)
    values: dict[str, Any] = {key: sent[key] for key in ("name", "names", "free_over") if key in sent}
    values["kind"] = kind
    if kind == "flat":
        values.update(amount=price, tiers=[])
    else:
        values.update(amount="0.00", tiers=rates if rates else [{"min": "0.00", "amount": price}])
    return values


def _zone_of(record: Storefront, zone_id: str) -> ShippingZone:
    for zone in record.shipping_zones:
        if str(zone.id) == zone_id:
            return zone
    raise ShippingZoneNotFound(details={"id": zone_id})


def _method_of(zone: ShippingZone, method_id: str) -> ShippingMethod:
    method = zone.method_by_id(method_id)
    if method is None:
        raise ShippingMethodNotFound(details={"id": method_id})
    return method


def zone_read(storefront: Storefront, zone: ShippingZone) -> dict[str, Any]:
    return {**zone.model_dump(include={"id", "name", "countries", "regions", "tax_rate", "tax_inclusive",
                                       "shipping_taxed", "tax_rates"}),
            "storefront": storefront.slug, "currency": storefront.currency,
            "methods": [method_read(method) for method in zone.methods]}


def method_read(method: ShippingMethod) -> dict[str, Any]:
    return {"id": method.id, "name": method.name, "names": method.names, "kind": method.kind,
            "price": method.amount if method.kind == "flat" else (method.tiers[0].amount if method.tiers else 0),
            "free_over": method.free_over, "rates": [tier.model_dump() for tier in method.tiers]}
