"""One TLS client context per process, shared by every HTTPS client we build.

httpx makes a new ``ssl.SSLContext`` for each client and loads the CA bundle into it, about
1 MB of memory and 40 ms of start-up each; a serving process builds several clients (the
Telegram Bot API's two, Twilio's media, the registry's, the speech and Rasa servers'). This one
is what httpx would make (``httpx.create_ssl_context()``: certifi's CA bundle, or
``SSL_CERT_FILE``/``SSL_CERT_DIR`` from the environment), made once.

Sharing is safe: an ``SSLContext`` is thread-safe for opening connections. httpcore sets the
ALPN protocols on it for each connection; every client here speaks HTTP/1.1 only, so they all
set the same list. A client that enabled HTTP/2 would need a context of its own.
"""
from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    """The process's context for verifying servers, built on first use."""
    return httpx.create_ssl_context()
