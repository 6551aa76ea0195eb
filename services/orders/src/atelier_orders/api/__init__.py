"""HTTP routes of orders: the public resource, plus /internal for other services."""

from atelier_orders.api import drafts, edits, internal, invoices, orders, promotions, returns, shipping, staff

ROUTERS = (orders.router, shipping.router, invoices.router, returns.router, staff.router, drafts.router, invoices.staff,
           returns.staff, edits.router, edits.staff, promotions.router, internal.router, promotions.internal)

# The OpenAPI tags of these routers: what a client finds under each (the docs' sections).
TAGS = {
    "orders": ("Orders: place one from the cart or from explicit lines, follow it, cancel it; staff move it "
               "along."),
    "staff": "Back office: every customer's orders.",
}
