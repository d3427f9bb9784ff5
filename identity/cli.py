"""`switchboard members …` verbs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

members_app = typer.Typer(no_args_is_help=True, help="The member register.")


@members_app.command("import")
def import_members(
    file: Path = typer.Argument(..., metavar="FILE.csv",
                                help="the register as CSV (header row; comma or semicolon)"),
    strict: bool = typer.Option(False, "--strict",
                                help="import nothing when any row is rejected"),
) -> None:
    """Load the member register: valid rows in one transaction; rejected rows, and imported
    rows whose national ID needs a look, reported by line (never the number).

    Exit codes: 0 it ran; 1 --strict and a row was rejected; 2 the file cannot be read or
    SWITCHBOARD_PII_KEY is not set.
    """
    from identity.pii import PiiHasher, PiiKeyMissing
    from identity.register import RegisterFileError, flagged_lines, parse_csv, store
    from identity.rules import load_rules
    from switchboard.db import make_engine, migrate, session_scope
    from switchboard.settings import Settings

    settings = Settings()
    try:
        hasher = PiiHasher.from_settings(settings)
    except PiiKeyMissing as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        # The org file's placeholder suffixes decide which valid IDs are flagged for a check.
        with session_scope(engine) as session:
            rules = load_rules(session)
        try:
            result = parse_csv(data, hasher=hasher, today=today,
                               allow_test_ids=settings.allow_test_ids,
                               placeholder_suffixes=rules.placeholder_suffixes)
        except RegisterFileError as exc:
            typer.echo(f"cannot import {file}: {exc}", err=True)
            raise typer.Exit(2) from None
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        for rej in result.rejections:
            typer.echo(f"line {rej.line}: rejected: {rej.reason}")
        if strict and result.rejections:
            typer.echo(f"--strict: {len(result.rejections)} row(s) rejected, nothing imported",
                       err=True)
            raise typer.Exit(1)
        with session_scope(engine) as session:
            created, updated = store(session, result.records, now=now)
        for line in flagged_lines(result):
            typer.echo(line)
        flagged = sum(1 for r in result.records if r.needs_correction)
        typer.echo(
            f"imported {created + updated} member(s): {created} new, {updated} updated; "
            f"{len(result.rejections)} row(s) rejected; {flagged} need a national ID correction"
        )
    finally:
        engine.dispose()
