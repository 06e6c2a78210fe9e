"""Just enough HTTP/1.1 on asyncio streams for the load driver: a keep-alive client connection
and a server, both with Content-Length bodies (what our clients and the providers' send).

The driver and its stand-in provider servers share one event loop, so a reply's arrival and the
webhook that caused it are timed on one clock. Kept this small so that the driver is not the
bottleneck it measures.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MAX_BODY = 2 * 1024 * 1024
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    length = int(headers.get("content-length") or 0)
    if length > MAX_BODY:
        raise ValueError("body too large")
    return await reader.readexactly(length) if length else b""


def _encode(first_line: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [first_line, *(f"{name}: {value}" for name, value in headers.items()), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive client connection; requests on it go one at a time. It reconnects after
    the server closed it, and raises ConnectionError when the server is unreachable."""

    def __init__(self, host: str, port: int):
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                      timeout: float = 30.0) -> HttpResponse:
        async with self._lock:
            try:
                return await asyncio.wait_for(self._exchange(method, path, headers, body), timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                await self.close()
                raise ConnectionError(f"{type(exc).__name__}: {exc}") from None

    async def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpResponse:
        if self._writer is not None and self._reader.at_eof():  # the server closed it while idle
            await self.close()
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        all_headers = {"Host": f"{self._host}:{self._port}", **headers}
        self._writer.write(_encode(f"{method} {path} HTTP/1.1", all_headers, body))
        await self._writer.drain()
        head = await _read_head(self._reader)
        if head is None:
            raise ConnectionError("the server closed the connection")
        status_line, response_headers = head
        response_body = await _read_body(self._reader, response_headers)
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        return HttpResponse(int(status_line.split()[1]), response_headers, response_body)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


async def serve(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    """Serve ``handler`` with keep-alive; the port is ``server.sockets[0].getsockname()[1]``."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (head := await _read_head(reader)) is not None:
                request_line, headers = head
                method, path, _ = request_line.split(" ", 2)
                body = await _read_body(reader, headers)
                response = await handler(HttpRequest(method, path, headers, body))
                status = response.status
                writer.write(_encode(f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", response.headers,
                                     response.body))
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, ValueError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # The server is closing: the connection ends here. Ending the task normally keeps
            # Python 3.12.1's start_server callback from printing a traceback for each one.
            pass
        finally:
            writer.close()

    return await asyncio.start_server(connection, host, port, backlog=1024)
