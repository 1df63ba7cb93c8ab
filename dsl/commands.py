"""Shell commands: `check`, `fmt` and `decide` (plain click, mounted by `studio`).

`studio/cli.py` adds these to the `studio` group; `python -m dsl` runs them alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from dsl import check_expression, compile_ruleset, load_ruleset
from dsl.diagnostics import DSLError, format_diagnostic
from dsl.formatter import format_source
from dsl.interaction import prepare_interaction
from dsl.offers import OfferInfo, offer_catalog
from dsl.schema import Schema, default_schema
from dsl.tone import DEFAULT_DISTRESS_TERMS, distress_terms

MAX_FILE_BYTES = 4_000_000


def _read(path: str) -> str:
    """A file's text; bytes that are not UTF-8 become U+FFFD and are then reported."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise click.ClickException(f"{path}: {err.strerror or err}") from None
    return data.decode("utf-8", errors="replace")


def _load_json(path: str, what: str) -> Any:
    try:
        return json.loads(_read(path))
    except (ValueError, RecursionError) as err:
        raise click.ClickException(
            f"{path}: the {what} is not valid JSON ({str(err)[:120]})"
        ) from None


def _schema(path: str | None) -> Schema:
    if path is None:
        return default_schema()
    try:
        return Schema.from_dict(_load_json(path, "schema"))
    except DSLError as err:
        _print_diagnostics(path, None, err.diagnostics, err=True)
        raise SystemExit(1) from None


def _offers(path: str, schema: Schema) -> dict[str, OfferInfo]:
    data = _load_json(path, "offers file")
    if not isinstance(data, list):
        raise click.ClickException(f"{path}: the offers file must be a JSON list of offers")
    try:
        catalog = offer_catalog(data)
    except DSLError as err:
        _print_diagnostics(path, None, err.diagnostics, err=True)
        raise SystemExit(1) from None
    failed = False
    for info in catalog.values():
        if isinstance(info.eligible_when, str):
            result = check_expression(info.eligible_when, schema=schema)
            if not result.ok:
                failed = True
                label = f"{path}[{info.key}].eligible_when"
                _print_diagnostics(label, info.eligible_when, result.errors, err=True)
    if failed:
        raise SystemExit(1)
    return catalog


def _print_diagnostics(
    filename: str, source: str | None, diagnostics: Any, *, err: bool = False
) -> None:
    for diag in diagnostics:
        click.echo(format_diagnostic(filename, source, diag), err=err)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--offers",
    "offers_path",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON list of offers; rules may only name these keys.",
)
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Interaction schema as JSON (default: the built-in schema).",
)
def check(files: tuple[str, ...], offers_path: str | None, schema_path: str | None) -> None:
    """Check rulesets and print diagnostics; exit 1 when there are errors."""
    schema = _schema(schema_path)
    offers = _offers(offers_path, schema) if offers_path else None
    errors = 0
    for path in files:
        source = _read(path)
        result = compile_ruleset(source, schema=schema, offers=offers, name=Path(path).stem)
        _print_diagnostics(path, source, result.diagnostics)
        errors += len(result.errors)
    if errors:
        raise SystemExit(1)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only report files that are not in canonical layout.",
)
@click.option("--write", is_flag=True, help="Rewrite the files in place.")
def fmt(files: tuple[str, ...], check_only: bool, write: bool) -> None:
    """Print rulesets in canonical layout (or check / rewrite them)."""
    status = 0
    for path in files:
        source = _read(path)
        try:
            formatted = format_source(source)
        except DSLError as err:
            _print_diagnostics(path, source, err.diagnostics, err=True)
            status = 1
            continue
        if check_only:
            if formatted != source:
                click.echo(
                    f"{path}: not in canonical layout (run `studio fmt --write {path}`)", err=True
                )
                status = 1
        elif write and path != "-":
            if formatted != source:
                Path(path).write_text(formatted, encoding="utf-8")
        else:
            click.echo(formatted, nl=False)
    if status:
        raise SystemExit(status)


@click.command()
@click.option("--rules", "rules_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--offers", "offers_path", required=True, type=click.Path(exists=True, dir_okay=False)
)
@click.option(
    "--interaction",
    "interaction_path",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Interaction JSON file, or - for standard input.",
)
@click.option("--schema", "schema_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--explain", is_flag=True, help="Add a trace: why each rule matched or not.")
@click.option(
    "--lexicon",
    "lexicon_path",
    type=click.Path(exists=True, dir_okay=False),
    help='Tone lexicon as JSON ({"distress": [...]}; default: the built-in terms).',
)
@click.option(
    "--allow-invalid",
    is_flag=True,
    help="Decide even when the interaction does not fit the schema (recorded in the decision).",
)
def decide(
    rules_path: str,
    offers_path: str,
    interaction_path: str,
    schema_path: str | None,
    explain: bool,
    lexicon_path: str | None = None,
    allow_invalid: bool = False,
) -> None:
    """Decide offers and follow-ups for one interaction; print the decision as JSON.

    The interaction is checked against the schema first, as `/api/v1/decide` and the
    client check it: a field that does not fit is an error (exit 1) naming the field.
    """
    schema = _schema(schema_path)
    offers = _offers(offers_path, schema)
    source = _read(rules_path)
    result = compile_ruleset(source, schema=schema, offers=offers, name=Path(rules_path).stem)
    if not result.ok:
        _print_diagnostics(rules_path, source, result.diagnostics, err=True)
        raise SystemExit(1)
    terms = (
        distress_terms(_load_json(lexicon_path, "lexicon"))
        if lexicon_path
        else DEFAULT_DISTRESS_TERMS
    )
    prepared = prepare_interaction(schema, _load_json(interaction_path, "interaction"), terms)
    if prepared.problems and not allow_invalid:
        for problem in prepared.problems:
            hint = f" ({problem.hint})" if problem.hint else ""
            click.echo(f"{interaction_path}: {problem.field}: {problem.message}{hint}", err=True)
        click.echo(
            f"{interaction_path}: the interaction does not fit the schema; nothing was decided "
            "(--allow-invalid decides anyway)",
            err=True,
        )
        raise SystemExit(1)
    try:
        decision = load_ruleset(result.ir).decide(prepared.interaction, offers, explain=explain)
    except DSLError as err:
        _print_diagnostics(offers_path, None, err.diagnostics, err=True)
        raise SystemExit(1) from None
    decision = {**decision, "interaction": prepared.record(allowed_invalid=allow_invalid)}
    click.echo(json.dumps(decision, indent=2, ensure_ascii=False))
