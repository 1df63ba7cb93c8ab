"""The seam between the studio and its compilers: the rule language and MJML.

Publishing and review impact reach `dsl` and `content` only through `Toolchain`, so
their logic is testable with a fake compiler and the libraries evolve behind one
adapter (`DslToolchain`). Results cross the seam as plain data (`Compiled`, `OfferRef`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import dsl
from content.mjml import compile_mjml
from dsl.parser import parse_ruleset
from dsl.schema import Schema, default_schema


@dataclass(frozen=True)
class Compiled:
    """A compile result as plain data: diagnostics are dicts (code, severity, message,
    line, column, hint), `ir` is JSON-ready or None when there were errors."""

    ok: bool
    diagnostics: list[dict[str, Any]]
    ir: Any = None


@dataclass(frozen=True)
class OfferRef:
    """A place where a ruleset names an offer."""

    key: str
    line: int | None
    column: int | None
    rule: str


class Toolchain(Protocol):
    def default_schema(self) -> dict[str, Any]: ...

    def compile_ruleset(
        self,
        source: str,
        *,
        schema: Mapping[str, Any],
        offers: Mapping[str, Mapping[str, Any]],
        name: str,
        surveys: Iterable[str] | None = None,
    ) -> Compiled: ...

    def compile_eligibility(self, source: str, *, schema: Mapping[str, Any]) -> Compiled: ...

    def offer_refs(self, source: str) -> list[OfferRef]: ...

    def compile_mjml(self, source: str) -> str: ...

    def decide(
        self,
        ir: Mapping[str, Any],
        interaction: Mapping[str, Any],
        offers: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]: ...


class DslToolchain:
    """The real compilers: `dsl` for rules and eligibility, `content` for MJML."""

    def default_schema(self) -> dict[str, Any]:
        return default_schema().to_dict()

    @staticmethod
    def _schema(schema: Mapping[str, Any]) -> Any:
        return Schema.from_dict(dict(schema))

    @staticmethod
    def _catalog(offers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        catalog = {}
        for key, body in offers.items():
            try:
                catalog[key] = dsl.OfferInfo.from_dict({**body, "key": key})
            except dsl.DSLError:
                catalog[key] = dsl.OfferInfo.from_dict({"key": key, "value": 0})
        return catalog

    @staticmethod
    def _plain(result: Any) -> Compiled:
        return Compiled(
            ok=bool(result.ok),
            diagnostics=[d.to_dict() for d in result.diagnostics],
            ir=result.ir if result.ok else None,
        )

    def compile_ruleset(
        self,
        source: str,
        *,
        schema: Mapping[str, Any],
        offers: Mapping[str, Mapping[str, Any]],
        name: str,
        surveys: Iterable[str] | None = None,
    ) -> Compiled:
        try:
            result = dsl.compile_ruleset(
                source,
                schema=self._schema(schema),
                offers=self._catalog(offers),
                name=name,
                surveys=surveys,
            )
        except dsl.DSLError as failed:
            return Compiled(False, [d.to_dict() for d in failed.diagnostics])
        return self._plain(result)

    def compile_eligibility(self, source: str, *, schema: Mapping[str, Any]) -> Compiled:
        try:
            result = dsl.check_expression(source, schema=self._schema(schema))
        except dsl.DSLError as failed:
            return Compiled(False, [d.to_dict() for d in failed.diagnostics])
        return self._plain(result)

    def offer_refs(self, source: str) -> list[OfferRef]:
        tree, _diagnostics = parse_ruleset(source)
        if tree is None:
            return []
        refs = []
        for rule in tree.rules:
            for clause in rule.offers:
                refs.append(
                    OfferRef(clause.key, clause.key_span.line, clause.key_span.column, rule.name)
                )
            for follow in rule.follow_ups:
                if follow.offer_keyword:
                    refs.append(
                        OfferRef(
                            follow.key, follow.key_span.line, follow.key_span.column, rule.name
                        )
                    )
        return refs

    def compile_mjml(self, source: str) -> str:
        return compile_mjml(source)

    def decide(
        self,
        ir: Mapping[str, Any],
        interaction: Mapping[str, Any],
        offers: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]:
        return dsl.load_ruleset(dict(ir)).decide(
            dict(interaction), self._catalog(offers), explain=False
        )


def default_toolchain() -> Toolchain:
    return DslToolchain()
