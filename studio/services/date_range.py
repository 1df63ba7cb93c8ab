"""A From/To pair of days typed into a filter, read the same way wherever one is asked for
(History, Analytics): a day that is not a date is named back with its value, and a From
after To is swapped and said so, never silently.
"""

from __future__ import annotations

from datetime import date

from studio.errors import FieldError


def iso_day(value: str | None) -> date | None:
    """`value` as a day (YYYY-MM-DD), or None when it is empty or not a date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def not_a_date(value: str) -> str:
    return f"{value[:20]} is not a date; write it like 2026-11-30."


def day(value: str | None, name: str, problems: list[FieldError]) -> date | None:
    """`value` as a day; when it is not one, a problem naming `name` and the value is added
    to `problems` and None is returned (an empty value is no problem)."""
    if not value:
        return None
    found = iso_day(value)
    if found is None:
        problems.append(FieldError(name, not_a_date(value)))
    return found


def swapped(start: date | str, end: date | str, *, doing: str) -> str:
    """What to say once a From after To has been swapped into `start` to `end`."""
    return f"From was after To, so the dates were swapped: {doing} {start} to {end}."
