"""File downloads built on disk first: Parquet exports (a Parquet file's footer is
written last, so it cannot be streamed as it is made)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response

from studio.services import parquet_files


def parquet_download(write: Callable[[Path], object], name: str) -> Response:
    """`write(path)` fills a temporary file, sent as `name` and removed once sent;
    404 with the reason when pyarrow is not installed."""
    if not parquet_files.available():
        abort(
            404,
            description="Parquet export needs pyarrow: install the studio with its "
            "cluster extra (pip install '.[cluster]').",
        )
    handle = tempfile.NamedTemporaryFile(suffix=".parquet", delete=False)  # noqa: SIM115
    handle.close()
    path = Path(handle.name)
    try:
        write(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    response = send_file(
        path,
        mimetype="application/vnd.apache.parquet",
        as_attachment=True,
        download_name=name,
    )
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response
