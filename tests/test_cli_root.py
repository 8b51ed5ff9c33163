"""The root command wires every feature and reports its version."""

from typer.testing import CliRunner

from trailguard import __version__
from trailguard.cli import app


def test_version_flag_prints_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"trailguard {__version__}"


def test_full_app_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("explain", "events", "docs", "scan", "rules", "audit", "remediate", "undo"):
        assert command in result.output


def test_a_command_loads_only_its_feature() -> None:
    """`trailguard scan` must not pay for importing audit/remediation code at start-up."""
    import subprocess
    import sys

    code = (
        "import sys; from trailguard.cli import build_app, _modules_for; "
        "build_app(_modules_for(['scan', 'logs/', '--format', 'json'])); "
        "print(sorted(m for m in ('trailguard.audit', 'trailguard.remediate', 'trailguard.kb.cli')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dispatch_picks_the_command_or_loads_everything() -> None:
    from trailguard.cli import ALL_MODULES, _modules_for

    assert _modules_for(["scan", "--help"]) == ("trailguard.scan.cli",)
    assert _modules_for(["--version"]) == ALL_MODULES
    assert _modules_for(["nonsense"]) == ALL_MODULES  # typer then reports the unknown command
