"""HTTP routes of payments: one router per resource, /internal for other services, /api/dev."""

from atelier_payments.api import billing, credits, dev, internal, payments, staff, subscriptions, webhooks

ROUTERS = (payments.router, staff.router, webhooks.router, credits.router, billing.router, internal.router, dev.router,
           subscriptions.plans_router, subscriptions.router, subscriptions.internal_router, subscriptions.dev_router)
