"""`switchboard calendar …` verbs."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

calendar_app = typer.Typer(no_args_is_help=True, help="Calendar synchronisation.")


@calendar_app.command("sync")
def sync() -> None:
    """One synchronisation pass over every agent's calendar; prints each source's result."""
    from calendar_sync.sync import run_pass
    from switchboard.db import make_engine, migrate
    from switchboard.settings import Settings

    settings = Settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
    # An admin running this wants to see every source tried now, so no backing off.
    report = run_pass(engine, settings, now=datetime.now(UTC), force=True)
    if not report.agents:
        typer.echo("no active agent has a calendar")
    for a in report.agents:
        if a.ok:
            typer.echo(f"ok     {a.agent_id:<24} {a.kind:<5} {a.blocking} blocking, "
                       f"{a.stored - a.blocking} noted")
        else:
            typer.echo(f"FAILED {a.agent_id:<24} {a.kind:<5} {a.error} "
                       "(last good calendar kept)")
    failed = len(report.failed)
    typer.echo(f"{len(report.agents) - failed} synced, {failed} failed")
    engine.dispose()
