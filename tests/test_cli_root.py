"""The root command wires every feature and reports its version."""

from typer.testing import CliRunner

from trailguard import __version__
from trailguard.cli import app


def test_version_flag_prints_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"trailguard {__version__}"
