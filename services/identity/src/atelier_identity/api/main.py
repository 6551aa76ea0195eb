"""Every router of the identity service."""

from atelier_identity.api import (
    account,
    addresses,
    api_keys,
    auth,
    customer_groups,
    dev,
    internal,
    keys,
    magic_links,
    oauth,
    passkeys,
    shipping_zones,
    staff,
    storefronts,
    users,
    webhooks,
)

ROUTERS = (auth.router, account.router, magic_links.router, oauth.router, passkeys.router, users.router,
           addresses.router, keys.router, storefronts.public, storefronts.router, staff.router,
           shipping_zones.router, customer_groups.router, api_keys.router, webhooks.router, internal.router, dev.router)

# The OpenAPI tags of these routers: what a client finds under each (the docs' sections).
TAGS = {
    "auth": ("Accounts and sessions: registration, sign-in (password, magic link, OAuth), tokens, password and "
             "email changes."),
    "passkeys": "WebAuthn passkeys: sign up and sign in with one, list and remove them.",
    "users": "The signed-in user's own account.",
    "addresses": "Saved shipping and billing addresses, a user's or a guest's.",
    "storefronts": ("The brands the platform serves (origins, currency, tax, what they sell): admins manage "
                    "them; `GET /api/v1/storefront` is the request's own."),
    "webhooks": ("Outbound webhooks (admin): the receivers of the platform's events and their deliveries; the "
                 "payloads are in this document's `webhooks` section."),
    "staff": "Back office: customers, customer groups, staff accounts and roles, sent mail and the audit log.",
}
