"""Sets of values and a bounded satisfiability check, for contradictions and shadowing.

Each comparison constrains one dimension (a field, or a pseudo-field such as
"customer.products contains X") to a set of values drawn from the field's domain
plus NULL (a missing field). Negation is complement, so `x is not a` (false when x
is missing) and `not x is a` (true when x is missing) come out right. An expression
is put in disjunctive normal form, bounded in size; a conjunction whose set for some
dimension is empty can never hold.

Dimensions the analysis cannot relate (field-to-field comparisons, contains on free
data) are treated as independent, which can only make more things look possible:
the checker may miss a contradiction, but never reports one that is not there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

NULL = ("null",)  # a sentinel element: tuples never collide with field values


class TooComplex(Exception):
    """The normal form would exceed `MAX_TERMS`; the analysis gives up silently."""


MAX_TERMS = 256


@dataclass(frozen=True)
class Finite:
    """A subset of a known finite universe (enum values, booleans), NULL included."""

    universe: frozenset[Hashable]
    members: frozenset[Hashable]

    def complement(self) -> Finite:
        return Finite(self.universe, self.universe - self.members)

    def intersect(self, other: ValueSet) -> ValueSet:
        assert isinstance(other, Finite)
        return Finite(self.universe, self.members & other.members)

    @property
    def empty(self) -> bool:
        return not self.members


@dataclass(frozen=True)
class Open:
    """A finite or co-finite set over an unbounded domain (texts, free data)."""

    cofinite: bool
    elements: frozenset[Hashable]

    def complement(self) -> Open:
        return Open(not self.cofinite, self.elements)

    def intersect(self, other: ValueSet) -> ValueSet:
        assert isinstance(other, Open)
        if not self.cofinite and not other.cofinite:
            return Open(False, self.elements & other.elements)
        if not self.cofinite:
            return Open(False, self.elements - other.elements)
        if not other.cofinite:
            return Open(False, other.elements - self.elements)
        return Open(True, self.elements | other.elements)

    @property
    def empty(self) -> bool:
        return not self.cofinite and not self.elements


Bound = tuple[float, bool]  # (value, closed)


@dataclass(frozen=True)
class Numbers:
    """A union of disjoint intervals of numbers, plus whether NULL belongs."""

    intervals: tuple[tuple[float, bool, float, bool], ...]
    null: bool = False

    @staticmethod
    def between(lo: float, lo_closed: bool, hi: float, hi_closed: bool) -> Numbers:
        return Numbers(_normalize([(lo, lo_closed, hi, hi_closed)]))

    @staticmethod
    def points(values: Iterable[float]) -> Numbers:
        return Numbers(_normalize([(v, True, v, True) for v in values]))

    def complement(self) -> Numbers:
        gaps = []
        lo, lo_closed = -math.inf, False
        for a, a_closed, b, b_closed in self.intervals:
            gaps.append((lo, lo_closed, a, not a_closed))
            lo, lo_closed = b, not b_closed
        gaps.append((lo, lo_closed, math.inf, False))
        return Numbers(_normalize(gaps), not self.null)

    def intersect(self, other: ValueSet) -> ValueSet:
        assert isinstance(other, Numbers)
        out = []
        for a in self.intervals:
            for b in other.intervals:
                lo = max((a[0], not a[1]), (b[0], not b[1]))
                hi = min((a[2], a[3]), (b[2], b[3]))
                out.append((lo[0], not lo[1], hi[0], hi[1]))
        return Numbers(_normalize(out), self.null and other.null)

    @property
    def empty(self) -> bool:
        return not self.intervals and not self.null


def _normalize(
    intervals: list[tuple[float, bool, float, bool]],
) -> tuple[tuple[float, bool, float, bool], ...]:
    valid = [
        iv
        for iv in intervals
        if iv[0] < iv[2] or (iv[0] == iv[2] and iv[1] and iv[3] and math.isfinite(iv[0]))
    ]
    valid.sort(key=lambda iv: (iv[0], not iv[1]))
    merged: list[tuple[float, bool, float, bool]] = []
    for iv in valid:
        if merged:
            last = merged[-1]
            touches = iv[0] < last[2] or (iv[0] == last[2] and (iv[1] or last[3]))
            if touches:
                if (iv[2], iv[3]) > (last[2], last[3]):
                    merged[-1] = (last[0], last[1], iv[2], iv[3])
                continue
        merged.append(iv)
    return tuple(merged)


ValueSet = Finite | Open | Numbers


@dataclass(frozen=True)
class Atom:
    """One comparison as a constraint: dimension `key` must take a value in `values`.

    `source` is whatever the caller uses to name the comparison in a message (the
    checker passes the AST node and formats it only when a conflict is reported).
    """

    key: Hashable
    values: ValueSet
    source: object
    negated: bool = False

    def negate(self) -> Atom:
        return Atom(self.key, self.values.complement(), self.source, not self.negated)

    @property
    def text(self) -> tuple[object, bool]:
        return (self.source, self.negated)


@dataclass(frozen=True)
class Const:
    """A comparison whose outcome is known without data (`1 < 2`)."""

    value: bool
    text: object


@dataclass(frozen=True)
class AndF:
    items: tuple[Formula, ...]


@dataclass(frozen=True)
class OrF:
    items: tuple[Formula, ...]


@dataclass(frozen=True)
class NotF:
    item: Formula


Formula = Atom | Const | AndF | OrF | NotF


def _nnf(f: Formula, negated: bool = False) -> Formula:
    if isinstance(f, Atom):
        return f.negate() if negated else f
    if isinstance(f, Const):
        return Const(f.value != negated, f.text)
    if isinstance(f, NotF):
        return _nnf(f.item, not negated)
    items = tuple(_nnf(i, negated) for i in f.items)
    if isinstance(f, AndF):
        return OrF(items) if negated else AndF(items)
    return AndF(items) if negated else OrF(items)


@dataclass(frozen=True)
class Conflict:
    """Why a conjunction can never hold: these comparisons cannot all be true.

    Each entry is an atom's `text`: (source, negated).
    """

    texts: tuple[Any, ...]  # an Atom's (source, negated), or a Const's text


Term = dict[Hashable, tuple[ValueSet, tuple[object, ...]]]  # key -> (ValueSet, texts)


def _conjoin(a: Term, b: Term) -> Term | Conflict:
    out = dict(a)
    for key, (values, texts) in b.items():
        if key in out:
            mine, my_texts = out[key]
            values = mine.intersect(values)
            texts = my_texts if len(my_texts) >= 3 else (my_texts + texts)[:3]
        if values.empty:
            return Conflict(tuple(dict.fromkeys(texts, None)))
        out[key] = (values, texts)
    return out


def _dnf(f: Formula, conflicts: list[Conflict]) -> list[Term]:
    if isinstance(f, Atom):
        if f.values.empty:
            conflicts.append(Conflict((f.text,)))
            return []
        return [{f.key: (f.values, (f.text,))}]
    if isinstance(f, Const):
        if not f.value:
            conflicts.append(Conflict((f.text,)))
            return []
        return [{}]
    if isinstance(f, OrF):
        out: list[Term] = []
        for item in f.items:
            out.extend(_dnf(item, conflicts))
            if len(out) > MAX_TERMS:
                raise TooComplex
        return out
    assert isinstance(f, AndF)
    terms: list[Term] = [{}]
    for item in f.items:
        part = _dnf(item, conflicts)
        combined: list[Term] = []
        for left in terms:
            for right in part:
                joined = _conjoin(left, right)
                if isinstance(joined, Conflict):
                    conflicts.append(joined)
                else:
                    combined.append(joined)
                    if len(combined) > MAX_TERMS:
                        raise TooComplex
        terms = combined
        if not terms:
            return []
    return terms


def normal_form(f: Formula) -> tuple[list[Term] | None, Conflict | None]:
    """`f`'s disjunctive normal form (None when too complex), and why it is empty when it
    is. The terms are never modified, so a caller may keep them for `implies_terms`."""
    conflicts: list[Conflict] = []
    try:
        terms = _dnf(_nnf(f), conflicts)
    except (TooComplex, RecursionError):
        return None, None
    if terms:
        return terms, None
    return terms, conflicts[0] if conflicts else Conflict(())


def satisfiable(f: Formula) -> bool | Conflict | None:
    """True when some data could make `f` hold, a `Conflict` when none can, None if unknown."""
    terms, conflict = normal_form(f)
    if terms is None:
        return None
    return True if terms else conflict


def implies(a: Formula, b: Formula) -> bool:
    """Whether `a` holding guarantees `b` holds (False when unknown)."""
    result = satisfiable(AndF((a, NotF(b))))
    return isinstance(result, Conflict)


def implies_terms(terms_a: list[Term] | None, terms_not_b: Callable[[], list[Term] | None]) -> bool:
    """`implies(a, b)` from `a`'s normal form and (asked only when needed) that of
    `not b`: what `implies` works out, without normalising `a` and `not b` again for
    every pair a checker compares. Gives up (False) exactly where `implies` does."""
    if terms_a is None:
        return False
    if not terms_a:
        return True
    terms_b = terms_not_b()
    if terms_b is None:
        return False
    combined = 0
    for left in terms_a:
        for right in terms_b:
            if not isinstance(_conjoin(left, right), Conflict):
                combined += 1
                if combined > MAX_TERMS:
                    return False
    return combined == 0


def always(f: Formula) -> bool:
    """Whether `f` holds for every interaction (False when unknown)."""
    return isinstance(satisfiable(NotF(f)), Conflict)
