"""The part the local registry servers share: a WSGI app served over real HTTP on 127.0.0.1 in
a thread (a context manager), and faults scripted for the next valid requests."""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Fault:
    """What to do with one valid request instead of (or before) handling it."""

    kind: str  # "fail" | "hang" | "hang-drop" | "malformed"
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0


class FaultyServer:
    """Serves ``_answer`` (subclasses write it). Once a request is found valid, ``_answer`` takes
    the next fault with ``_take_fault`` and waits out a hang with ``_dropped``."""

    def __init__(self, name: str, port: int = 0) -> None:
        self.hanging = threading.Event()  # set while a request is held by hang_next
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = make_server("127.0.0.1", port, self._wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=name, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_port

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release.set()  # releases held requests
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, status: int, *, retry_after: float | str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` valid requests ``status`` (with a Retry-After when given),
        storing nothing."""
        fault = Fault("fail", status, None if retry_after is None else str(retry_after))
        with self._lock:
            self._faults.extend([fault] * times)

    def hang_next(self, seconds: float, *, store: bool = True) -> None:
        """Hold the next valid request ``seconds`` (or until ``release``), then handle it (or,
        ``store=False``, drop it and answer 503): a client that timed out or died cannot tell."""
        with self._lock:
            self._faults.append(Fault("hang" if store else "hang-drop", seconds=seconds))

    def release(self) -> None:
        """End every hang now."""
        self._release.set()

    def malformed_next(self) -> None:
        """Handle the next valid request, but answer 200 with a body that is not JSON."""
        with self._lock:
            self._faults.append(Fault("malformed", 200))

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _dropped(self, fault: Fault | None) -> bool:
        """Wait out a hang; True when the held request is to be dropped."""
        if fault is None or not fault.kind.startswith("hang"):
            return False
        self.hanging.set()
        self._release.wait(fault.seconds)
        return fault.kind == "hang-drop"

    def _wsgi(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        raise NotImplementedError
