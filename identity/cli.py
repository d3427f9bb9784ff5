"""`switchboard members …` verbs."""

from __future__ import annotations

import typer

members_app = typer.Typer(no_args_is_help=True, help="The member register.")
