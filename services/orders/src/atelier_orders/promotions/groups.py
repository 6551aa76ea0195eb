"""Orders' copy of identity's customer groups, fed by its events: the codes a promotion may name
(`PromotionAdmin` refuses one its storefront does not have)."""

from __future__ import annotations

from atelier_common.contracts.identity import CustomerGroupChanged, CustomerGroupDeleted
from atelier_common.service import UseCase
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.promotions.repository import CustomerGroupCopies


class CustomerGroupCopyService(UseCase[OrdersContext]):
    async def changed(self, event: CustomerGroupChanged) -> None:
        await CustomerGroupCopies(self.session).apply(event.storefront, event.code, revision=event.revision,
                                                      deleted=False)

    async def deleted(self, event: CustomerGroupDeleted) -> None:
        """Promotions naming it keep the code (staff may edit them): no token carries the group now,
        so it opens them to nobody."""
        await CustomerGroupCopies(self.session).apply(event.storefront, event.code, revision=event.revision,
                                                      deleted=True)
