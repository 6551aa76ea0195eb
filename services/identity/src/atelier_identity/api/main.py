"""Every router of the identity service."""

from atelier_identity.api import auth, dev, internal, keys, users

ROUTERS = (auth.router, users.router, keys.router, internal.router, dev.router)
