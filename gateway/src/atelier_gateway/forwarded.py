"""Who is calling, as seen through the proxies in front of the gateway (`trusted_proxies`).

The socket's peer is the caller unless it is a trusted proxy. Then the proxies' header
(`forwarded_header`: `X-Forwarded-For`, or RFC 7239 `Forwarded`) is read from the right: each
trusted hop is skipped and the first untrusted address is the client — the hops to its left
are whatever that client chose to send. The scheme and host the client used (X-Forwarded-Proto /
-Host, or the chosen `Forwarded` element's `proto=` / `host=`) are believed from a trusted proxy
only, and only when well-formed (`http`/`https`, a host name or address): they build the
absolute URLs of the answers, which the shared cache then serves to everyone. A malformed header
is ignored as a whole: the peer stays the caller.

`ClientOrigin`, the outermost middleware, puts the result in the scope (`client`, `scheme`, the
`host` header) once, so the access log, the rate limits, the cache key and the headers forwarded
to the services all use the same client. uvicorn's own proxy-header handling is off
(`proxy_headers=False` in the `atelier` commands): this is the one mechanism.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_SCHEMES = ("http", "https")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
                   r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PAIR = re.compile(rf"[ \t]*({_TOKEN})=({_TOKEN}|\"(?:[^\"\\]|\\.)*\")[ \t]*")


class Malformed(ValueError):
    """A proxy header that cannot be read: it is ignored as a whole."""


@dataclass(frozen=True)
class Origin:
    client: str
    scheme: str
    host: bytes | None = None  # from a trusted proxy; None: the request's own Host header


def address(node: str) -> str:
    """The IP address of a hop (`1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]:80`),
    normalised (an IPv4-mapped IPv6 address is its IPv4 one)."""
    node = node.strip()
    if node.startswith("["):
        inside, bracket, port = node[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and port[1:].isdigit())):
            raise Malformed(node)
        node = inside
    elif node.count(":") == 1:
        node, _, port = node.partition(":")
        if not port.isdigit():
            raise Malformed(node)
    try:
        ip = ipaddress.ip_address(node)
    except ValueError:
        raise Malformed(node) from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def forwarded_elements(values: Iterable[str]) -> list[dict[str, str]]:
    """RFC 7239 `Forwarded` field values → their elements, left to right (names lower-cased,
    quoted values unquoted)."""
    elements: list[dict[str, str]] = []
    for value in values:
        element: dict[str, str] = {}
        position = 0
        while True:
            match = _PAIR.match(value, position)
            if match is None:
                raise Malformed(value)
            name, raw = match.group(1).lower(), match.group(2)
            if name in element:
                raise Malformed(value)
            element[name] = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
            position = match.end()
            if position == len(value) or value[position] == ",":
                elements.append(element)
                element = {}
                if position == len(value):
                    break
            elif value[position] != ";":
                raise Malformed(value)
            position += 1
    return elements


def _scheme(value: str | None) -> str | None:
    scheme = (value or "").strip().lower()
    return scheme if scheme in _SCHEMES else None


def _host(value: str | None) -> bytes | None:
    host = (value or "").strip()
    return host.encode() if host and _HOST.fullmatch(host) else None


def _last(values: list[str]) -> str | None:
    """The right-most item of comma-separated header values: what the nearest proxy set."""
    items = [item for value in values for item in value.split(",")]
    return items[-1] if items else None


class ClientResolver:
    def __init__(self, trusted: Sequence[Network], header: str = "x-forwarded-for") -> None:
        self.trusted = tuple(trusted)
        self.header = header

    def trusts(self, ip: str) -> bool:
        try:
            parsed = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        return any(parsed in network for network in self.trusted)

    def resolve(self, peer: str | None, scheme: str, headers: Iterable[tuple[bytes, bytes]]) -> Origin:
        own = Origin(peer or "unknown", scheme)
        if not self.trusted or peer is None or not self.trusts(peer):
            return own  # the client's own connection: nothing it says about hops is believed
        wanted: dict[bytes, list[str]] = {b"x-forwarded-for": [], b"x-forwarded-proto": [],
                                          b"x-forwarded-host": [], b"forwarded": []}
        for name, value in headers:
            if name in wanted:
                wanted[name].append(value.decode("latin-1"))
        try:
            if self.header == "forwarded":
                return self._from_forwarded(own, wanted[b"forwarded"])
            return self._from_x_forwarded(own, wanted)
        except Malformed:
            return own

    def _from_x_forwarded(self, own: Origin, wanted: dict[bytes, list[str]]) -> Origin:
        chain = [address(hop) for value in wanted[b"x-forwarded-for"] for hop in value.split(",")]
        client = own.client
        for hop in reversed(chain):
            client = hop
            if not self.trusts(hop):
                break
        return Origin(client, _scheme(_last(wanted[b"x-forwarded-proto"])) or own.scheme,
                      _host(_last(wanted[b"x-forwarded-host"])))

    def _from_forwarded(self, own: Origin, values: list[str]) -> Origin:
        chosen: dict[str, str] | None = None
        client = own.client
        for element in reversed(forwarded_elements(values)):
            if "for" not in element:
                raise Malformed("an element without for=")
            chosen, client = element, address(element["for"])  # `unknown` and `_hidden` are Malformed
            if not self.trusts(client):
                break
        if chosen is None:
            return own
        return Origin(client, _scheme(chosen.get("proto")) or own.scheme, _host(chosen.get("host")))


class ClientOrigin:
    """Puts the resolved client, scheme and host in the scope of every request (see the module doc)."""

    def __init__(self, app: ASGIApp, resolver: ClientResolver) -> None:
        self.app = app
        self.resolver = resolver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.resolver.trusted:
            scope = resolved_client(scope, self.resolver)
        await self.app(scope, receive, send)


def resolved_client(scope: Scope, resolver: ClientResolver) -> Scope:
    """A copy of the scope with the client, scheme and host the trusted proxies forwarded."""
    client = scope.get("client")
    peer = client[0] if client else None
    origin = resolver.resolve(peer, scope.get("scheme", "http"), scope["headers"])
    scope = {**scope, "client": (origin.client, client[1] if client and origin.client == peer else 0),
             "scheme": origin.scheme}
    if origin.host is not None:
        scope["headers"] = [*(h for h in scope["headers"] if h[0] != b"host"), (b"host", origin.host)]
    return scope
