"""`python -m dsl check|fmt|decide`: the rule language's commands without the studio."""

from __future__ import annotations

import click

from dsl.commands import check, decide, fmt


@click.group()
def main() -> None:
    """The rule language: check, format and run rulesets."""


main.add_command(check)
main.add_command(fmt)
main.add_command(decide)

if __name__ == "__main__":
    main()
