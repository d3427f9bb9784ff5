"""`switchboard calendar …` verbs."""

from __future__ import annotations

import typer

calendar_app = typer.Typer(no_args_is_help=True, help="Calendar synchronisation.")
