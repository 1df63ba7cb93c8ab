"""gunicorn settings for serving the studio in production (`studio serve --production`).

    gunicorn -c studio/gunicorn.conf.py 'studio:create_app()'

Threaded workers (`studio.serving.FreeThreadWorker`, gunicorn's gthread) so a slow client
holds one thread, not a whole worker; connections are kept alive between requests
without holding a thread; each wait for request-body bytes is bounded
(`studio.serving.BodyTimeout`); header sizes are capped. Every number can be set from
the environment; docs/operations.md, "Serving in production", explains them.
"""

from __future__ import annotations

import os

from studio.serving import BodyTimeout, body_timeout_from_env

bind = os.environ.get("STUDIO_BIND", "127.0.0.1:8000")
worker_class = "studio.serving.FreeThreadWorker"
# One process per core: the GIL lets one thread of a process run Python at a time.
workers = int(os.environ.get("STUDIO_WEB_WORKERS", "2"))
threads = int(os.environ.get("STUDIO_WEB_THREADS", "8"))
# A worker whose main loop stops for this long is restarted (the threads keep it alive
# while they serve slow requests; a hung worker is what this catches).
timeout = int(os.environ.get("STUDIO_WEB_TIMEOUT", "30"))
graceful_timeout = 30
# A worker accepts a new connection only while one of its threads is free, so a worker
# whose threads are all held by slow clients leaves new connections to the others
# (FreeThreadWorker). Idle kept-alive connections wait in the poller, holding no
# thread; `worker_connections` caps them with the busy ones.
worker_connections = int(os.environ.get("STUDIO_WEB_CONNECTIONS", "1000"))
keepalive = int(os.environ.get("STUDIO_WEB_KEEPALIVE", "5"))
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = os.environ.get("STUDIO_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("STUDIO_LOG_LEVEL", "info")


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Wrap the loaded app so body reads are time-boxed."""
    worker.wsgi = BodyTimeout(worker.wsgi, body_timeout_from_env())
