"""Terminal text at narrow widths: code never wraps, tables degrade, no trailing padding."""

from __future__ import annotations

import ast

import pytest
from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.kb.loader import get_entry

runner = CliRunner()


def explain_at(width: int, *args: str) -> str:
    result = runner.invoke(app, ["explain", *args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def extract_block(out_lines: list[str], code: str) -> list[str]:
    """The output lines where `code` appears, as many as the snippet has (the first
    candidate start when no block matches exactly, so the assertion shows the damage)."""
    want = [line.rstrip() for line in code.rstrip("\n").splitlines()]
    starts = [i for i, line in enumerate(out_lines) if line == want[0]]
    assert starts, f"first line of snippet not found: {want[0]!r}"
    for start in starts:
        if out_lines[start : start + len(want)] == want:
            return want
    return out_lines[starts[0] : starts[0] + len(want)]


@pytest.mark.parametrize("width", [60, 80])
@pytest.mark.parametrize("event", ["DeleteSSHPublicKey", "CreateAccessKey"])
def test_code_blocks_never_wrap_and_paste_as_valid_code(event: str, width: int) -> None:
    entry = get_entry(event)
    assert entry is not None
    out = explain_at(width, event)
    lines = out.splitlines()
    assert not [line for line in lines if line != line.rstrip()], "trailing spaces"
    assert any(len(line) > width for line in lines)  # long code overflows, is not cut
    for action in [*entry.response, *entry.hardening]:
        code = action.boto3.code
        block = extract_block(lines, code)
        assert block == [line.rstrip() for line in code.rstrip("\n").splitlines()]
        ast.parse("\n".join(block))
        for cmd in action.cli:
            command_lines = cmd.command.strip().splitlines()
            assert extract_block(lines, cmd.command) == command_lines
            at = lines.index(command_lines[0])
            assert lines[at - 1].startswith("# ")  # its explanation, as a shell comment
