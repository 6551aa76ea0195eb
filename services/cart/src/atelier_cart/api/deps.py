"""The dependencies routes list, named once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from atelier_cart.service import CartService
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_common.state import app_state
from atelier_common.storefronts import Storefront, StorefrontDirectory

CartServiceDep = Annotated[CartService, use_case(CartService)]
# Routes that only read: no transaction (`Database.read_only`), so no BEGIN and COMMIT round trips.
CartReaderDep = Annotated[CartService, use_case(CartService, read_only=True)]



async def _storefront_of_query(request: Request, storefront: Annotated[str | None, Query(
        max_length=64, description="The slug of the storefront whose cart is meant; none: the default")] = None,
                               ) -> Storefront:
    directory = app_state(request.app, "storefronts", StorefrontDirectory)
    return await directory.get(storefront)


# /internal: the storefront named by `?storefront=<slug>` (a dictionary look-up in this process's
# copy; unknown → 400 UNKNOWN_STOREFRONT), the default one without it (callers older than storefronts).
QueryStorefront = Annotated[Storefront, Depends(_storefront_of_query)]

# Declared on routes so the merged OpenAPI lists the error answers too.
ANON: ErrorResponses = {401: {"description": "No anonymous token or access token (AUTHENTICATION_REQUIRED, INVALID_TOKEN)"}}
ITEM_NOT_FOUND: ErrorResponses = {404: {"description": "No such line in the caller's cart (NOT_FOUND), or the product is gone "
                                       "(PRODUCT_NOT_FOUND)"}}
LINE_RULES: ErrorResponses = {
    400: {"description": "VALIDATION_ERROR (quantity 1 to the storefront's line limit, 99 unless it sets its "
                         "own), QUANTITY_LIMIT (the line would pass that limit), "
                         "CURRENCY_MISMATCH, NOT_PURCHASABLE (a subscription plan)"},
    404: {"description": "PRODUCT_NOT_FOUND: unknown or inactive product or variant, or one the request's "
                         "storefront does not sell"},
    409: {"description": "INSUFFICIENT_STOCK, details {requested, available}"},
}
