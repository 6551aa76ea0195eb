"""A small program written against the generated Python client (`make clients` type-checks it with
mypy --strict): sign in, browse the catalog, fill the cart, read an order; and an integrator's
API key pulling paid orders and shipping them (clients/README.md). Renaming a route, a field or a
schema the frontends or integrators rely on breaks this check."""

from __future__ import annotations

from decimal import Decimal

from atelier_client import AuthenticatedClient, Client
from atelier_client.api.auth import identity_login
from atelier_client.api.cart import cart_add_cart_item
from atelier_client.api.orders import orders_change_order_status, orders_get_order
from atelier_client.api.products import catalog_list_products
from atelier_client.api.staff import orders_list_paid_orders
from atelier_client.models import (
    CartItemCreate,
    CartRead,
    LoginRequest,
    LoginResponse,
    OrderRead,
    OrderStatus,
    OrderStatusUpdate,
    PageProductRead,
    PaidOrdersRead,
)


async def shop(base_url: str, email: str, password: str, order_id: str) -> tuple[Decimal, str]:
    async with Client(base_url=base_url) as anonymous:
        login = await identity_login.asyncio(client=anonymous, body=LoginRequest(email=email, password=password))
    if not isinstance(login, LoginResponse):
        raise RuntimeError("login refused")
    async with AuthenticatedClient(base_url=base_url, token=login.access) as client:
        page = await catalog_list_products.asyncio(client=client, search="mug", limit=10)
        if not isinstance(page, PageProductRead) or not page.results:
            raise RuntimeError("nothing found")
        product = page.results[0]
        cart = await cart_add_cart_item.asyncio(client=client, body=CartItemCreate(product_id=product.id, quantity=2))
        if not isinstance(cart, CartRead):
            raise RuntimeError("not added")
        order = await orders_get_order.asyncio(order_id, client=client)
        if not isinstance(order, OrderRead):
            raise RuntimeError("no such order")
        return Decimal(cart.total), order.status


async def ship_paid_orders(base_url: str, api_key: str, after: str | None) -> str | None:
    """An ERP's pull: the orders paid since `after`, each marked shipped; the cursor to keep."""
    async with AuthenticatedClient(base_url=base_url, token=api_key) as erp:
        feed = await orders_list_paid_orders.asyncio(client=erp, after=after, limit=50)
        if not isinstance(feed, PaidOrdersRead):
            raise RuntimeError("refused")
        for order in feed.results:
            if order.status != "paid":
                continue
            await orders_change_order_status.asyncio(str(order.id), client=erp,
                                                     body=OrderStatusUpdate(status=OrderStatus.PROCESSING))
            await orders_change_order_status.asyncio(str(order.id), client=erp, body=OrderStatusUpdate(
                status=OrderStatus.SHIPPED, tracking_number="1Z999AA10123456784", note="UPS"))
        return feed.next_cursor
