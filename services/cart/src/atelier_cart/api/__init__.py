"""HTTP routes of the cart: the customer's cart, plus /internal for other services."""

from atelier_cart.api import cart, internal

ROUTERS = (cart.router, internal.router)

# The OpenAPI tags of these routers: what a client finds under each (the docs' sections).
TAGS = {
    "cart": ("The shopper's cart, one per owner (a user or a guest) and storefront; placing an order from it "
             "empties it."),
}
