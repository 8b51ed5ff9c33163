"""CLI commands of the knowledge base: explain, events, docs build. (stub: being built)"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the knowledge-base commands to the root app."""

    @app.command()
    def explain(event: str) -> None:
        """Explain a CloudTrail event."""
        typer.echo("not built yet", err=True)
        raise typer.Exit(2)
