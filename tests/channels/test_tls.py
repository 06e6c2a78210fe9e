"""channels.tls: one verifying TLS context per process, shared by our HTTPS clients."""
from __future__ import annotations

import ssl

from channels.tls import client_context


def test_the_context_is_made_once_and_verifies_servers() -> None:
    context = client_context()
    assert client_context() is context
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # a CA bundle is loaded
