"""Which service answers which public path: the one route table of the platform."""

from __future__ import annotations

# Longest prefix wins ("/api/v1/credits/purchase" before "/api/v1/credits").
ROUTES: dict[str, str] = {
    "/api/v1/auth": "identity",
    "/api/v1/users": "identity",
    "/api/v1/addresses": "identity",
    "/api/dev/mailbox": "identity",
    "/api/v1/categories": "catalog",
    "/api/v1/products": "catalog",
    "/api/v1/wishlist": "catalog",
    "/api/v1/pricing": "catalog",
    "/media": "catalog",
    "/api/v1/cart": "cart",
    "/api/v1/orders": "orders",
    "/api/v1/payments": "payments",
    "/api/v1/subscriptions": "payments",
    "/api/v1/billing": "payments",
    "/api/v1/credits/purchase": "payments",
    "/api/dev/checkout": "payments",
    "/api/dev/subscriptions": "payments",
    "/api/v1/generation": "generation",
    "/api/v1/images": "generation",
    "/api/v1/credits": "generation",
    "/api/v1/restorations": "generation",
    "/api/v1/books": "generation",
    "/api/v1/retries": "generation",
    "/api/v1/me": "generation",
}

_ORDERED = sorted(ROUTES.items(), key=lambda item: len(item[0]), reverse=True)

# Routes whose attempts are credentials: limited per client address as well.
CREDENTIAL_PATHS = (
    "/api/v1/auth/login", "/api/v1/auth/magic-link", "/api/v1/auth/password-reset",
    "/api/v1/auth/passkeys/login", "/api/v1/auth/register",
)


def resolve(path: str) -> str | None:
    """The service owning `path` (already without trailing slash), or None."""
    for prefix, service in _ORDERED:
        if path == prefix or path.startswith(prefix + "/"):
            return service
    return None


def is_credential_path(path: str) -> bool:
    return path.startswith(CREDENTIAL_PATHS)
