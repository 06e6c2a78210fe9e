"""One asyncio event loop in a daemon thread, for synchronous callers of asyncio clients.

Provider clients such as python-telegram-bot are asyncio, while our delivery worker and webhook
views are plain threads. A ``LoopThread`` owns a single long-lived loop: any thread hands it a
coroutine and blocks for the result, so connections stay pooled and no loop is ever created
per message.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """A lazily started event loop running in one daemon thread until ``close()``.

    ``run()`` and ``submit()`` are thread-safe. The thread starts on the first submission, so
    an object that is built but never used costs no thread. After ``close()`` nothing more can
    be submitted.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def started(self) -> bool:
        """Whether the loop's thread has been started (and not yet closed)."""
        return self._thread is not None

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop and return a future for its result.

        Raises RuntimeError after ``close()``, or when called from the loop's own thread
        (where blocking on the future would deadlock).
        """
        try:
            loop = self._running_loop()
        except RuntimeError:
            coro.close()  # never awaited: close it so Python does not warn about it
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` on the loop and block until its result, or its exception, arrives.

        When ``timeout`` seconds pass first, the coroutine is cancelled and TimeoutError raised.
        """
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.done():  # the coroutine itself raised TimeoutError
                raise
            future.cancel()
            raise TimeoutError(f"no result within {timeout} s") from None

    def close(self, timeout: float = 5.0) -> None:
        """Stop the loop (cancelling what still runs on it) and join its thread. Idempotent."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is closed")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._serve, args=(self._loop,), name=self._name, daemon=True)
                self._thread.start()
            if threading.current_thread() is self._thread:
                raise RuntimeError(f"cannot block on {self._name} from its own thread")
            return self._loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
