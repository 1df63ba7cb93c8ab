"""Replaying history through two bundles and counting what changes: the backtest's core.

Pure: bundle dicts and interaction dicts in, a JSON-ready tally out. Both sides decide
with `BundleRuntime.decide`, the code path of `POST /api/v1/decide`, without rendering
(a backtest counts decisions). Tallies of chunks add up with `merge`, so a run can be
split over processes or Dask workers and reduced in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from bundle.runtime import BundleRuntime

MAX_EXAMPLES: Final = 25
#: Per key: offers made per offer and per rule; guards fired and offers held out per
#: ruleset (one interaction counts once in each ruleset whose guard fired).
_COUNTERS: Final = ("offers", "rules", "guards", "holdouts")
#: Per interaction, each counted at most once per interaction decided: an offer made
#: (`reached`), an offer held out by any ruleset (`held_out`), a guard fired in any
#: ruleset or in the contact policy (`guarded`). One interaction can be in several.
_INTERACTIONS: Final = ("reached", "held_out", "guarded")


def empty_tally() -> dict[str, Any]:
    def side() -> dict[str, Any]:
        return {**{name: {} for name in _COUNTERS}, **{name: 0 for name in _INTERACTIONS}}

    return {
        "decided": 0,
        "changed": 0,
        "refused": 0,
        "before": side(),
        "after": side(),
        "examples": [],
    }


def _count(into: dict[str, Any], decision: Mapping[str, Any]) -> tuple[str, ...]:
    offers = tuple(sorted(str(o.get("offer")) for o in decision.get("offers", ())))
    for made in decision.get("offers", ()):
        key = str(made.get("offer"))
        into["offers"][key] = into["offers"].get(key, 0) + 1
        rule = f"{made.get('ruleset')}/{made.get('rule')}"
        into["rules"][rule] = into["rules"].get(rule, 0) + 1
    guarded = bool((decision.get("policy") or {}).get("guards"))
    held_out = False
    for ruleset in decision.get("rulesets", ()):
        for guard in ruleset.get("guards", ()) or ():
            text = f"{ruleset.get('key')}: {guard.get('text') or guard.get('line')}"
            into["guards"][text] = into["guards"].get(text, 0) + 1
            guarded = True
        for held in ruleset.get("holdouts", ()) or ():
            key = str(held.get("offer"))
            into["holdouts"][key] = into["holdouts"].get(key, 0) + 1
            held_out = True
    into["reached"] += bool(offers)
    into["held_out"] += held_out
    into["guarded"] += guarded
    return offers


def replay(
    before: BundleRuntime, after: BundleRuntime, interactions: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Decide each interaction with both runtimes and tally both sides and the changes."""
    tally = empty_tally()
    for interaction in interactions:
        try:
            old = before.decide(interaction, channels=())
            new = after.decide(interaction, channels=())
        except (ValueError, TypeError, KeyError):
            tally["refused"] += 1
            continue
        tally["decided"] += 1
        was, now = _count(tally["before"], old), _count(tally["after"], new)
        if was != now:
            tally["changed"] += 1
            if len(tally["examples"]) < MAX_EXAMPLES:
                tally["examples"].append(
                    {"id": str(interaction.get("id", "")), "before": list(was), "after": list(now)}
                )
    return tally


def replay_bundles(
    before: Mapping[str, Any], after: Mapping[str, Any], interactions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`replay` from bundle dicts: what a worker process or Dask task runs.

    Compiling a bundle is slow next to deciding (about 0.3 s for 1,000 rules, the time of
    thousands of decisions), so the last pair compiled in this process is kept and
    reused while the same two dicts (the same objects) come again, as they do for every
    task of one Dask job, whose bundles are scattered to each worker once.
    """
    global _compiled
    if _compiled is None or _compiled[0] is not before or _compiled[1] is not after:
        _compiled = (
            before,
            after,
            BundleRuntime.from_bundle(before),
            BundleRuntime.from_bundle(after),
        )
    return replay(_compiled[2], _compiled[3], interactions)


_compiled: tuple[Mapping[str, Any], Mapping[str, Any], BundleRuntime, BundleRuntime] | None = None
_loaded: tuple[BundleRuntime, BundleRuntime] | None = None


def load_for_process(before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """Compile both bundles once in this process: a process pool's initializer, so each
    chunk then sends only its interactions (`replay_loaded`)."""
    global _loaded
    _loaded = (BundleRuntime.from_bundle(before), BundleRuntime.from_bundle(after))


def replay_loaded(interactions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`replay` with the bundles `load_for_process` compiled in this process."""
    if _loaded is None:
        raise RuntimeError("load_for_process must run in this process first")
    return replay(_loaded[0], _loaded[1], interactions)


def merge(tallies: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The sum of chunk tallies (examples kept up to MAX_EXAMPLES, in order given)."""
    total = empty_tally()
    for tally in tallies:
        for name in ("decided", "changed", "refused"):
            total[name] += tally[name]
        for side in ("before", "after"):
            for name in _INTERACTIONS:
                total[side][name] += tally[side].get(name, 0)
            for counter in _COUNTERS:
                into = total[side][counter]
                for key, n in tally[side][counter].items():
                    into[key] = into.get(key, 0) + n
        room = MAX_EXAMPLES - len(total["examples"])
        total["examples"].extend(tally["examples"][: max(0, room)])
    return total
