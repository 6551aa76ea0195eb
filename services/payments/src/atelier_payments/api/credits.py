"""/api/v1/credits/purchase: a credit pack through a checkout page (S2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from atelier_common.auth import UserPrincipal
from atelier_common.idempotency import IdempotencyDep
from atelier_common.storefronts import CurrentStorefront, Storefront
from atelier_payments.api.deps import AUTH, IDEMPOTENT, PROVIDER, PaymentServiceDep
from atelier_payments.schemas import CreditPurchase, CreditPurchaseRead

router = APIRouter(prefix="/api/v1/credits", tags=["credits"])


@router.post("/purchase", summary="Buy a credit pack", response_model=CreditPurchaseRead,
             responses={**AUTH, **PROVIDER, **IDEMPOTENT, 400: {"description": "INVALID_SKU, NOT_PURCHASABLE (a subscription plan) or VALIDATION_ERROR"},
                        409: {"description": "INSUFFICIENT_STOCK (the sku is sold out)"}})
async def purchase_credits(data: CreditPurchase, user: UserPrincipal, payments: PaymentServiceDep,
                           idempotency: IdempotencyDep, storefront: CurrentStorefront) -> Any:
    """Order a credit pack by `sku` and open its checkout: send the customer to `checkout_url`; the credits arrive
    when the payment is confirmed."""
    return await idempotency.run(lambda: _purchase(payments, user, data, storefront))


async def _purchase(payments: PaymentServiceDep, user: UserPrincipal, data: CreditPurchase,
                    storefront: Storefront) -> dict[str, Any]:
    started = await payments.purchase_credits(user, data.sku, storefront)
    return {"order_id": started.payment.order_id, "checkout_url": started.url, "session_id": started.session_id}
