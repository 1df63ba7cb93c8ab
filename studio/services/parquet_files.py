"""Writing exports as Parquet files for BI tools, in bounded memory.

Parquet needs pyarrow (the `cluster` extra); `available()` says whether it is
installed, and pages offer the Parquet links only then. `write` takes the rows as an
iterator and writes them in row groups of `batch` rows, so an export of millions of
rows holds one row group in memory, never the whole table.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

#: Column kinds and their Arrow types (built when writing; pyarrow is optional).
KINDS: Final = ("string", "int", "float", "date", "timestamp")


def available() -> bool:
    """Parquet export needs pyarrow (the `cluster` extra)."""
    return importlib.util.find_spec("pyarrow") is not None


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def write(
    path: Path,
    columns: Sequence[str],
    kinds: Mapping[str, str],
    rows: Iterable[Sequence[Any]],
    *,
    batch: int = 10_000,
) -> int:
    """Write `rows` (sequences in `columns` order) to `path`; the number of rows.

    `kinds` names a column's kind (one of `KINDS`); a column not named is text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    schema = pa.schema([(name, arrow[kinds.get(name, "string")]) for name in columns])
    stamps = [i for i, name in enumerate(columns) if kinds.get(name) == "timestamp"]
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        part: list[Sequence[Any]] = []

        def flush() -> None:
            data = {name: [row[i] for row in part] for i, name in enumerate(columns)}
            for i in stamps:
                data[columns[i]] = [_aware(v) for v in data[columns[i]]]
            writer.write_table(pa.table(data, schema=schema))

        for row in rows:
            part.append(row)
            if len(part) >= batch:
                flush()
                count += len(part)
                part = []
        if part or count == 0:
            flush()
            count += len(part)
    return count
