"""HTTP routes of payments: one router per resource, /internal for other services, /api/dev."""

from atelier_payments.api import (
    billing,
    credits,
    dev,
    gift_cards,
    internal,
    payments,
    staff,
    subscriptions,
    webhooks,
)

ROUTERS = (payments.router, staff.router, webhooks.router, credits.router, billing.router, internal.router, dev.router,
           subscriptions.plans_router, subscriptions.router, subscriptions.internal_router, subscriptions.dev_router,
           gift_cards.staff_router, gift_cards.router)

# The OpenAPI tags of these routers: what a client finds under each (the docs' sections).
TAGS = {
    "payments": "Paying an order (a hosted checkout or a payment intent) and refunds.",
    "billing": "A customer's billing ledger.",
    "subscriptions": "Subscription plans, the customer's plan, its checkout, billing portal and invoices.",
    "webhooks": "The payment providers' signed webhooks (for the providers, not for clients).",
    "credits": "Buying a credit pack.",
    "staff": "Back office: an order's payments and refunds, every customer's subscription.",
}
