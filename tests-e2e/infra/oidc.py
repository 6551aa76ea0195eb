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

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

FAKES = Path(__file__).resolve().parents[2] / "services" / "identity" / "tests" / "fakes"

# The relying party the platform is configured with, and the origin the software authenticator reports.
WEBAUTHN_RP_ID = "localhost"
WEBAUTHN_ORIGIN = "http://localhost:3000"


def _load(name: str) -> ModuleType:
    module_name = f"atelier_e2e_fakes_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, FAKES / f"{name}.py")
        assert spec and spec.loader, f"identity's fake {name} not found under {FAKES}"
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def served_provider() -> Any:
    """`with served_provider() as provider:` — the fake OpenID provider on a loopback port."""
    return _load("oidc_provider").ServedProvider()


def identity_env(provider: Any) -> dict[str, str]:
    """What the platform's identity service needs for Google (the fake provider) and passkeys."""
    module = _load("oidc_provider")
    return {
        "ATELIER_IDENTITY_OAUTH_GOOGLE_CLIENT_ID": module.CLIENT_ID,
        "ATELIER_IDENTITY_OAUTH_GOOGLE_CLIENT_SECRET": module.CLIENT_SECRET,
        "ATELIER_IDENTITY_OAUTH_GOOGLE_DISCOVERY_URL": provider.discovery_url,
        "ATELIER_IDENTITY_WEBAUTHN_RP_ID": WEBAUTHN_RP_ID,
        "ATELIER_IDENTITY_WEBAUTHN_ORIGINS": f'["{WEBAUTHN_ORIGIN}"]',
    }


def software_authenticator() -> Any:
    """A new software passkey authenticator (its own keys) reporting the configured origin."""
    return _load("authenticator").SoftwareAuthenticator(origin=WEBAUTHN_ORIGIN)


def b64url(data: bytes) -> str:
    return _load("authenticator").b64(data)
