"""Which service answers which public path: the one route table of the platform."""

from __future__ import annotations

# Longest prefix wins ("/api/v1/credits/purchase" before "/api/v1/credits"), by whole segments.
ROUTES: dict[str, str] = {
    "/api/v1/auth": "identity",
    "/api/v1/users": "identity",
    "/api/v1/addresses": "identity",
    "/api/dev/mailbox": "identity",
    "/api/v1/storefront": "identity",
    "/api/v1/storefronts": "identity",
    # The staff API: each path to the service that owns its data.
    "/api/v1/staff/audit": "identity",
    "/api/v1/staff/accounts": "identity",
    "/api/v1/staff/api-keys": "identity",
    "/api/v1/staff/customers": "identity",
    "/api/v1/staff/mail": "identity",
    # Outbound webhooks: identity keeps the endpoints and sends the deliveries.
    "/api/v1/webhook-endpoints": "identity",
    "/api/v1/webhook-deliveries": "identity",
    "/api/v1/staff/webhooks": "identity",
    # Shipping zones and methods: identity keeps them in the storefront document.
    "/api/v1/staff/shipping-zones": "identity",
    # Customer groups and their members: identity signs the group into the access token.
    "/api/v1/staff/customer-groups": "identity",
    "/api/v1/staff/orders": "orders",
    "/api/v1/staff/returns": "orders",
    # Accounting's lists of a period's documents (docs/integrations.md).
    "/api/v1/staff/invoices": "orders",
    "/api/v1/staff/credit-notes": "orders",
    "/api/v1/staff/draft-orders": "orders",
    # Promotions and discount codes: orders prices every order with them.
    "/api/v1/staff/promotions": "orders",
    # The dashboard's per-day reports: each owner counts its own rows.
    "/api/v1/staff/reports/daily": "orders",
    "/api/v1/staff/reports/failed-jobs": "generation",
    "/api/v1/staff/payments": "payments",
    "/api/v1/staff/subscriptions": "payments",
    "/api/v1/staff/ledger": "payments",
    "/api/v1/staff/gift-cards": "payments",
    "/api/v1/staff/price-lists": "catalog",
    # Stock locations, a product's units per location, transfers: catalog keeps the stock.
    "/api/v1/staff/locations": "catalog",
    "/api/v1/staff/stock-transfers": "catalog",
    # The first path of credit adjustments, kept as an alias of the documented
    # /staff/customers/{id}/credits (`SUBRESOURCES`, docs/back-office.md).
    "/api/v1/staff/credits": "generation",
    "/api/v1/staff/jobs": "generation",
    "/api/v1/staff/books": "generation",
    "/api/v1/categories": "catalog",
    "/api/v1/products": "catalog",
    "/api/v1/wishlist": "catalog",
    "/api/v1/pricing": "catalog",
    "/media": "catalog",
    "/api/v1/cart": "cart",
    "/api/v1/orders": "orders",
    # The caller's cart priced for a destination: orders holds the rule it charges by.
    "/api/v1/shipping-methods": "orders",
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

# Prefixes have a few lengths ("/media", "/api/v1/cart", "/api/v1/staff/reports/daily"): one dict
# lookup per candidate length instead of a scan of the table on every request.
_LENGTHS = sorted({prefix.count("/") for prefix in ROUTES}, reverse=True)

# Public reads: GET/HEAD under these paths (whole segments) answer the same to every caller of a
# storefront, so they get no anonymous identity — no token minted, no cookie set — and stay
# cacheable by a CDN (a `Set-Cookie` would make every answer private). A path added here must not
# read the anonymous owner (its answers are shared).
PUBLIC_READS = (
    "/api/v1/products", "/api/v1/categories", "/api/v1/pricing", "/media",
    "/api/v1/images/gallery", "/api/v1/images/files", "/api/v1/generation/models",
    "/api/v1/subscriptions/plans", "/api/v1/storefront",
)
_PUBLIC_READS = frozenset(PUBLIC_READS)
_PUBLIC_LENGTHS = sorted({prefix.count("/") for prefix in PUBLIC_READS}, reverse=True)

# Where an anonymous caller owns something (the routes that take `AnonPrincipal`): a caller with
# neither an access token nor an anonymous one gets a fresh anonymous identity here, and nowhere
# else — sign-in, registration, refresh, reset, the mailbox and every public read (through a
# compatibility profile too) mint nothing. `gateway/tests/test_routing.py` holds it to the services'
# routes.
OWNER_PATHS = (
    "/api/v1/cart", "/api/v1/orders", "/api/v1/shipping-methods", "/api/v1/addresses", "/api/v1/books", "/api/v1/images",
    "/api/v1/generation/jobs", "/api/v1/payments/intents", "/api/v1/payments/confirm",
    "/api/v1/payments/checkout",
    # A gift card's balance: wrong codes are counted per caller (and per address) like sign-in guesses.
    "/api/v1/payments/gift-cards/balance",
)
_OWNER_PATHS = frozenset(OWNER_PATHS)
_OWNER_LENGTHS = sorted({prefix.count("/") for prefix in OWNER_PATHS}, reverse=True)
# Their first three segments (`/api/v1/payments`): a path under none of them needs no owner.
_OWNER_ROOTS = frozenset("/".join(prefix.split("/")[:4]) for prefix in OWNER_PATHS)

# Routes whose attempts are credentials: limited per client address as well.
CREDENTIAL_PATHS = (
    "/api/v1/auth/login", "/api/v1/auth/magic-link", "/api/v1/auth/password-reset",
    "/api/v1/auth/passkeys/login", "/api/v1/auth/register",
)


# `<prefix>/{id}/<leaf>` owned by another service than `<prefix>`: a customer's credits live in
# generation although /staff/customers is identity's (docs/back-office.md's staff paths).
SUBRESOURCES: dict[tuple[str, str], str] = {("/api/v1/staff/customers", "credits"): "generation"}
_SUBRESOURCE_SLASHES = 6


def resolve(path: str) -> str | None:
    """The service owning `path` (already without trailing slash), or None: a `SUBRESOURCES`
    path, else the longest prefix made of whole segments."""
    if path.count("/") == _SUBRESOURCE_SLASHES:
        prefix, _, leaf = path.rpartition("/")
        owner = SUBRESOURCES.get((prefix.rpartition("/")[0], leaf))
        if owner is not None:
            return owner
    parts = path.split("/", _LENGTHS[0] + 1)
    for length in _LENGTHS:
        service = ROUTES.get("/".join(parts[:length + 1]))
        if service is not None:
            return service
    return None


def is_public_read(method: str, path: str) -> bool:
    """Whether this request is a public read (`PUBLIC_READS`): no anonymous identity for it."""
    if method != "GET" and method != "HEAD":
        return False
    parts = path.split("/", _PUBLIC_LENGTHS[0] + 1)
    # Not `any(...)` over a generator: every cache hit asks, and this costs ~0.7 µs less.
    return not _PUBLIC_READS.isdisjoint(["/".join(parts[:length + 1]) for length in _PUBLIC_LENGTHS])


def needs_owner(method: str, path: str) -> bool:
    """Whether a caller without any token gets an anonymous identity for this request (`OWNER_PATHS`)."""
    parts = path.split("/", _OWNER_LENGTHS[0] + 1)
    # The cheap look first: a cache hit without a token asks, and is under no owner path's root.
    if "/".join(parts[:4]) not in _OWNER_ROOTS or is_public_read(method, path):
        return False
    return any("/".join(parts[:length + 1]) in _OWNER_PATHS for length in _OWNER_LENGTHS)


def is_credential_path(path: str) -> bool:
    return path.startswith(CREDENTIAL_PATHS)
