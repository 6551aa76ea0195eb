"""HTTP routes of the cart: the customer's cart, plus /internal for other services."""

from atelier_cart.api import cart, internal

ROUTERS = (cart.router, internal.router)
