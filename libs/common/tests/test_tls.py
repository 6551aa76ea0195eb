"""The TLS context every outbound httpx client shares (`atelier_common.tls`): built once, and still
verifying servers as httpx's default would."""

from __future__ import annotations

import ssl

from atelier_common.tls import client_tls


def test_one_context_per_process_that_verifies_certificates_and_host_names() -> None:
    context = client_tls()
    assert client_tls() is context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.cert_store_stats()["x509_ca"] > 0  # the roots are loaded
