"""`switchboard org …` verbs."""

from __future__ import annotations

import typer

org_app = typer.Typer(no_args_is_help=True, help="The organisation file.")
