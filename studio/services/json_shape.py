"""Checking the shape of JSON values field by field, naming the path of the field at fault.

Downstream systems send interactions and events as JSON; these checks refuse a value
that is not an object, has unknown or missing fields, or a field of the wrong JSON type,
as a `Refusal` whose `field` is a dotted path such as ``events[3].type``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from studio.errors import Refusal


def check_object(
    value: Any, where: str, *, allowed: Iterable[str], required: Iterable[str] = ()
) -> Refusal | None:
    """Refuse a non-object, a missing required field or any field not in `allowed`."""
    if not isinstance(value, Mapping):
        return Refusal(
            "invalid_type", f"{where or 'The body'} must be a JSON object.", field=where or None
        )
    allowed = allowed if isinstance(allowed, set | frozenset) else set(allowed)
    for name in value:
        if name not in allowed:
            path = f"{where}.{name}" if where else str(name)
            return Refusal(
                "unknown_field",
                f"'{name}' is not a field here; expected one of {', '.join(sorted(allowed))}.",
                field=path,
            )
    for name in required:
        if name not in value:
            path = f"{where}.{name}" if where else name
            return Refusal("missing_field", f"'{name}' is required.", field=path)
    return None


def check_lengths(
    value: Mapping[str, Any], where: str, limits: Mapping[str, int]
) -> Refusal | None:
    """Refuse the first text field longer than its limit in `limits` (name -> characters)."""
    for name, limit in limits.items():
        text = value.get(name)
        if isinstance(text, str) and len(text) > limit:
            return Refusal(
                "too_long",
                f"'{name}' has {len(text)} characters (at most {limit}).",
                field=f"{where}.{name}",
            )
    return None


def is_int(value: Any) -> bool:
    """A JSON whole number (booleans are not numbers here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def expect_types(
    value: Mapping[str, Any], where: str, types: Mapping[str, tuple[type, ...]]
) -> Refusal | None:
    """Refuse a present, non-null field whose JSON type is not among `types[name]`."""
    for name, kinds in types.items():
        if name not in value or value[name] is None:
            continue
        item = value[name]
        boolean = isinstance(item, bool) and bool not in kinds
        if boolean or not isinstance(item, kinds):
            path = f"{where}.{name}" if where else name
            # JSON's true and false are not numbers, though Python counts them as ints.
            got = f", not {str(item).lower()}" if boolean else ""
            return Refusal("invalid_type", f"'{name}' must be {_describe(kinds)}{got}.", field=path)
    return None


def _describe(kinds: tuple[type, ...]) -> str:
    words = {
        str: "text",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        dict: "an object",
        list: "a list",
    }
    if int in kinds and float in kinds:  # every number: "a whole number or a number" says less
        kinds = tuple(k for k in kinds if k is not int)
    return " or ".join(dict.fromkeys(words.get(k, k.__name__) for k in kinds))


def storable_text(text: str) -> bool:
    """Whether a database (and a UTF-8 answer) can hold `text`: no NUL character and no
    lone surrogate, which JSON readers accept through `\\u0000` and `\\ud800` escapes."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
