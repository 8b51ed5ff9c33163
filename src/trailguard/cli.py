"""The `trailguard` command line: each feature package registers its own commands here."""

from __future__ import annotations

import typer

from trailguard import __version__
from trailguard.audit import cli as audit_cli
from trailguard.detection import cli as detection_cli
from trailguard.kb import cli as kb_cli
from trailguard.remediate import cli as remediate_cli
from trailguard.scan import cli as scan_cli

app = typer.Typer(
    name="trailguard",
    help="Understand, detect, audit and safely remediate security-relevant AWS CloudTrail events.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trailguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """trailguard: a CloudTrail event knowledge base, scanner, posture audit and safe fixer."""


kb_cli.register(app)
scan_cli.register(app)
detection_cli.register(app)
audit_cli.register(app)
remediate_cli.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
