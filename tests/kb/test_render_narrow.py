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


def events_at(width: int, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["events", *args], env={"COLUMNS": str(width)})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("width", [60, 80])
def test_explain_field_tables_become_lists_when_narrow(width: int) -> None:
    out = explain_at(width, "CreateAccessKey")
    lines = out.splitlines()
    assert "…" not in out
    assert "userIdentity.sessionContext.sessionIssuer.arn" in lines  # field on its own line
    at = lines.index("userIdentity.sessionContext.sessionIssuer.arn")
    assert lines[at + 1].startswith("  The role behind an AssumedRole session")
    assert "Related events" in lines


def test_explain_field_tables_stay_tables_when_wide() -> None:
    out = explain_at(160, "CreateAccessKey")
    assert any(line.startswith("┃ field") for line in out.splitlines())


@pytest.mark.parametrize("width", [60, 80])
def test_events_list_is_readable_when_narrow(width: int) -> None:
    from trailguard.kb.loader import load_entries

    code, out, _ = events_at(width)
    assert code == 0
    assert "…" not in out
    for entry in load_entries().values():
        lines = out.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith(entry.event_name + " "))
        end = next(i for i in range(at + 1, len(lines)) if lines[i].startswith("  "))
        heading = " ".join(lines[at:end])  # may wrap at word boundaries, never cut
        for part in (entry.service, entry.severity.value, entry.category.value):
            assert f" {part} " in heading + " "
        assert all(t.id in heading for t in entry.mitre_attack)


def test_events_table_when_wide() -> None:
    code, out, _ = events_at(200)
    assert code == 0 and "┃ event" in out and "…" not in out


@pytest.mark.parametrize("form", ["IAM", "Iam", "iam.amazonaws.com", "IAM.AMAZONAWS.COM", " iam "])
def test_events_service_accepts_any_case_and_event_source(form: str) -> None:
    import json

    _, expected, _ = events_at(80, "-f", "json", "--service", "iam")
    assert json.loads(expected), "the shipped KB has IAM entries"
    code, out, _ = events_at(80, "-f", "json", "--service", form)
    assert code == 0
    assert out == expected


def test_events_unknown_service_lists_known_ones() -> None:
    code, out, err = events_at(80, "--service", "iamm")
    assert code == 2 and out == ""
    assert "unknown service 'iamm'" in err and "Known: " in err and "iam" in err


def test_events_service_without_curated_entries_says_so() -> None:
    import json

    code, out, err = events_at(80, "-f", "json", "--service", "monitoring.amazonaws.com")
    assert code == 0 and json.loads(out) == []
    assert "No curated events for monitoring.amazonaws.com" in err and "iam" in err


def test_explain_service_is_case_insensitive() -> None:
    result = runner.invoke(app, ["explain", "CreateTags", "-s", "EC2", "-f", "json"])
    assert result.exit_code == 0
    assert '"service": "ec2"' in result.stdout


def test_reference_urls_are_never_cut() -> None:
    entry = get_entry("CreateAccessKey")
    assert entry is not None
    lines = [line.strip() for line in explain_at(60, "CreateAccessKey").splitlines()]
    for ref in entry.references:
        assert str(ref.url) in lines
