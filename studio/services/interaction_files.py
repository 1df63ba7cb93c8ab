"""Reading an interaction history file as a stream: JSON lines or CSV, plain or gzip.

Memory stays bounded whatever the file's size: lines are read one at a time with a cap
(`MAX_ROW`), a longer line is skipped in chunks and reported, bytes that are not UTF-8
are reported for their line, a byte-order mark is dropped, and LF and CRLF line endings
may be mixed. Every record carries the byte offset just after it, so an import can stop
and continue there (for gzip the offset is in the decompressed stream).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dsl.schema import Schema
from studio.services.interaction_rows import RowProblem, body_from_cells
from studio.services.json_shape import storable_text

MAX_ROW: Final = 1024 * 1024
_SKIP_CHUNK: Final = 256 * 1024
_BOM: Final = b"\xef\xbb\xbf"
FORMATS: Final = ("jsonl", "csv")

csv.field_size_limit(MAX_ROW)


@dataclass
class Record:
    """One row of the file: where it starts, where the next begins, what it holds."""

    line: int
    end_offset: int
    body: dict[str, Any] | None
    problems: list[RowProblem] = field(default_factory=list)
    #: The row's JSON text as read (JSON lines), which is stored as the body as it is
    #: rather than encoding the parsed value again; empty for CSV.
    source: str = ""


def format_of(filename: str) -> str | None:
    """jsonl or csv from a file name (`.gz` allowed after it), else None."""
    name = filename.lower().removesuffix(".gz").removesuffix(".gzip")
    if name.endswith((".jsonl", ".ndjson", ".json", ".jsonlines")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    return None


def is_gzip(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


class Stream:
    """The file opened for reading at an offset, knowing how far the raw file is read."""

    def __init__(self, path: Path, offset: int) -> None:
        self._raw = path.open("rb")
        self.compressed = self._raw.read(2) == b"\x1f\x8b"
        self._raw.seek(0)
        self.data: io.BufferedIOBase = (
            gzip.GzipFile(fileobj=self._raw, mode="rb") if self.compressed else self._raw
        )
        if offset:
            self.data.seek(offset)

    @property
    def raw_position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self.data.close()
        self._raw.close()


class Lines:
    """Decoded lines from a stream, counting lines and bytes; problems flagged per line."""

    def __init__(self, stream: Stream, offset: int, line: int) -> None:
        self.stream = stream
        self.offset = offset
        self.line = line
        self.flag: RowProblem | None = None

    def __iter__(self) -> Iterator[str]:
        data = self.stream.data
        while True:
            raw = data.readline(MAX_ROW + 1)
            if not raw:
                return
            start = self.offset
            self.offset += len(raw)
            self.line += 1
            if len(raw) > MAX_ROW and not raw.endswith(b"\n"):
                size = len(raw)
                while True:
                    more = data.readline(_SKIP_CHUNK)
                    self.offset += len(more)
                    size += len(more)
                    if not more or more.endswith(b"\n"):
                        break
                self.flag = RowProblem(
                    "row",
                    f"is {size:,} bytes long; a row may be at most {MAX_ROW:,} bytes "
                    f"({MAX_ROW // 1024 // 1024} MB)",
                )
                yield "\n"
                continue
            if start == 0 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                self.flag = RowProblem(
                    "row",
                    f"is not UTF-8 text (byte {bad.start + 1} of the line); save the file as UTF-8",
                )
                yield "\n"
                continue
            yield text


def json_records(lines: Lines) -> Iterator[Record]:
    for text in lines:
        number, flag = lines.line, lines.flag
        lines.flag = None
        if flag is not None:
            yield Record(number, lines.offset, None, [flag])
            continue
        text = text.strip()
        if not text:
            continue
        try:
            value = json.loads(text, parse_constant=_not_a_number)
        except json.JSONDecodeError as bad:
            yield Record(
                number,
                lines.offset,
                None,
                [RowProblem("row", f"is not valid JSON: {bad.msg} at column {bad.colno}")],
            )
            continue
        except _NotJSON as bad:
            yield Record(number, lines.offset, None, [RowProblem("row", str(bad))])
            continue
        except RecursionError:
            yield Record(number, lines.offset, None, [RowProblem("row", "is nested too deeply")])
            continue
        if not isinstance(value, dict):
            yield Record(
                number,
                lines.offset,
                None,
                [RowProblem("row", "is not a JSON object (one interaction per line)")],
            )
            continue
        # Text holds a NUL or a lone surrogate only through a \\u escape (JSON forbids raw
        # control characters, and UTF-8 cannot encode surrogates).
        try:
            where = _unstorable_at(value) if "\\u" in text else None
        except RecursionError:
            yield Record(number, lines.offset, None, [RowProblem("row", "is nested too deeply")])
            continue
        if where is not None:
            yield Record(
                number,
                lines.offset,
                None,
                [
                    RowProblem(
                        where or "row",
                        "holds a NUL character or half of a character (an unpaired "
                        "surrogate, \\uD800 to \\uDFFF), which is not text a database "
                        "stores; correct the program that wrote the file",
                    )
                ],
            )
            continue
        yield Record(number, lines.offset, value, source=text)


class _NotJSON(ValueError):
    """A value Python's parser accepts that JSON does not (NaN, Infinity)."""


def _not_a_number(name: str) -> Any:
    raise _NotJSON(
        f"is not valid JSON: {name} is not a number JSON allows (write a number, or null)"
    )


def _unstorable_at(value: Any) -> str | None:
    """The dotted path of the first text in `value` (keys included) holding a NUL or a
    lone surrogate ("" for the value itself), else None."""
    if isinstance(value, str):
        return None if storable_text(value) else ""
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        name = _printable(str(key))
        if isinstance(key, str) and not storable_text(key):
            return name
        inner = _unstorable_at(item)
        if inner is not None:
            return f"{name}.{inner}" if inner else name
    return None


def _printable(name: str) -> str:
    """A field name as text that can be stored and shown (its bad characters escaped)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")[:80]


def read_header(lines: Lines) -> tuple[list[str] | None, RowProblem | None]:
    """The CSV header (the file's first record)."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return None, RowProblem("header", "the file is empty")
    except csv.Error as bad:
        return None, RowProblem("header", f"cannot be read as CSV: {bad}")
    if lines.flag is not None:
        return None, RowProblem("header", lines.flag.message)
    return [name.strip() for name in header], None


def csv_records(lines: Lines, schema: Schema, header: list[str]) -> Iterator[Record]:
    reader = csv.reader(lines)
    while True:
        first = lines.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as bad:
            lines.flag = None
            yield Record(first, lines.offset, None, [RowProblem("row", f"is not valid CSV: {bad}")])
            reader = csv.reader(lines)
            continue
        flag, lines.flag = lines.flag, None
        if flag is not None:
            yield Record(first, lines.offset, None, [flag])
            continue
        if not cells or cells == [""]:
            continue
        if lines.line > first:  # a quoted cell ran over lines: was a quote left open?
            open_quote = _swallowed_rows(cells, len(header), first, lines.line)
            if open_quote is not None:
                yield Record(first, lines.offset, None, [open_quote])
                continue
        body, problems = body_from_cells(schema, header, cells)
        if problems and lines.line > first and problems[0].field == "row":
            problems[0] = RowProblem(
                "row",
                f"{problems[0].message}: lines {first:,} to {lines.line:,} were read as one "
                "row, because a quoted cell ran on over them; check for a quote that is never "
                "closed",
            )
        yield Record(first, lines.offset, body if not problems else None, problems)


def _swallowed_rows(cells: list[str], columns: int, first: int, last: int) -> RowProblem | None:
    """A problem when a cell that ran over several lines holds a line that is a whole row
    of its own (as many cells as the header): the mark of a quote never closed, which
    made the reader take the rows after it as that cell's text."""
    if columns < 3:
        return None  # too few columns to tell a row from text
    line = first
    for cell in cells:
        for text in cell.split("\n")[1:]:
            line += 1
            if text.count(",") >= columns - 1 and len(next(csv.reader([text]), [])) == columns:
                return RowProblem(
                    "row",
                    f"lines {first:,} to {last:,} were read as one row: a quoted cell holds "
                    f"what looks like a whole row (line {line:,}); check for a quote that is "
                    "never closed. None of these lines was imported",
                )
    return None
