"""The client behind proxies (`trusted_proxies`): read from the right of the proxies' header up to
the first untrusted hop; the scheme and host believed from a trusted proxy only and only when
well-formed; malformed headers ignored. The resolved client is what rate limits count, what the
services are told and what the access log names."""

from __future__ import annotations

import ipaddress
import logging

import pytest

from atelier_gateway.forwarded import ClientResolver, address, forwarded_elements

PROXY = "203.0.113.9"  # the test client's socket address (conftest)
TRUSTED = ["203.0.113.0/24", "10.0.0.0/8", "2001:db8:ffff::/48"]


def _resolver(header: str = "x-forwarded-for") -> ClientResolver:
    return ClientResolver([ipaddress.ip_network(n) for n in TRUSTED], header)


def _h(**headers: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]


class TestResolver:
    @pytest.mark.parametrize(("xff", "client"), [
        ("198.51.100.1", "198.51.100.1"),
        ("1.1.1.1, 198.51.100.1", "198.51.100.1"),  # what the client sent is left of the real hop
        ("198.51.100.1, 10.1.2.3", "198.51.100.1"),  # a second trusted proxy is skipped
        ("10.0.0.1, 10.0.0.2", "10.0.0.1"),  # every hop trusted: the left-most
        ("198.51.100.1:4711", "198.51.100.1"),
        ("2001:db8::7", "2001:db8::7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("", PROXY), ("not-an-ip", PROXY), ("198.51.100.1,,", PROXY), ("1.1.1.1, _hidden", PROXY),
    ])
    def test_x_forwarded_for_from_the_right(self, xff: str, client: str) -> None:
        assert _resolver().resolve(PROXY, "http", _h(x_forwarded_for=xff)).client == client

    def test_an_untrusted_peer_is_the_client_whatever_it_says(self) -> None:
        origin = _resolver().resolve("198.51.100.66", "http", _h(
            x_forwarded_for="10.0.0.1", x_forwarded_proto="https", x_forwarded_host="evil.example"))
        assert (origin.client, origin.scheme, origin.host) == ("198.51.100.66", "http", None)
        nothing_trusted = ClientResolver([]).resolve(PROXY, "http", _h(x_forwarded_for="1.1.1.1"))
        assert nothing_trusted.client == PROXY

    @pytest.mark.parametrize(("proto", "scheme"), [("https", "https"), ("HTTP", "http"), ("evil", "http"),
                                                   ("http, https", "https"), ("", "http")])
    def test_only_http_and_https_are_believed_as_the_scheme(self, proto: str, scheme: str) -> None:
        assert _resolver().resolve(PROXY, "http", _h(x_forwarded_proto=proto)).scheme == scheme

    @pytest.mark.parametrize(("host", "believed"), [("shop.example.com", b"shop.example.com"),
                                                    ("shop.example.com:8443", b"shop.example.com:8443"),
                                                    ("[2001:db8::1]:8443", b"[2001:db8::1]:8443"),
                                                    ("evil.example/path", None), ("a b", None), ("", None)])
    def test_a_forwarded_host_must_be_a_host(self, host: str, believed: bytes | None) -> None:
        assert _resolver().resolve(PROXY, "http", _h(x_forwarded_host=host)).host == believed

    def test_rfc_7239_forwarded(self) -> None:
        resolver = _resolver("forwarded")
        origin = resolver.resolve(PROXY, "http", _h(
            forwarded='for=1.1.1.1;proto=http, for="[2001:db8::5]:4711";proto=https;host="shop.example.com", '
                      'for=10.0.0.3;proto=http'))
        assert (origin.client, origin.scheme, origin.host) == ("2001:db8::5", "https", b"shop.example.com")
        # Two header lines are one list; names are case-insensitive; an IPv6 proxy is matched.
        two = resolver.resolve("2001:db8:ffff::1", "http", [(b"forwarded", b"For=198.51.100.2"),
                                                             (b"forwarded", b"for=10.0.0.4;proto=https")])
        assert (two.client, two.scheme) == ("198.51.100.2", "http")
        # X-Forwarded-For is not what these proxies maintain: a client's copy is ignored.
        assert resolver.resolve(PROXY, "http", _h(x_forwarded_for="1.1.1.1")).client == PROXY

    @pytest.mark.parametrize("value", ["for=unknown", "for=_hidden", "for=2001:db8::1", "proto=https",
                                       "for=1.1.1.1;for=2.2.2.2", 'for="1.1.1.1', "for=1.1.1.1 junk",
                                       "for=1.1.1.1;proto=evil;host=a b"])
    def test_a_malformed_forwarded_header_leaves_the_peer(self, value: str) -> None:
        origin = _resolver("forwarded").resolve(PROXY, "https", _h(forwarded=value))
        assert (origin.client, origin.scheme, origin.host) == (PROXY, "https", None)

    def test_address_and_elements(self) -> None:
        assert address("[::1]") == "::1"
        with pytest.raises(ValueError):
            address("1.2.3.4:http")
        assert forwarded_elements(['for="_a\\"b";by=x', "for=1.2.3.4"]) == [{"for": '_a"b', "by": "x"},
                                                                            {"for": "1.2.3.4"}]


class TestThroughTheGateway:
    async def test_two_clients_behind_one_trusted_proxy_get_their_own_buckets(self, start_gateway) -> None:
        async with start_gateway(trusted_proxies=TRUSTED) as gateway:
            async def login(client: str, spoofed: str | None = None) -> int:
                chain = f"{spoofed}, {client}" if spoofed else client
                r = await gateway.client.post("/api/v1/auth/login", json={}, headers={"X-Forwarded-For": chain})
                return r.status_code

            assert [await login("198.51.100.1") for _ in range(4)] == [200, 200, 200, 429]
            # Another visitor through the same proxy is not held back by the first one.
            assert await login("198.51.100.2") == 200
            # The first one cannot pick a fresh bucket by sending an address of its choosing.
            assert await login("198.51.100.1", spoofed="192.0.2.200") == 429
            echoed = (await gateway.client.get("/api/v1/products", headers={
                "X-Forwarded-For": "192.0.2.200, 198.51.100.3", "X-Forwarded-Proto": "https"})).json()["headers"]
            assert (echoed["x-forwarded-for"], echoed["x-forwarded-proto"]) == ("198.51.100.3", "https")

    async def test_an_untrusted_peer_cannot_choose_its_bucket(self, start_gateway) -> None:
        async with start_gateway(trusted_proxies=["10.0.0.0/8"]) as gateway:
            statuses = [(await gateway.client.post("/api/v1/auth/login", json={}, headers={
                "X-Forwarded-For": f"192.0.2.{n}", "X-Forwarded-Proto": "evil"})).status_code for n in range(4)]
            assert statuses == [200, 200, 200, 429]
            echoed = (await gateway.client.get("/api/v1/products", headers={
                "X-Forwarded-For": "192.0.2.7", "X-Forwarded-Proto": "https"})).json()["headers"]
            assert (echoed["x-forwarded-for"], echoed["x-forwarded-proto"]) == (PROXY, "http")

    async def test_the_access_log_names_the_resolved_client(self, start_gateway, caplog) -> None:
        async with start_gateway(trusted_proxies=TRUSTED) as gateway:
            with caplog.at_level(logging.INFO, logger="atelier.access"):
                await gateway.client.get("/api/v1/products", headers={"X-Forwarded-For": "198.51.100.4"})
        lines = [r for r in caplog.records if r.name == "atelier.access" and r.fields["path"] == "/api/v1/products"]
        assert lines and lines[-1].fields["client"] == "198.51.100.4"

    async def test_a_trusted_proxys_host_and_scheme_build_the_services_urls(self, start_gateway) -> None:
        async with start_gateway(trusted_proxies=TRUSTED) as gateway:
            r = await gateway.client.get("/api/v1/products", headers={
                "X-Forwarded-For": "198.51.100.5", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"})
            echoed = r.json()["headers"]
            assert echoed["host"] == "shop.example.com" and echoed["x-forwarded-proto"] == "https"


def test_trusted_proxies_is_a_list_of_networks(tmp_path) -> None:
    from atelier_gateway.settings import GatewaySettings

    settings = GatewaySettings(data_dir=tmp_path, trusted_proxies=["10.0.0.0/8", "2001:db8::1"])
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "2001:db8::1/128"]
    with pytest.raises(ValueError):
        GatewaySettings(data_dir=tmp_path, trusted_proxies=["10.0.0.300/8"])


async def test_the_services_hear_how_long_the_gateway_waits_and_never_a_clients_word(start_gateway) -> None:
    # A service cuts its idempotent work at that deadline (atelier_common.idempotency).
    async with start_gateway(proxy_timeout_seconds=12.5) as gateway:
        echoed = (await gateway.client.get("/api/v1/products", headers={"X-Request-Timeout": "3600"})).json()
        assert echoed["headers"]["x-request-timeout"] == "12.5"
