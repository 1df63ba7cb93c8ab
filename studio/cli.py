"""The `studio` command: database, demo workspace, people, serving, and the rule tools."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import click

from dsl.commands import check, decide, fmt
from studio.app import create_app
from studio.db import get_database
from studio.jobs import get_jobs


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
    click.echo(
        f"Demo workspace ready: {len(report.created)} created, "
        f"{len(report.existing)} already there."
    )


@main.group()
def users() -> None:
    """Manage people."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["marketer", "service_lead", "reviewer", "admin"]),
)
@click.password_option()
def users_create(email: str, name: str, roles: tuple[str, ...], password: str) -> None:
    """Create a person who can sign in."""
    from studio.errors import ValidationFailed
    from studio.services import accounts

    app = create_app()
    session = get_database(app).session()
    try:
        accounts.create_user(
            session, email=email, name=name, password=password, roles=list(roles), actor_id=None
        )
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


@main.group()
def tokens() -> None:
    """Issue, list and revoke API tokens for downstream systems (as on Admin > API tokens)."""


@tokens.command("create")
@click.option("--name", required=True, help="The system that will use it.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="What it may do; repeat for several: bundles:read, decide, events:write, messages:write.",
)
def tokens_create(name: str, scopes: tuple[str, ...]) -> None:
    """Issue a token and print it once: it is stored hashed and cannot be shown again."""
    from studio.errors import ValidationFailed
    from studio.services import api_tokens

    app = create_app()
    session = get_database(app).session()
    try:
        issued = api_tokens.create(session, name=name, scopes=list(scopes), actor_id=None)
        session.commit()
    except ValidationFailed as failed:
        session.rollback()
        for error in failed.errors:
            click.echo(f"error: {error.field}: {error.message}", err=True)
        sys.exit(1)
    finally:
        session.close()
    click.echo(issued.secret)
    click.echo(
        f"Token {issued.summary.id} \u201c{issued.summary.name}\u201d "
        f"({', '.join(issued.summary.scopes)}). Store it now: it is not shown again.",
        err=True,
    )


@tokens.command("list")
def tokens_list() -> None:
    """Every token: id, prefix, scopes, last use, status (never the secret)."""
    from studio.services import api_tokens

    app = create_app()
    session = get_database(app).session()
    try:
        rows = api_tokens.listing(session)
    finally:
        session.close()
    if not rows:
        click.echo("No API tokens yet.")
    for token in rows:
        used = token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never"
        status = "active" if token.active else f"revoked {token.revoked_at:%Y-%m-%d}"
        click.echo(
            f"{token.id:>4}  {token.prefix}\u2026  {token.name}  "
            f"[{', '.join(token.scopes)}]  last used {used}  {status}"
        )


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (from `studio tokens list`); calls using it get 401."""
    from studio.services import api_tokens

    app = create_app()
    session = get_database(app).session()
    try:
        revoked = api_tokens.revoke(session, token_id, actor_id=None)
        session.commit()
    finally:
        session.close()
    if revoked is None:
        click.echo(f"error: there is no token {token_id}; see `studio tokens list`.", err=True)
        sys.exit(1)
    click.echo(
        f"Token {revoked.id} \u201c{revoked.name}\u201d ({revoked.prefix}\u2026) "
        "is revoked; other workers stop accepting it within seconds."
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--dev/--no-dev", default=False, help="Development mode: print the demo sign-ins.")
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Run background jobs in this process too.",
)
@click.option(
    "--production",
    is_flag=True,
    default=False,
    help="Serve with gunicorn and studio/gunicorn.conf.py (threaded workers, "
    "time-boxed request bodies); run `studio worker` for jobs.",
)
def serve(host: str, port: int, dev: bool, worker: bool, production: bool) -> None:
    """Serve the studio: a development server, or gunicorn with --production."""
    from studio.config import ConfigError
    from studio.demo import DEMO_PASSWORD, DEMO_PEOPLE

    if production:
        config = Path(__file__).with_name("gunicorn.conf.py")
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(config),
                "--bind",
                f"{host}:{port}",
                "studio:create_app()",
            ],
        )

    try:
        app = create_app(serve_overrides(host, port, dev=dev, environ=os.environ) or None)
    except ConfigError as problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    if dev:
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for person in DEMO_PEOPLE:
            click.echo(f"  {person.email:<22} {', '.join(person.roles)}")
    click.echo(f"Studio at http://{host}:{port}/  (Ctrl+C to stop)")
    click.echo(
        f"Customer links start with {app.config['STUDIO_SETTINGS'].public_base_url} "
        "(set STUDIO_PUBLIC_BASE_URL to the address customers reach)."
    )
    jobs = get_jobs(app)
    if worker:
        jobs.start_consumer(workers=2)
        click.echo("Background jobs run in this process (use --no-worker with `studio worker`).")
    # `kill` (SIGTERM) stops the server as Ctrl+C does, through the `finally` below, so
    # the background jobs running here finish or are handed back to the queue.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        jobs.stop_consumer()


def serve_overrides(
    host: str, port: int, *, dev: bool, environ: Mapping[str, str]
) -> dict[str, object]:
    """The settings `studio serve` (not --production) gives the app: development mode if
    asked, and customer links (SMS, email, the message center) that lead to this server on
    the port it serves, unless STUDIO_PUBLIC_BASE_URL says where customers reach it. In
    production (STUDIO_ENV) nothing is guessed: the setting is required."""
    overrides: dict[str, object] = {"DEV_MODE": True} if dev else {}
    production = environ.get("STUDIO_ENV") == "production"
    if not environ.get("STUDIO_PUBLIC_BASE_URL") and not production:
        link_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        overrides["PUBLIC_BASE_URL"] = f"http://{link_host}:{port}"
    return overrides


def _exit_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


@main.command()
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Jobs run at once by this worker.",
)
@click.option(
    "--processes/--threads",
    default=False,
    show_default=True,
    help="Run jobs in processes instead of threads.",
)
def worker(workers: int, processes: bool) -> None:
    """Run background jobs (imports, backtests, webhooks, auto-pause) until stopped."""
    app = create_app()
    huey = get_jobs(app).huey
    click.echo(
        f"Worker for {huey.storage.__class__.__name__} with {workers} "
        f"{'process' if processes else 'thread'}(es); Ctrl+C to stop."
    )
    huey.create_consumer(
        workers=workers, worker_type="process" if processes else "thread", periodic=True
    ).run()


@main.command("backup")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Archive to write (default: studio-backup-<time>.tar.gz).",
)
def backup_command(output: Path | None) -> None:
    """Back up the database, signing keys and secret into one archive (online)."""
    from studio.services import backup

    app = create_app()
    if output is None:
        output = Path(f"studio-backup-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz")
    try:
        report = backup.backup(get_database(app).url, Path(app.instance_path), output)
    except backup.BackupError as refused:
        _fail(refused.message, refused.hint)
    click.echo(
        f"Backed up the {report.database_kind} database (schema {report.revision}, "
        f"{report.bundles} bundle(s)) and {len(report.key_ids)} signing key(s) to "
        f"{report.path} ({report.bytes:,} bytes, {report.seconds:.1f} s)."
    )
    click.echo("The archive holds private signing keys: store it like a secret.")


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace a database and key folder that already hold data."
)
def restore_command(archive: Path, force: bool) -> None:
    """Restore a backup made by `studio backup` (stop the studio first)."""
    from studio.services import backup

    app = create_app()
    get_database(app).engine.dispose()
    try:
        report = backup.restore(
            archive, get_database(app).url, Path(app.instance_path), force=force
        )
    except backup.BackupError as refused:
        _fail(refused.message, refused.hint)
    click.echo(
        f"Restored the {report.database_kind} database (schema {report.revision}) "
        f"and {len(report.key_ids)} signing key(s); {report.bundles_verified} "
        "bundle(s) verified."
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.warnings:
        sys.exit(1)
    click.echo("Run `studio db upgrade` if this studio is newer than the backup.")


@main.group("workspace")
def workspace_group() -> None:
    """The workspace as plain files: export for review or moving, import as drafts."""


@workspace_group.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--approved", is_flag=True, help="Export the approved revisions, not the heads.")
def workspace_export(folder: Path, approved: bool) -> None:
    """Write offers, layouts, rulesets, schema and lexicon into FOLDER."""
    from studio.services import workspace_files

    app = create_app()
    session = get_database(app).session()
    try:
        report = workspace_files.export(session, folder, which="approved" if approved else "head")
    finally:
        session.close()
    counts = ", ".join(f"{n} {kind}(s)" for kind, n in sorted(report.counts.items()))
    click.echo(f"Exported the {report.which} workspace to {folder}: {counts or 'nothing'}.")


@workspace_group.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--author",
    "email",
    required=True,
    help="Email of the person the drafts are recorded for (they submit them).",
)
def workspace_import(folder: Path, email: str) -> None:
    """Store every changed file in FOLDER as a draft revision (all or nothing)."""
    from sqlalchemy import select

    from studio.models import User
    from studio.services import accounts, workspace_files

    app = create_app()
    session = get_database(app).session()
    try:
        author = session.scalar(select(User).where(User.email == accounts.normalize_email(email)))
        if author is None:
            _fail(f"nobody has the email {email}", "create the person first (studio users create)")
        try:
            report = workspace_files.import_folder(session, folder, actor_id=author.id)
        except workspace_files.WorkspaceFilesError as refused:
            session.rollback()
            _fail(refused.message, refused.hint)
        if report.problems:
            session.rollback()
            for problem in report.problems:
                click.echo(f"error: {problem.field}: {problem.message}", err=True)
            click.echo(
                "Nothing was imported: fix the files above and run the import again.", err=True
            )
            sys.exit(1)
        session.commit()
    finally:
        session.close()
    click.echo(
        f"Imported {folder}: {len(report.created)} created, {len(report.updated)} "
        f"updated (as drafts), {len(report.unchanged)} unchanged. Submit the drafts for "
        "review to publish them."
    )


@main.group()
def keys() -> None:
    """Bundle signing keys."""


@keys.command("list")
def keys_list() -> None:
    """List the signing keys, oldest first; the last one signs."""
    from studio.services import signing

    app = create_app()
    try:
        ring = signing.load_or_create_keys(app.instance_path, create=False)
    except signing.KeysMissing as missing:
        _fail(str(missing), None)
    for key in ring.keys:
        marker = "signs" if key is ring.active else "verifies"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(key.created))
        click.echo(f"{key.key_id}  created {stamp} UTC  {marker}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key; older keys keep verifying what they signed."""
    from studio.services import signing

    app = create_app()
    ring = signing.rotate(app.instance_path)
    click.echo(
        f"New signing key {ring.active.key_id}. Running workers sign with it within "
        f"{signing.REFRESH_SECONDS:g} s; /api/v1/keys lists {len(ring.keys)} key(s)."
    )


def _fail(message: str, hint: str | None) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(1)


def _display_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()


@main.group()
def interactions() -> None:
    """Interaction history: import files, keep them for a set time."""


@interactions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--redact", is_flag=True, help="Replace emails, phone and card numbers in text.")
@click.option(
    "--restart", is_flag=True, help="Start over instead of continuing an unfinished import of FILE."
)
def interactions_import(file: Path, redact: bool, restart: bool) -> None:
    """Import interaction history from FILE (.jsonl or .csv, optionally .gz).

    Rows are checked against the interaction schema; refused rows are reported with
    their line and field, duplicates (same interaction id) are skipped. A killed import
    continues where it stopped when run again with the same FILE.
    """
    from studio.services import interaction_import

    app = create_app()
    path = file.resolve()
    with app.app_context():
        session = get_database(app).session()
        try:
            record = None if restart else interaction_import.unfinished_for(session, path)
            if record is not None:
                click.echo(
                    f"Continuing import #{record.id} of {path.name} from line "
                    f"{record.line:,} ({record.imported:,} rows already imported)."
                )
            else:
                try:
                    record = interaction_import.create(
                        session, path=path, filename=path.name, redact=redact, actor_id=None
                    )
                except interaction_import.ImportRefused as refused:
                    session.rollback()
                    _fail(str(refused), "name the file .jsonl or .csv (optionally .gz)")
                session.commit()

            def show(progress_record: Any) -> None:
                share = interaction_import.progress_fraction(progress_record)
                click.echo(
                    f"\r{share:6.1%}  line {progress_record.line:,}: "
                    f"{progress_record.imported:,} imported, "
                    f"{progress_record.duplicates:,} duplicates, "
                    f"{progress_record.failed:,} refused",
                    nl=False,
                    err=True,
                )

            record = interaction_import.run(session, record.id, progress=show)
            click.echo("", err=True)
            for problem in interaction_import.first_problems(session, record, limit=10):
                click.echo(f"line {problem.line}: {problem.field}: {problem.message}")
            if record.failed > 10:
                click.echo(
                    f"... and more: {record.failed:,} rows refused in all (download "
                    f"them from the History page, import #{record.id})."
                )
            click.echo(f"Import #{record.id} {record.status}: {record.message}")
            if record.status != "done":
                sys.exit(1)
        finally:
            session.close()


@interactions.command("retention")
@click.option("--days", default=None, help="Keep interactions this many days; empty to keep all.")
@click.option("--apply", "apply_now", is_flag=True, help="Delete older interactions now.")
def interactions_retention(days: str | None, apply_now: bool) -> None:
    """Show or set how long imported interactions are kept (a daily job deletes older ones)."""
    from studio.errors import ValidationFailed
    from studio.services import retention

    app = create_app()
    with app.app_context():
        session = get_database(app).session()
        try:
            if days is not None:
                try:
                    retention.set_retention_days(session, days, actor_id=None)
                except ValidationFailed as failed:
                    _fail(failed.errors[0].message, None)
            kept = retention.retention_days(session)
            deleted = retention.apply(session) if apply_now else 0
            session.commit()
        finally:
            session.close()
    click.echo(
        f"Interactions are kept {f'{kept} days' if kept else 'until deleted'}."
        + (f" Deleted {deleted:,} older ones." if apply_now else "")
    )
