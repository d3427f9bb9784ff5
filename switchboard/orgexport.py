"""The live configuration as an organisation file: `switchboard org export [FILE]`.

The export is the inverse of `org apply` (switchboard.orgapply): it reads the tables apply
writes and rebuilds the OrgFile, so applying the exported file changes nothing, and exporting
again gives the same bytes. Keys come out in the schema's order, with every default written
out, so the file shows each setting the switchboard runs with.

State fields (`logged_in`, `logout_reason`, `routing_stop`) are written as the org file last
said them (the agent's `file_*` columns), not as they are this minute. Apply writes a state
field only when the file's value differs from what the file said last time, so re-applying
an export never undoes a logout or routing stop made at the desk or on the admin pages; the
live state is in presence (GET /api/presence). docs/admin.md has the whole workflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import ValidationError
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine

from routing.models import Agent, Loop, MenuEntry, Organisation, PhoneNumber
from switchboard.orgfile import OrgFileError, _locate, _message, _path, cross_check
from switchboard.orgschema import Agent as FileAgent
from switchboard.orgschema import Loop as FileLoop
from switchboard.orgschema import Organisation as FileOrganisation
from switchboard.orgschema import OrgFile

HEADER = (
    "# The switchboard's live configuration, written by `switchboard org export`.\n"
    "# `switchboard org apply` takes it as it is. State fields (logged_in, logout_reason,\n"
    "# routing_stop) are as the org file last set them: applying this file never undoes a\n"
    "# logout or routing stop made at the desk or on the admin pages.\n"
)
# Organisation.config keys that are not the org file's own (orgapply.org_config writes them).
_ORG_COLUMNS = ("name", "name_en", "timezone")
_STATE = {"logged_in": "file_logged_in", "logout_reason": "file_logout_reason",
          "routing_stop": "file_routing_stop"}


class NotConfigured(Exception):
    """No org file has been applied yet."""


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def _organisation(row: Any) -> dict[str, Any]:
    config = dict(row.config or {})
    out: dict[str, Any] = {k: getattr(row, k) for k in _ORG_COLUMNS}
    for key in FileOrganisation.model_fields:
        # Every other organisation key lives in config under its own name (orgapply).
        if key not in out and config.get(key) is not None:
            out[key] = config[key]
    return out


def _agent(row: Any, columns: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in FileAgent.model_fields:
        if key in _STATE:
            remembered = row._mapping[_STATE[key]]
            out[key] = remembered if remembered is not None or key == "logout_reason" \
                else row._mapping[key]
        elif key in columns:
            out[key] = row._mapping[key]
    return out


def _departments(conn: Connection) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The departments (tickets' table, when it exists) and {loop id: department id}."""
    if "department" not in inspect(conn).get_table_names():
        return [], {}
    from switchboard.orgschema import Department as FileDepartment
    from tickets.models import Department

    table = Department.__table__  # type: ignore[attr-defined]
    rows = conn.execute(select(table).where(table.c.active.is_(True))
                        .order_by(table.c.position, table.c.id)).all()
    loops: dict[str, str] = {}
    out = []
    for r in rows:
        m = r._mapping
        out.append({k: m[k] for k in FileDepartment.model_fields if k in m.keys()})
        for loop_id in m.get("loops") or ():
            loops.setdefault(loop_id, m["id"])
    return out, loops


def read_live(conn: Connection) -> dict[str, Any]:
    """The live configuration as org-file data (plain JSON types), before validation."""
    org_row = conn.execute(select(Organisation.__table__)).first()  # type: ignore[attr-defined]
    if org_row is None:
        raise NotConfigured("no organisation file has been applied yet")
    config = dict(org_row.config or {})
    data: dict[str, Any] = {"organisation": _organisation(org_row)}
    for key in OrgFile.model_fields:
        if key not in ("organisation", "numbers", "menu", "agents", "loops", "departments") \
                and config.get(key) is not None:
            data[key] = config[key]
    numbers = conn.execute(select(PhoneNumber.__table__)  # type: ignore[attr-defined]
                           .order_by("number")).all()
    data["numbers"] = [
        {"number": n.number, "kind": n.kind, **({"agent": n.agent_id} if n.agent_id else {})}
        for n in numbers
    ]
    data["menu"] = {m.digit: m.loop_id for m in conn.execute(
        select(MenuEntry.__table__).order_by("digit"))}  # type: ignore[attr-defined]
    agent_t = Agent.__table__  # type: ignore[attr-defined]
    agent_cols = _columns(conn, "agent")
    data["agents"] = [
        _agent(r, agent_cols) for r in conn.execute(
            select(agent_t).where(agent_t.c.active.is_(True))
            .order_by(agent_t.c.position, agent_t.c.id))
    ]
    departments, dept_of_loop = _departments(conn)
    loop_t = Loop.__table__  # type: ignore[attr-defined]
    loop_cols = _columns(conn, "loop")
    loops = []
    for r in conn.execute(select(loop_t).where(loop_t.c.active.is_(True))
                          .order_by(loop_t.c.position, loop_t.c.id)):
        item = {k: r._mapping[k] for k in FileLoop.model_fields if k in loop_cols}
        if "department" in FileLoop.model_fields and "department" not in loop_cols \
                and r.id in dept_of_loop:
            item["department"] = dept_of_loop[r.id]
        loops.append(item)
    data["loops"] = loops
    if "departments" in OrgFile.model_fields and departments:
        data["departments"] = departments
    return data


def _lines_of(data: Any, loc: tuple[str | int, ...] = (),
              out: dict[tuple[str | int, ...], int] | None = None
              ) -> dict[tuple[str | int, ...], int]:
    """Every path present in data (orgfile._locate maps validator locations onto these)."""
    out = {} if out is None else out
    out[loc] = 0
    if isinstance(data, dict):
        for k, v in data.items():
            _lines_of(v, (*loc, str(k)), out)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _lines_of(v, (*loc, i), out)
    return out


def validate_data(data: dict[str, Any], *, default_timezone: str = "Europe/Oslo",
                  base_dir: Path | None = None) -> OrgFile:
    """Validate org-file data exactly as a file is: the schema, then the cross-checks.

    Raises OrgFileError with one `path: message` line per problem (as the file's errors, with
    no line numbers) and `.problems`, a list of (path, message).
    """
    context = {"base_dir": base_dir or Path.cwd(), "default_timezone": default_timezone}
    problems: list[tuple[str, str]] = []
    try:
        org = OrgFile.model_validate(data, context=context)
    except ValidationError as exc:
        lines = _lines_of(data)
        for err in exc.errors():
            loc, _ = _locate(err["loc"], lines, err["type"] == "missing")
            problems.append((_path(loc), _message(err)))
    else:
        problems = [(_path(loc), msg) for loc, msg in cross_check(org)]
    if problems:
        error = OrgFileError("\n".join(f"{p}: {m}" for p, m in problems))
        error.problems = problems  # type: ignore[attr-defined]
        raise error
    return org


def org_data(org: OrgFile) -> dict[str, Any]:
    """An OrgFile as the plain data an org file holds: every key, defaults written out."""
    return org.model_dump(mode="json", exclude_none=True)


def live_org(conn: Connection, *, default_timezone: str = "Europe/Oslo") -> OrgFile:
    """The live configuration, validated as an OrgFile."""
    return validate_data(read_live(conn), default_timezone=default_timezone, base_dir=Path("/"))


def dump_yaml(data: dict[str, Any]) -> str:
    """Org-file data as YAML that the org file's own loader reads back unchanged."""
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=100)


def export_text(engine: Engine, *, default_timezone: str = "Europe/Oslo") -> str:
    """The live configuration as an org file's text."""
    with engine.connect() as conn:
        return dump_yaml(org_data(live_org(conn, default_timezone=default_timezone)))


def export_command(
    file: Path | None = typer.Argument(None, help="where to write the org file "
                                       "(default: standard output)"),
) -> None:
    """Write the live configuration as an org file that `org apply` takes unchanged."""
    from switchboard.db import make_engine, migrate
    from switchboard.settings import Settings

    settings = Settings()  # type: ignore[call-arg]  # filled from env and .env
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        text = export_text(engine, default_timezone=settings.timezone)
    except NotConfigured as exc:
        typer.echo(f"error: {exc} (run `switchboard org apply FILE` first)", err=True)
        raise typer.Exit(1) from None
    except OrgFileError as exc:
        typer.echo(f"error: the live configuration does not validate:\n{exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        typer.echo(f"exported the live configuration to {file}", err=True)
