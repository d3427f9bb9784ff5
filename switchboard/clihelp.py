"""Plain `--help` for every verb: names, not type hints; each verb says what its exit codes mean.

Typer prints `<str>`, `<bool>` and `<path>` after every option and argument, and a required
argument as `{file}` in the usage line. Those are the type checker's words, not the user's:
here an option shows a name for its value (`--to NUMBER`), a flag shows nothing, an argument
shows its name (`FILE`), and the verb's exit codes close its help (docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperOption
from typer.main import get_command_name

EXIT_CODES = "Exit codes:"


# Typer carries its own copy of click (typer._click), so its parameters are matched by Typer's
# classes and the help machinery's objects are typed Any rather than through a private module.


def _value_name(param: Any) -> str:
    return param.metavar or (param.name or "value").upper()


class PlainCommand(TyperCommand):
    """A verb whose help names each value instead of its Python type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
                param.metavar = _value_name(param)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """`[OPTIONS] FILE`, where Typer writes `[OPTIONS] {file}`."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = _value_name(param) + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Arguments, then options, each with its help; no type column."""
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if isinstance(param, TyperArgument):
                arguments.append((_value_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def plain_help(app: typer.Typer, exit_codes: Mapping[str, str], *, default: str,
               prefix: str = "") -> None:
    """Give every verb of `app` (and of its groups) plain help and its exit codes.

    `exit_codes` maps a verb's path ("org apply") to its text; a verb whose docstring already
    says its exit codes keeps that, and one in neither gets `default`.
    """
    for info in app.registered_commands:
        if info.callback is None:
            continue
        name = info.name or get_command_name(info.callback.__name__)
        if info.cls in (None, TyperCommand):  # Typer's default; a verb's own class stays
            info.cls = PlainCommand
        doc = info.help or info.callback.__doc__ or ""
        if info.epilog is None and EXIT_CODES not in doc:
            info.epilog = f"{EXIT_CODES} {exit_codes.get(prefix + name, default)}"
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        group_name = group.name if isinstance(group.name, str) else sub.info.name
        plain_help(sub, exit_codes, default=default, prefix=f"{prefix}{group_name} ")
