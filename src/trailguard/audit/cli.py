"""CLI command of the posture audit. (stub: being built)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the audit command to the root app."""
