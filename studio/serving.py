"""Serving in production: a slow client gives up its thread instead of pinning it.

A sync worker reads a request body with no time limit, so a few connections that send
the headers of a `POST /sign-in` and then trickle (or never send) the body hold every
worker. `studio/gunicorn.conf.py` runs threaded workers (gthread, several threads per
worker) and wraps the app in `BodyTimeout`: each read of the request body may wait at
most `seconds` for the client, after which the request is answered `408 Request Timeout`
and nothing more is read from that connection, so the thread is free again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any, Final

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
