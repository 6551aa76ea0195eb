"""What orders asks other services over their `/internal` APIs, each answer read into a small model.

catalog prices every line (never the client), cart gives the owner's lines (of the order's
storefront: `?storefront=<slug>`), identity the address
to snapshot, generation whether a book belongs to the buyer. An unreachable service, or one that
answers with a server error, is a 503 for the caller: an order is never placed on a guess.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from atelier_common.contracts.catalog import ProductSnapshot, ProductSnapshots
from atelier_common.errors import ServiceUnavailable
from atelier_common.internal import InternalApi

log = logging.getLogger("atelier.orders.clients")


class _Answer(BaseModel):
    # Another service may add fields before we know them.
    model_config = ConfigDict(extra="ignore")


# Catalog's product as its internal API gives it: one declaration, beside catalog's event contracts.
CatalogProduct = ProductSnapshot


class CartLine(_Answer):
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: int
    # The unit price the cart shows the customer.
    unit_price: Decimal | None = None


class CartAnswer(_Answer):
    items: list[CartLine] = []
    # The discount code applied to the cart.
    promotion_code: str | None = None
    # Where the cart ships and by which method (`PUT /cart/shipping`).
    shipping_address_id: uuid.UUID | None = None
    shipping_method_id: uuid.UUID | None = None


class _Address(BaseModel):
    # Kept whole here; the domain decides which fields the order's snapshot keeps.
    model_config = ConfigDict(extra="allow")


def _read(service: str, response: httpx.Response, model: type[BaseModel]) -> Any:
    if response.status_code >= 500:
        raise ServiceUnavailable(f"{service} is unavailable")
    if response.status_code != 200:
        log.error("%s answered %s to orders: %s", service, response.status_code, response.text[:500])
        raise ServiceUnavailable(f"{service} gave an unexpected answer")
    try:
        # Parsed and validated in one pass by pydantic-core (no intermediate Python dicts).
        return model.model_validate_json(response.content)
    except (ValidationError, ValueError) as exc:
        log.error("%s answered orders with an unreadable body: %s", service, exc)
        raise ServiceUnavailable(f"{service} gave an unexpected answer") from exc


class ServiceClients:
    """The internal calls orders makes; through `internal` (the HTTP client, the URLs, the credential)."""

    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def lookup_products(self, *, ids: Iterable[uuid.UUID] = (), skus: Iterable[str] = (),
                              storefront: str | None = None, group: str | None = None,
                              locale: str | None = None) -> list[ProductSnapshot]:
        """Products by id and/or SKU, active or not; unknown ones are absent. With a customer `group`,
        priced at what that group pays on `storefront` (catalog's price lists); with a `locale`,
        named in it where catalog has a translation."""
        body: dict[str, Any] = {"ids": [str(i) for i in dict.fromkeys(ids)], "skus": list(dict.fromkeys(skus))}
        if not body["ids"] and not body["skus"]:
            return []
        if group is not None:
            body |= {"storefront": storefront, "customer_group": group}
        if locale is not None:
            body["locale"] = locale
        response = await self.internal.call("catalog", "POST", "/internal/products/lookup", json=body)
        return _read("catalog", response, ProductSnapshots).results

    async def cart_lines(self, owner_id: uuid.UUID, storefront: str) -> list[CartLine]:
        """The lines of the owner's cart on `storefront` (an owner without a cart there has none)."""
        return (await self.cart(owner_id, storefront)).items

    async def cart(self, owner_id: uuid.UUID, storefront: str) -> CartAnswer:
        """The owner's cart on `storefront`: its lines and its discount code (none: an empty cart)."""
        response = await self.internal.call("cart", "GET", f"/internal/carts/{owner_id}",
                                       params={"storefront": storefront})
        if response.status_code == 404:
            return CartAnswer()
        answer: CartAnswer = _read("cart", response, CartAnswer)
        return answer

    async def reprice_cart(self, owner_id: uuid.UUID, storefront: str, prices: Iterable[dict[str, Any]]) -> None:
        """The lines of the owner's cart on `storefront` shown at these unit prices from now on
        (`{product_id, variant_id, unit_price}` each)."""
        response = await self.internal.call("cart", "POST", f"/internal/carts/{owner_id}/prices",
                                       json={"items": list(prices)}, params={"storefront": storefront})
        if response.status_code == 404:
            return  # the cart is gone meanwhile: nothing shows the old price any more
        _read("cart", response, _Answer)

    async def address(self, address_id: uuid.UUID, owner_id: uuid.UUID) -> dict[str, Any] | None:
        """The owner's address, or None when it does not exist or belongs to someone else."""
        response = await self.internal.call("identity", "GET", f"/internal/addresses/{address_id}",
                                       params={"owner_id": str(owner_id)})
        if response.status_code == 404:
            return None
        return _read("identity", response, _Address).model_dump()

    async def owns_book(self, book_id: uuid.UUID, owner_id: uuid.UUID) -> bool:
        return await self._owns(f"/internal/books/{book_id}", owner_id)

    async def owns_book_item(self, content_type: str, content_id: uuid.UUID, owner_id: uuid.UUID) -> bool:
        """Whether the character, cover or page is in one of the owner's books (a retry pack's target)."""
        return await self._owns(f"/internal/book-items/{content_type}/{content_id}", owner_id)

    async def _owns(self, path: str, owner_id: uuid.UUID) -> bool:
        response = await self.internal.call("generation", "GET", path, params={"owner_id": str(owner_id)})
        if response.status_code == 404:
            return False
        _read("generation", response, _Answer)
        return True
