"""Every router of the identity service."""

from atelier_identity.api import (
    account,
    addresses,
    auth,
    dev,
    internal,
    keys,
    magic_links,
    oauth,
    passkeys,
    staff,
    storefronts,
    users,
    webhooks,
)

ROUTERS = (auth.router, account.router, magic_links.router, oauth.router, passkeys.router, users.router,
           addresses.router, keys.router, storefronts.public, storefronts.router, staff.router, webhooks.router, internal.router, dev.router)
