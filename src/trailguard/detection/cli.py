"""CLI command `rules`: list and export the shipped Sigma rules. (stub: being built)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `rules` command group to the root app."""
