"""The gateway's public seams: all a package mounted on the gateway may use of it.

The compatibility profiles (`atelier_compat`, libs/compat) serve the seed APIs in front of the
native routes. They import this module and `atelier_common`, nothing else of the gateway, and the
gateway never imports them: the composition root (`atelier_platform`) builds the mount from the
settings and hands it to `create_app(..., compat=...)`. `libs/common/tests/test_boundaries.py`
enforces both directions.

- `GatewaySettings`: the `compat_*` settings a mount is built from (`ATELIER_GATEWAY_COMPAT_PROFILES`).
- `resolve(path)`: the service that owns a native path (None: not a routed path).
- `read_body(receive)`: the request body, already bounded by the edge.
- `NativeProxy`: the gateway's proxy, handed to the mount on each request. A request sent through
  it meets the token checks, anonymous identity, rate limits and services a native client meets.
- `allows_origin(scope, origin)`: the gateway's CORS decision for an origin (its `cors_origins`
  setting, or one of the storefronts' origins), e.g. for a profile's CSRF check.
- `COMPAT_PROFILE`: the scope key a profile sets to its name on the native calls it makes, so the
  request belongs to that profile's storefront (unless its header or origin says otherwise), and
  a guest gets the anonymous identity its seed gave on every answer, public reads included.
- `COMPAT_ROOT`: the scope key naming the profile that serves a root path for this request: the
  profile of the storefront its `Origin` (else `Referer`) selects, where that storefront has
  `compat_at_root` and the profile claims the path. Unset: the deployment's root profile, if any.
- `CompatMount`: what the gateway calls, before its native routing, for `/compat/…` and the paths
  a root-mounted profile claims.
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import Receive, Scope, Send

from atelier_gateway.routing import resolve
from atelier_gateway.settings import GatewaySettings
from atelier_gateway.storefronts import COMPAT_PROFILE, COMPAT_ROOT
from atelier_gateway.upstream import read_body

__all__ = ["COMPAT_PROFILE", "COMPAT_ROOT", "AnonTokens", "CompatMount", "GatewaySettings", "NativeProxy", "allows_origin",
           "read_body", "resolve"]


def allows_origin(scope: Scope, origin: str) -> bool:
    """Whether the gateway serving `scope` allows `origin` (CORS): its `cors_origins` setting or a
    storefront's origin. False before the storefronts are loaded."""
    state = getattr(getattr(scope.get("app"), "state", None), "gateway", None)  # `state.GatewayState`
    resolver = getattr(state, "storefront_resolver", None)
    return resolver is not None and bool(resolver.allows_origin(origin))


class AnonTokens(Protocol):
    def anon_valid(self, token: str) -> bool:
        """Whether the proxy would accept this anonymous token (signature and expiry)."""
        ...


class NativeProxy(Protocol):
    @property
    def auth(self) -> AnonTokens: ...

    async def __call__(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve `scope` (a native path of `service`) exactly as for a client of `/api/v1`."""
        ...


class CompatMount(Protocol):
    def claims(self, method: str, path: str, profile: str | None = None) -> bool:
        """Whether `profile` (None: the profile mounted at the root, if any) serves this
        (non-`/compat/`) path at the root."""
        ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send, proxy: NativeProxy) -> None:
        """Answer a seed request; its native calls go through `proxy`."""
        ...

