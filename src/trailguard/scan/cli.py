"""CLI commands of the scanner: scan, rules. (stub: being built)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the scanning commands to the root app."""
