"""The backtest on a Dask cluster: history as Parquet partitions, decided on the workers.

Optional (`pip install .[cluster]`: dask.distributed and pyarrow). The studio writes the
slice as Parquet files (one JSON `body` column, `rows_per_partition` rows a file) to a
folder every worker can read (a shared file system; an object store URL works through
fsspec); each worker loads both bundles once per task, decides its partition with
`bundle.replay.replay`, and returns a tally; the client adds the tallies up. Nothing
here knows the studio: bundle dicts, interaction dicts and file paths in, a tally out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bundle.replay import merge, replay_bundles


def write_partitions(
    rows: Iterable[Mapping[str, Any]], folder: Path, rows_per_partition: int = 50_000
) -> list[str]:
    """The rows as Parquet files in `folder`; the file paths, in order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths: list[str] = []
    chunk: list[str] = []

    def flush() -> None:
        path = folder / f"part-{len(paths):05d}.parquet"
        pq.write_table(pa.table({"body": pa.array(chunk, pa.string())}), path)
        paths.append(str(path))
        chunk.clear()

    for row in rows:
        chunk.append(json.dumps(row, separators=(",", ":")))
        if len(chunk) >= rows_per_partition:
            flush()
    if chunk:
        flush()
    return paths


def read_partition(path: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return [
        json.loads(body)
        for body in pq.read_table(path, columns=["body"]).column("body").to_pylist()
    ]


def replay_partition(
    path: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, Any]:
    """What a worker runs: one partition decided by both bundles."""
    return replay_bundles(before, after, read_partition(path))


def replay_on_cluster(
    client: Any, before: Mapping[str, Any], after: Mapping[str, Any], paths: list[str]
) -> dict[str, Any]:
    """Decide every partition on the cluster `client` (a `distributed.Client`) and reduce.

    The bundles are scattered once (broadcast to every worker), not sent with each task.
    """
    if not paths:
        return merge([])
    before_f, after_f = client.scatter([dict(before), dict(after)], broadcast=True)
    futures = client.map(replay_partition, paths, before=before_f, after=after_f, pure=False)
    return merge(client.gather(futures))
