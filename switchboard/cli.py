"""The `switchboard` command line (docs/cli.md).

Every verb that touches the database migrates it first.
"""

from __future__ import annotations

import sys

import typer

from switchboard.clihelp import plain_help
from switchboard.db import make_engine, migrate
from switchboard.settings import PLACEHOLDER_SECRETS, Settings

# rich_markup_mode=None: plain help, with value names instead of type hints (switchboard.clihelp).
app = typer.Typer(no_args_is_help=True, add_completion=False, help="A telephone switchboard.",
                  rich_markup_mode=None,
                  epilog="Every verb reads .env from the working directory and exits 2 on a bad "
                         "option or argument; `switchboard VERB --help` says what else its exit "
                         "codes mean.")


from calendar_sync.cli import calendar_app  # noqa: E402
from identity.cli import members_app  # noqa: E402
from switchboard.orgcli import org_app  # noqa: E402

app.add_typer(org_app, name="org")
from switchboard.orgexport import export_command  # noqa: E402

org_app.command("export")(export_command)  # `switchboard org export [FILE]`
app.add_typer(calendar_app, name="calendar")
app.add_typer(members_app, name="members")
agents_app = typer.Typer(no_args_is_help=True, help="Agents' API tokens and passwords.")
app.add_typer(agents_app, name="agents")


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:  # a bad setting in the environment or .env: say which
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            typer.echo(f"error: {msg if msg.startswith(where) else f'{where}: {msg}'}", err=True)
        raise typer.Exit(2) from None


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    no_calendar_sync: bool = typer.Option(False, "--no-calendar-sync",
                                          help="do not sync calendars in the background"),
    log_level: str = typer.Option("info", "--log-level",
                                  help="debug, info, warning or error (JSON lines on stderr)"),
) -> None:
    """Migrate the database, then serve the webhooks, desk and API."""
    import uvicorn

    from switchboard.logs import configure as configure_logs

    if log_level.lower() not in ("debug", "info", "warning", "error"):
        typer.echo("--log-level must be debug, info, warning or error", err=True)
        raise typer.Exit(2)
    configure_logs(log_level)
    settings = _settings()
    if settings.twilio_auth_token is None or not settings.twilio_auth_token.get_secret_value():
        typer.echo("TWILIO_AUTH_TOKEN is required to serve (set it in the environment or .env)",
                   err=True)
        raise typer.Exit(2)
    for name, secret in (("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                         ("SWITCHBOARD_ADMIN_TOKEN", settings.admin_token)):
        if secret is not None and secret.get_secret_value().lower() in PLACEHOLDER_SECRETS:
            typer.echo(f"{name} is a placeholder; set a real secret", err=True)
            raise typer.Exit(2)
    engine = _engine(settings)
    from switchboard.app import create_app

    application = create_app(settings, engine, calendar_sync=not no_calendar_sync)
    application.state.flow.cache.get()  # the organisation's snapshot, loaded before freezing
    freeze_startup_objects()
    # log_config=None: uvicorn's own loggers go through the JSON lines configured above.
    # timeout_graceful_shutdown: open desks' event streams would otherwise hold a stop up.
    uvicorn.run(application, host=host, port=port, log_level=log_level.lower(),
                access_log=False, log_config=None, timeout_graceful_shutdown=5)


def freeze_startup_objects() -> None:
    """Keep the objects made at start-up out of every later full garbage collection.

    Under load, request objects that live through two young collections reach the oldest
    generation, which then triggers a full collection about once a second. Each walked the
    whole heap of imported modules and the app (FastAPI, pydantic, SQLAlchemy, twilio):
    47-50 ms during which no webhook was answered, which made the p99 at 32 connections
    about 70 ms. After `gc.freeze()` a full collection skips those objects (measured: p99
    at 32 connections 27 ms; README, Performance).
    """
    import gc

    gc.collect()
    gc.freeze()


@app.command()
def call(
    to: str = typer.Option(..., "--to", metavar="NUMBER",
                           help="the number called (the switchboard or a direct line)"),
    from_: str = typer.Option("+4791234567", "--from", metavar="NUMBER",
                              help="the caller's number"),
    press: str = typer.Option("", "--press", metavar="KEYS",
                              help="one key per menu in turn: 0-9, * or #, w for silence; "
                                   "after that, silence"),
    dial_status: str = typer.Option("no-answer", "--dial-status", metavar="STATUS",
                                    help="outcome of every ring attempt: completed (the first "
                                         "phone answers and presses a key), no-answer, busy, "
                                         "failed or canceled"),
    answer: str | None = typer.Option(None, "--answer", metavar="AGENT_ID",
                                      help="this agent's phone answers and presses a key "
                                           "whenever it rings; the others ring out (in place "
                                           "of --dial-status)"),
    talk: float = typer.Option(0, "--talk", metavar="SECONDS", min=0, max=3600,
                               help="seconds to stay connected before hanging up"),
    url: str | None = typer.Option(None, "--url", metavar="BASE",
                                   help="where the server listens, if not at "
                                        "SWITCHBOARD_PUBLIC_URL"),
) -> None:
    """Simulate a call: play Twilio's part against a running server.

    Prints one line per step, the call's CallSid first (CALL <sid>), then SAY, GATHER,
    PRESS, DIAL, WAIT, RECORD, HANGUP, and last OUTCOME <connected|voicemail|closed|hangup>.
    Requests are signed with TWILIO_AUTH_TOKEN from the environment or .env.
    """
    from ivr.simulator import Refused, Simulator, Unreachable, check_dial_status, check_press

    try:
        check_press(press)
        check_dial_status(dial_status)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        typer.echo("TWILIO_AUTH_TOKEN is not set (environment or .env)", err=True)
        raise typer.Exit(2)
    sim = Simulator(public_base=settings.public_base, token=token, to=to, from_=from_,
                    press=press, dial_status=dial_status, send_base=url, answer=answer,
                    talk=talk, out=lambda line: typer.echo(line))
    try:
        sim.run()
    except Refused as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    except Unreachable as exc:
        typer.echo(f"unreachable: {exc}", err=True)
        raise typer.Exit(1) from None
    if answer is not None and sim.answered_by is None:
        typer.echo(f"note: {answer}'s phone never rang or did not confirm", err=True)


@app.command("presence")
def presence_verb(
    as_json: bool = typer.Option(False, "--json",
                                 help="print the JSON list GET /api/presence returns"),
) -> None:
    """Everyone's presence now: state, every reason they cannot take a loop call, notes.

    Reads the database (SWITCHBOARD_DATABASE_URL, from the environment or .env), so no
    server needs to run.
    """
    import json
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from switchboard.clipresence import presence_table, read_presence

    settings = _settings()
    try:
        engine = _engine(settings)
        rows, tz = read_presence(engine, now=datetime.now(UTC), default_tz=settings.timezone,
                                 always_open=settings.always_open)
        engine.dispose()
    except SQLAlchemyError as exc:
        typer.echo(f"error: cannot read the database ({type(exc).__name__})", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        typer.echo(presence_table(rows, tz=tz))


@agents_app.command("set-password")
def agents_set_password(agent_id: str) -> None:
    """Set AGENT_ID's console password, read from standard input (no echo on a terminal)."""
    import getpass
    from datetime import UTC, datetime

    from switchboard.passwords import PasswordError, set_password

    if sys.stdin.isatty():
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            typer.echo("the two passwords differ; nothing changed", err=True)
            raise typer.Exit(1)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    engine = _engine(_settings())
    try:
        set_password(engine, agent_id, password, now=datetime.now(UTC))
    except PasswordError as exc:
        typer.echo(f"{exc}; nothing changed", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"password set for {agent_id}")


@agents_app.command("token")
def agents_token(agent_id: str) -> None:
    """Print a new bearer token for AGENT_ID; only its hash is stored (the old one stops)."""
    from sqlalchemy import update

    from routing.models import Agent
    from switchboard.auth import hash_token, new_token

    engine = _engine(_settings())
    token = new_token()
    with engine.begin() as conn:
        n = conn.execute(
            update(Agent).where(Agent.id == agent_id).values(token_hash=hash_token(token))  # type: ignore[arg-type]
        ).rowcount
    if not n:
        typer.echo(f"no agent with id {agent_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(token)


@app.command("purge")
def purge_verb(
    days: int | None = typer.Option(None, "--days", min=1, metavar="N",
                                    help="purge what is older than N days (default: the org "
                                         "file's tickets.retention_days, else 30)"),
) -> None:
    """Purge the personal details of done tickets and old call records (docs/tickets.md).

    Text, notes, recording links, caller numbers and member links go; dates, department,
    outcome and times stay for the statistics. Audited by counts; running it again purges
    nothing more. The server does the same once a day.
    """
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from tickets.retention import purge

    settings = _settings()
    try:
        engine = _engine(settings)
        counts = purge(engine, now=datetime.now(UTC), days=days, who="cli")
        engine.dispose()
    except SQLAlchemyError as exc:
        typer.echo(f"error: cannot use the database ({type(exc).__name__})", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"purged what is older than {counts['days']} days (before {counts['cutoff']}): "
               f"{counts['tickets']} tickets, {counts['notes']} notes, {counts['mails']} "
               f"mails, {counts['promises']} promises, {counts['calls']} calls, "
               f"{counts['call_identities']} identity states, {counts['caller_hashes']} "
               "caller hashes")


# What each verb's exit codes mean, closing its --help (docs/cli.md). Keep this after every
# verb: plain_help walks the verbs registered so far.
VERB_EXIT_CODES = {
    "serve": "0 stopped; 2 refused to start: TWILIO_AUTH_TOKEN missing or a placeholder, "
             "SWITCHBOARD_ADMIN_TOKEN a placeholder, SWITCHBOARD_PUBLIC_URL not a plain "
             "http(s) URL, or a bad --log-level.",
    "call": "0 the call ran to an outcome; 1 the server could not be reached; 2 the server "
            "refused it (403: check TWILIO_AUTH_TOKEN) or answered with something that is not "
            "TwiML, TWILIO_AUTH_TOKEN is not set, or --press, --dial-status or --talk has a "
            "value Twilio would not send.",
    "presence": "0 printed; 1 the database cannot be read.",
    "purge": "0 purged (or nothing was old enough); 1 the database cannot be used; 2 --days "
             "is not a number of 1 or more.",
    "org apply": "0 applied (warnings, such as a calendar file that does not exist, do not "
                 "fail it); 1 the file was refused or the database refused the change: "
                 "nothing was applied.",
    "org export": "0 written; 1 no org file has been applied yet, or the live configuration "
                  "does not validate.",
    "calendar sync": "0 the pass ran, even when some sources failed (each is listed with why); "
                     "1 the database cannot be used.",
    "agents token": "0 printed; 1 no agent with that id.",
    "agents set-password": "0 set; 1 no agent with that id, a password under 8 characters, or "
                           "the two entries differ (nothing changed).",
}
plain_help(app, VERB_EXIT_CODES,
           default="0 done; 1 it failed (the message on stderr says why); 2 a bad option.")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
