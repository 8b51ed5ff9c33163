"""CLI commands of remediation: remediate, undo. (stub: being built)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the remediation commands to the root app."""
