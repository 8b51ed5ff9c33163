"""The `trailguard` command line: each feature package registers its own commands here.

Feature packages are imported only when needed: `trailguard scan ...` builds an app with just
the scanner's commands, so a scan does not pay for importing the audit, remediation and
knowledge-base code (about half a second of start-up). `trailguard --help` and the module
attribute ``app`` (used by the tests) carry every command.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable

import typer

from trailguard import __version__

# command name -> the module whose register(app) adds it
FEATURES: dict[str, str] = {
    "explain": "trailguard.kb.cli",
    "events": "trailguard.kb.cli",
    "docs": "trailguard.kb.cli",
    "scan": "trailguard.scan.cli",
    "rules": "trailguard.detection.cli",
    "audit": "trailguard.audit.cli",
    "remediate": "trailguard.remediate.cli",
    "undo": "trailguard.remediate.cli",
}
# Registration order decides the order of `trailguard --help`.
ALL_MODULES = tuple(dict.fromkeys(
    ["trailguard.kb.cli", "trailguard.scan.cli", "trailguard.audit.cli",
     "trailguard.remediate.cli", "trailguard.detection.cli"]))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trailguard {__version__}")
        raise typer.Exit()


def build_app(modules: Iterable[str] = ALL_MODULES) -> typer.Typer:
    """Return the root typer app with the commands of ``modules`` registered."""
    root = typer.Typer(
        name="trailguard",
        help="Understand, detect, audit and safely remediate security-relevant AWS CloudTrail "
        "events.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @root.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True,
            help="Print the version and exit.",
        ),
    ) -> None:
        """trailguard: a CloudTrail event knowledge base, scanner, posture audit and safe fixer."""

    for name in modules:
        importlib.import_module(name).register(root)
    return root


def _modules_for(argv: list[str]) -> tuple[str, ...]:
    """The feature modules a command line needs: its command's, or all of them."""
    command = next((a for a in argv if not a.startswith("-")), None)
    return (FEATURES[command],) if command in FEATURES else ALL_MODULES


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the full app, built on first use (tests: CliRunner().invoke(app, ...))
        return build_app()
    raise AttributeError(name)


def main() -> None:
    """Console-script entry point."""
    build_app(_modules_for(sys.argv[1:]))()
