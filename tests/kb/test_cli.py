"""`trailguard explain` and `trailguard events`, through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trailguard.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_explain_curated_text(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "deletesshpublickey")
    assert code == 0
    assert "DeleteSSHPublicKey" in out and "iam.amazonaws.com" in out
    assert "T1531 Account Access Removal (impact)" in out
    for section in ("How it hurts", "Investigation", "Response", "Hardening"):
        assert section in out
    assert "aws iam upload-ssh-public-key --user-name alice" in out
    assert "iam.upload_ssh_public_key(UserName=USER_NAME" in out


def test_explain_curated_json_is_the_entry(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "DeleteTrail", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["event_name"] == "DeleteTrail"
    assert data["severity"] == "critical"
    assert data["response"][0]["id"] == "recreate-trail"


def test_explain_curated_markdown_has_page_sections(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "DeleteSSHPublicKey", "-f", "markdown")
    assert code == 0
    assert out.startswith("# DeleteSSHPublicKey\n")
    for heading in (
        "## Event Information",
        "## Examples of impact",
        "### Malicious insider: Fixture sabotage",
        "## Investigation",
        "## Response",
        "## Hardening",
        "#### Using Console",
        "#### Using CLI",
        "#### Using Python (boto3)",
        "```python",
        "```bash",
    ):
        assert heading in out


def test_explain_uncurated_from_botocore(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "RunInstances", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["service"] == "ec2"
    assert data["event_source"] == "ec2.amazonaws.com"
    assert data["read_only"] is False
    assert data["curated"] is False
    assert "No curated guidance" in data["note"]
    params = {p["name"]: p for p in data["parameters"]}
    assert params["MinCount"]["required"] is True
    assert params["ImageId"]["type"] == "string"
    assert "<" not in data["documentation"]  # HTML stripped


def test_explain_uncurated_text_and_markdown(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "ListUsers", "--service", "iam")
    assert code == 0
    assert "iam.amazonaws.com" in out
    assert "read-only" in out and "inferred from the operation name" in out
    assert "No curated guidance exists" in out
    code, md, _ = invoke("explain", "ListUsers", "-s", "iam", "-f", "markdown")
    assert code == 0
    assert "| `PathPrefix` | string | no |" in md


def test_explain_get_session_token_is_not_read_only(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "GetSessionToken", "-f", "json")
    assert json.loads(out)["read_only"] is False


@pytest.mark.parametrize(
    ("event", "service", "also"),
    [
        ("GetObject", "s3", "mediastore-data"),
        ("CreateUser", "iam", "appstream"),
        ("DeleteBucket", "s3", "lightsail"),
        ("CreateTags", "ec2", "workspaces"),
    ],
)
def test_explain_ambiguous_name_defaults_to_the_common_service(
    fixture_kb: Path, event: str, service: str, also: str
) -> None:
    code, out, _ = invoke("explain", event, "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["service"] == service
    assert also in data["other_services"] and service not in data["other_services"]
    assert f"showing {service}" in data["ambiguity"]
    code, out, _ = invoke("explain", event)
    first = out.lstrip().splitlines()[0]
    assert first.startswith(f"{event} exists in {len(data['other_services']) + 1} services; ")
    assert f"showing {service}; choose with --service" in first
    code, md, _ = invoke("explain", event, "-f", "markdown")
    assert md.startswith(f"> **{event} exists in")


def test_explain_ambiguous_without_common_service_lists_all(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "UpdateFindings", "-f", "json")
    assert code == 0
    assert {d["service"] for d in json.loads(out)} == {"accessanalyzer", "securityhub"}
    code, out, _ = invoke("explain", "UpdateFindings")
    assert out.splitlines()[0].startswith("UpdateFindings exists in 2 services")


def test_explain_service_picks_one_of_an_ambiguous_name(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "CreateTags", "--service", "workspaces", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["service"] == "workspaces" and "other_services" not in data
    code, out, _ = invoke("explain", "CreateTags", "--service", "ec2", "-f", "json")
    assert json.loads(out)["service"] == "ec2"


def test_explain_wrong_service_is_an_error(fixture_kb: Path) -> None:
    code, _, err = invoke("explain", "CreateTags", "--service", "iam")
    assert code == 2
    assert "not an operation of 'iam'" in err and "ec2" in err


def test_explain_unknown_name_suggests_closest(fixture_kb: Path) -> None:
    code, out, err = invoke("explain", "DeleteSSHPublicKy")
    assert code == 2
    assert out == ""
    assert "unknown event 'DeleteSSHPublicKy'" in err
    assert "DeleteSSHPublicKey" in err


def test_explain_unknown_service(fixture_kb: Path) -> None:
    code, _, err = invoke("explain", "ListUsers", "--service", "iamm")
    assert code == 2
    assert "unknown service 'iamm'" in err and "iam" in err


def test_events_lists_curated(fixture_kb: Path) -> None:
    code, out, _ = invoke("events", "-f", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["event_name"] for r in rows] == ["DeleteTrail", "DeleteSSHPublicKey"]
    assert rows[0]["mitre_attack"] == ["T1562.008"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--service", "iam"], ["DeleteSSHPublicKey"]),
        (["--severity", "high"], ["DeleteTrail"]),
        (["--severity", "low"], ["DeleteTrail", "DeleteSSHPublicKey"]),
        (["--search", "zebracorn"], ["DeleteSSHPublicKey"]),  # impact text
        (["--search", "trail deleted"], ["DeleteTrail"]),  # all words, summary
        (["--search", "trail zebracorn"], []),
        (["--tactic", "defense-evasion"], ["DeleteTrail"]),
        (["--service", "sts"], []),
    ],
)
def test_events_filters(fixture_kb: Path, args: list[str], expected: list[str]) -> None:
    code, out, _ = invoke("events", "-f", "json", *args)
    assert code == 0
    assert [r["event_name"] for r in json.loads(out)] == expected


def test_events_table(fixture_kb: Path) -> None:
    code, out, _ = invoke("events")
    assert code == 0
    assert "2 curated event(s)" in out
    assert "DeleteSSHPublicKey" in out and "critical" in out


def test_events_bad_severity_is_rejected(fixture_kb: Path) -> None:
    code, _, _ = invoke("events", "--severity", "urgent")
    assert code == 2


def test_stats_counts_fixture_kb(fixture_kb: Path) -> None:
    code, out, _ = invoke("events", "--stats")
    assert code == 0
    counts = {}
    for line in out.strip().splitlines():
        label, value = line.rsplit(None, 1)
        counts[label.strip()] = int(value)
    assert counts["curated entries"] == 2
    assert counts["CLI commands checked against botocore"] == 4
    assert counts["snippets run on moto (pytest tests/kb)"] == 3
    assert counts["snippets model-checked only (skip_reason)"] == 1
    assert counts["CLI commands with problems"] == 0


def test_broken_kb_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trailguard.kb import loader

    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "Bad.yaml").write_text("event_name: Bad\n")
    monkeypatch.setattr(loader, "knowledge_root", lambda: tmp_path)
    loader.clear_cache()
    try:
        code, _, err = invoke("events")
        assert code == 1
        assert "knowledge/iam/Bad.yaml" in err
    finally:
        loader.clear_cache()


def test_explain_non_api_event_without_entry(fixture_kb: Path) -> None:
    code, _, err = invoke("explain", "GitPull")
    assert code == 2
    assert "no API model" in err and "no curated guidance" in err


def test_explain_service_may_be_an_event_source(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "CreateTags", "--service", "ec2.amazonaws.com", "-f", "json")
    assert code == 0
    assert json.loads(out)["service"] == "ec2"
    code, out, _ = invoke("explain", "ListMetrics", "-s", "monitoring.amazonaws.com", "-f", "json")
    assert code == 0
    assert json.loads(out)["service"] == "cloudwatch"
    code, out, _ = invoke("explain", "DeleteTrail", "-s", "cloudtrail.amazonaws.com", "-f", "json")
    assert json.loads(out)["severity"] == "critical"  # the curated entry


def test_read_only_basis_has_no_nested_brackets(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "ListUsers", "--service", "iam", "-f", "json")
    basis = json.loads(out)["read_only_basis"]
    assert "(" not in basis and ")" not in basis
    code, out, _ = invoke("explain", "GetSessionToken", "-f", "json")
    assert "credentials" in json.loads(out)["read_only_basis"]


def test_uncurated_json_uses_event_name_like_curated(fixture_kb: Path) -> None:
    code, out, _ = invoke("explain", "RunInstances", "-f", "json")
    data = json.loads(out)
    assert data["event_name"] == "RunInstances"
    assert data["name"] == "RunInstances"  # kept for existing consumers
    assert {"service", "event_source", "parameters", "curated"} <= set(data)
