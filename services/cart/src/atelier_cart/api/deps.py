"""The dependencies routes list, named once."""

from __future__ import annotations

from typing import Annotated

from atelier_cart.service import CartService
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case

CartServiceDep = Annotated[CartService, use_case(CartService)]
# Routes that only read: no transaction (`Database.read_only`), so no BEGIN and COMMIT round trips.
CartReaderDep = Annotated[CartService, use_case(CartService, read_only=True)]

# Declared on routes so the merged OpenAPI lists the error answers too.
ANON: ErrorResponses = {401: {"description": "No anonymous token or access token (AUTHENTICATION_REQUIRED, INVALID_TOKEN)"}}
ITEM_NOT_FOUND: ErrorResponses = {404: {"description": "No such line in the caller's cart (NOT_FOUND), or the product is gone "
                                       "(PRODUCT_NOT_FOUND)"}}
LINE_RULES: ErrorResponses = {
    400: {"description": "VALIDATION_ERROR (quantity 1–99), QUANTITY_LIMIT (the line would pass 99), "
                         "CURRENCY_MISMATCH, NOT_PURCHASABLE (a subscription plan)"},
    404: {"description": "PRODUCT_NOT_FOUND: unknown or inactive product or variant"},
    409: {"description": "INSUFFICIENT_STOCK, details {requested, available}"},
}
