"""Serving in production: a slow client gives up its thread instead of pinning it.

A sync worker reads a request body with no time limit, so a few connections that send
the headers of a `POST /sign-in` and then trickle (or never send) the body hold every
worker. `studio/gunicorn.conf.py` runs threaded workers (`FreeThreadWorker`, gunicorn's
gthread with several threads per worker) and wraps the app in `BodyTimeout`: each read
of the request body may wait at most `seconds` for the client, after which the request
is answered `408 Request Timeout` and nothing more is read from that connection, so the
thread is free again.

Connections are kept alive between requests (a downstream client that revalidates its
bundle or asks `/decide` many times a second pays no new connection each time). An idle
kept-alive connection waits in the worker's poller and holds no thread, and a worker
accepts a new connection only while one of its threads is free: a worker whose threads
are all held by slow clients leaves new connections to the other workers instead of
queueing them behind the slow ones.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any, Final

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]
from werkzeug.exceptions import RequestTimeout

DEFAULT_BODY_TIMEOUT: Final = 10.0

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _TimedInput:
    """`wsgi.input` whose reads turn a socket timeout into a 408 for the app to answer."""

    def __init__(self, stream: Any, connection: socket.socket) -> None:
        self._stream = stream
        self._connection = connection

    def read(self, *args: Any) -> bytes:
        return self._call(self._stream.read, *args)

    def readline(self, *args: Any) -> bytes:
        return self._call(self._stream.readline, *args)

    def readlines(self, *args: Any) -> list[bytes]:
        return self._call(self._stream.readlines, *args)

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except TimeoutError as exc:
            # Nothing more is read from this client: gunicorn would otherwise wait for
            # the rest of the body before closing, and the thread would be pinned again.
            try:
                self._connection.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            raise RequestTimeout("The request body did not arrive in time.") from exc


class BodyTimeout:
    """WSGI middleware: bound each wait for request-body bytes to `seconds` (gunicorn)."""

    def __init__(self, app: WSGIApp, seconds: float = DEFAULT_BODY_TIMEOUT) -> None:
        self.app = app
        self.seconds = seconds

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        connection = environ.get("gunicorn.socket")
        if isinstance(connection, socket.socket):
            connection.settimeout(self.seconds)
            environ["wsgi.input"] = _TimedInput(environ["wsgi.input"], connection)
        return self.app(environ, start_response)


def body_timeout_from_env() -> float:
    """`STUDIO_BODY_TIMEOUT` seconds, else the default."""
    return float(os.environ.get("STUDIO_BODY_TIMEOUT") or DEFAULT_BODY_TIMEOUT)


class FreeThreadWorker(ThreadWorker):
    """gunicorn's gthread worker that accepts a connection only while a thread is free.

    gthread itself stops accepting only at `worker_connections`, a count that includes
    idle kept-alive connections; with keep-alive on, that count must be far above the
    thread count, and a worker with every thread pinned by a slow client would go on
    accepting connections and queue them behind those clients. Here the connections
    that hold or wait for a thread (all of them but the idle kept-alive ones and those
    still waiting for their first byte in the poller) are counted against the threads.
    Written against gunicorn 27's gthread (`set_accept_enabled`, `accept`).
    """

    def busy(self) -> int:
        """Connections being served or queued for a thread."""
        return int(self.nr_conns) - len(self.keepalived_conns) - len(self.pending_conns)

    def has_free_thread(self) -> bool:
        return self.busy() < int(self.cfg.threads)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and self.has_free_thread())

    def accept(self, listener: socket.socket) -> None:
        if not self.has_free_thread():
            # Leave the connection in the listen queue for a worker with a free thread;
            # the run loop asks again after each finished request.
            super().set_accept_enabled(False)
            return
        super().accept(listener)
