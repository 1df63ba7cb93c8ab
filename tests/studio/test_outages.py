"""Repeated identical log records are let through once per window, with a count."""

from __future__ import annotations

import logging

from studio.outages import RepeatFilter


def _record(message: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("studio.app", level, __file__, 1, message, None, None)


def test_identical_records_pass_once_per_window_then_say_how_many_were_dropped() -> None:
    now = [0.0]
    repeat = RepeatFilter(window=10, clock=lambda: now[0])
    passed = [repeat.filter(_record("Database unavailable: %s")) for _ in range(500)]
    assert passed.count(True) == 1
    now[0] = 11.0
    summary = _record("Database unavailable: %s")
    assert repeat.filter(summary)
    assert "and 499 more like it" in summary.msg


def test_different_messages_are_not_held_back_by_each_other() -> None:
    repeat = RepeatFilter(window=10, clock=lambda: 0.0)
    assert repeat.filter(_record("one"))
    assert repeat.filter(_record("two"))
    assert repeat.filter(_record("one", logging.WARNING))
    assert not repeat.filter(_record("one"))
