"""`switchboard org …` verbs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

org_app = typer.Typer(no_args_is_help=True, help="The organisation file.")


@org_app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="the organisation file (YAML), e.g. examples/org.yaml"),
) -> None:
    """Validate FILE and make the database match it, in one transaction (a bad file: no change)."""
    from switchboard.db import make_engine, migrate
    from switchboard.orgapply import apply_org, file_warnings
    from switchboard.orgfile import OrgFileError, load_org_file
    from switchboard.settings import Settings

    settings = Settings()  # type: ignore[call-arg]  # filled from env and .env
    # Validate before touching the database, so a bad file leaves it exactly as it was.
    try:
        org = load_org_file(file, default_timezone=settings.timezone)
    except OrgFileError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    for warning in file_warnings(org):  # applied anyway; said so the admin can fix it
        typer.echo(f"warning: {warning}", err=True)
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        report = apply_org(engine, org, now=datetime.now(UTC))
    except SQLAlchemyError as exc:
        # The transaction rolled back; say which kind of failure without dumping the SQL.
        typer.echo(f"error: the database refused the change ({type(exc).__name__}); "
                   "nothing was applied", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(report.summary(str(file)))
