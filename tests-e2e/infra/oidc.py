"""The identity fakes for the black-box tests: a local OpenID provider and a software passkey authenticator.

Both are identity's own test fakes (services/identity/tests/fakes), loaded by file path so the e2e
suite drives the platform exactly as the service tests drive the service:

- `FakeOidcProvider` (discovery, authorize, token with PKCE, userinfo, JWKS, RS256 id_tokens) runs on
  a loopback port in a thread for the whole session, started before the platform so identity is
  configured with its discovery URL. Tests pick who signs in with `user=<sub>` on the authorize URL.
- `SoftwareAuthenticator` makes real "none" attestations and signed assertions (P-256), which the
  platform verifies with py_webauthn. The platform's relying party is set to what it signs.

No network: everything listens on and talks to 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

from atelier_testing.fakes import authenticator, oidc_provider

# The relying party the platform is configured with, and the origin the software authenticator reports.
WEBAUTHN_RP_ID = "localhost"
WEBAUTHN_ORIGIN = "http://localhost:3000"



def served_provider() -> Any:
    """`with served_provider() as provider:` — the fake OpenID provider on a loopback port."""
    return oidc_provider.ServedProvider()


def identity_env(provider: Any) -> dict[str, str]:
    """What the platform's identity service needs for Google (the fake provider) and passkeys."""
    module = oidc_provider
    return {
        "ATELIER_IDENTITY_OAUTH_GOOGLE_CLIENT_ID": module.CLIENT_ID,
        "ATELIER_IDENTITY_OAUTH_GOOGLE_CLIENT_SECRET": module.CLIENT_SECRET,
        "ATELIER_IDENTITY_OAUTH_GOOGLE_DISCOVERY_URL": provider.discovery_url,
        "ATELIER_IDENTITY_WEBAUTHN_RP_ID": WEBAUTHN_RP_ID,
        "ATELIER_IDENTITY_WEBAUTHN_ORIGINS": f'["{WEBAUTHN_ORIGIN}"]',
    }


def software_authenticator(origin: str = WEBAUTHN_ORIGIN) -> Any:
    """A new software passkey authenticator (its own keys) reporting `origin` (the default
    storefront's configured one unless told)."""
    return authenticator.SoftwareAuthenticator(origin=origin)


def b64url(data: bytes) -> str:
    return authenticator.b64(data)
