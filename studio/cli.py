"""The `studio` command: database, demo workspace, people, serving, and the rule tools."""

from __future__ import annotations

import sys

import click

from dsl.commands import check, decide, fmt
from studio.app import create_app
from studio.db import get_database


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The point-of-service marketing studio."""


main.add_command(check)
main.add_command(fmt)
main.add_command(decide)


@main.group()
def db() -> None:
    """Manage the database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from studio import migrate

    app = create_app()
    migrate.upgrade(get_database(app).url, revision)
    click.echo(f"Database at {_display_url(get_database(app).url)} is at {revision}.")


@db.command("downgrade")
@click.option("--revision", required=True, help="Target revision, e.g. base or 0001.")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from studio import migrate

    app = create_app()
    migrate.downgrade(get_database(app).url, revision)
    click.echo(f"Database is at {revision}.")


@main.command()
def demo() -> None:
    """Seed the demo workspace (safe to run again)."""
    from studio.demo import seed_demo

    app = create_app()
    with app.app_context():
        session = get_database(app).session()
        try:
            report = seed_demo(session)
        finally:
            session.close()
    click.echo(f"Demo workspace ready: {len(report.created)} created, "
               f"{len(report.existing)} already there.")


@main.group()
def users() -> None:
    """Manage people."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["marketer", "service_lead", "reviewer", "admin"]))
@click.password_option()
def users_create(email: str, name: str, roles: tuple[str, ...], password: str) -> None:
    """Create a person who can sign in."""
    from studio.errors import ValidationFailed
    from studio.services import accounts

    app = create_app()
    session = get_database(app).session()
    try:
        accounts.create_user(session, email=email, name=name, password=password,
                             roles=list(roles), actor_id=None)
        session.commit()
    except ValidationFailed as failed:
        session.rollback()
        for error in failed.errors:
            click.echo(f"error: {error.field}: {error.message}", err=True)
        sys.exit(1)
    finally:
        session.close()
    click.echo(f"{name} can sign in as {email}.")


@users.command("set-password")
@click.option("--email", required=True)
@click.password_option()
def users_set_password(email: str, password: str) -> None:
    """Give a person a new password; every session they have ends."""
    from sqlalchemy import select

    from studio.errors import ValidationFailed
    from studio.models import User
    from studio.services import accounts

    app = create_app()
    session = get_database(app).session()
    try:
        user = session.scalar(select(User).where(User.email == accounts.normalize_email(email)))
        if user is None:
            click.echo(f"error: email: nobody has the email {email}", err=True)
            sys.exit(1)
        accounts.set_password(session, user, password, actor_id=None)
        session.commit()
    except ValidationFailed as failed:
        session.rollback()
        for error in failed.errors:
            click.echo(f"error: {error.field}: {error.message}", err=True)
        sys.exit(1)
    finally:
        session.close()
    click.echo(f"New password set for {email}; their sessions have ended.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--dev/--no-dev", default=False, help="Development mode: print the demo sign-ins.")
def serve(host: str, port: int, dev: bool) -> None:
    """Serve the studio (a development server; use gunicorn in production)."""
    from studio.demo import DEMO_PASSWORD, DEMO_PEOPLE

    app = create_app({"DEV_MODE": dev} if dev else None)
    if dev:
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for person in DEMO_PEOPLE:
            click.echo(f"  {person.email:<22} {', '.join(person.roles)}")
    click.echo(f"Studio at http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


def _display_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
