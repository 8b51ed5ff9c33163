"""`trailguard audit` command line: formats, --check, --config, --fail-on and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from typer.testing import CliRunner

from trailguard.audit.cli import exit_code
from trailguard.cli import app
from trailguard.findings.model import Finding, Severity, Status

runner = CliRunner()
STRONG = dict(MinimumPasswordLength=14, PasswordReusePrevention=24)


def test_json_report_and_summary_on_stderr(aws, iam, tmp_path: Path) -> None:
    iam.update_account_password_policy(**STRONG)
    out = tmp_path / "audit.json"
    r = runner.invoke(app, ["audit", "--format", "json", "--output", str(out),
                            "--check", "iam_password_policy_minimum_length_14",
                            "--check", "iam_password_policy_reuse_24"])
    assert r.exit_code == 0, r.output
    report = json.loads(out.read_text())
    assert report["command"] == "audit"
    assert [(f["rule_id"], f["status"]) for f in report["findings"]] == [
        ("iam_password_policy_minimum_length_14", "PASS"), ("iam_password_policy_reuse_24", "PASS")]
    assert report["stats"]["api_calls"] == 2  # GetCallerIdentity + GetAccountPasswordPolicy
    assert "PASS     2  (2 medium)" in r.stderr


def test_fail_at_or_above_fail_on_exits_1(aws) -> None:
    args = ["audit", "--format", "json", "--check", "iam_password_policy_minimum_length_14"]
    assert runner.invoke(app, args).exit_code == 0  # medium FAIL, default --fail-on high
    assert runner.invoke(app, [*args, "--fail-on", "medium"]).exit_code == 1
    assert runner.invoke(app, [*args, "--fail-on", "none"]).exit_code == 0


def test_error_only_exits_2(aws) -> None:
    r = runner.invoke(app, ["audit", "--format", "json", "--check", "iam_avoid_root_usage"])
    assert r.exit_code == 2
    assert ("ERROR [123456789012] iam_avoid_root_usage: credential report has no "
            "<root_account> row") in r.stderr


def test_usage_errors_exit_2(aws, tmp_path: Path) -> None:
    bad_cfg = tmp_path / "c.yaml"
    bad_cfg.write_text("credentials: {unused: 3}\n")
    cases = {
        ("--check", "no_such_check"): "unknown check id(s): no_such_check",
        ("--format", "xml"): "'xml' is not one of",
        ("--fail-on", "urgent"): "'urgent' is not one of",
        ("--config", str(bad_cfg)): "credentials.unused",
        ("--accounts", "111122223333"): "need --role-name",
        ("--role-name", "Audit", "--accounts", "42"): "12 digits",
        ("--profile", "no-such-profile"): "no-such-profile",
    }
    for args, message in cases.items():
        r = runner.invoke(app, ["audit", *args])
        assert r.exit_code == 2, args
        assert message in " ".join(r.stderr.replace("│", " ").split()), (args, r.stderr)


def test_short_options_choices_in_help_and_case_insensitive(aws, tmp_path: Path) -> None:
    from trailguard.findings.choices import ReportFormat
    from trailguard.findings.output import FORMATS

    assert tuple(ReportFormat) == FORMATS  # the same formats as the writers (and scan)
    out = tmp_path / "a.json"
    r = runner.invoke(app, ["audit", "-f", "JSON", "-o", str(out), "--fail-on", "NONE",
                            "--check", "iam_password_policy_minimum_length_14"])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["findings"][0]["status"] == "FAIL"
    r = runner.invoke(app, ["audit", "--help"], env={"COLUMNS": "200"})
    assert "table|json|jsonl|csv|ocsf|asff|html" in r.stdout
    assert "info|low|medium|high|critical|none" in r.stdout


def test_api_call_counts_are_one_stat(aws, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    r = runner.invoke(app, ["audit", "-f", "json", "-o", str(out), "--fail-on", "none",
                            "--check", "iam_password_policy_minimum_length_14"])
    assert r.exit_code == 0, r.output
    stats = json.loads(out.read_text())["stats"]
    assert not [k for k in stats if k.startswith("calls.")]
    assert stats["api_calls_by_operation"] == ("iam.GetAccountPasswordPolicy 1, "
                                               "sts.GetCallerIdentity 1")
    assert set(stats) == {"accounts", "checks", "api_calls", "wall_seconds",
                          "api_calls_by_operation"}


def test_table_output_runs_all_checks(aws, tmp_path: Path) -> None:
    out = tmp_path / "audit.txt"
    r = runner.invoke(app, ["audit", "--output", str(out)])
    assert r.exit_code == 1  # root MFA (critical) fails on an empty moto account
    text = out.read_text()
    assert "iam_root_mfa_enabled" in text and "cloudtrail_multi_region_enabled" in text


def test_accounts_option_audits_each_account(aws, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    r = runner.invoke(app, ["audit", "--format", "json", "--output", str(out), "--role-name",
                            "Audit", "--accounts", "111122223333,444455556666", "--workers", "2",
                            "--check", "iam_password_policy_exists", "--fail-on", "none"])
    assert r.exit_code == 0, r.stderr
    findings = json.loads(out.read_text())["findings"]
    assert sorted(f["account_id"] for f in findings) == ["111122223333", "444455556666"]


def test_org_option(aws, tmp_path: Path) -> None:
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    org.create_account(Email="a@example.com", AccountName="a")
    out = tmp_path / "o.json"
    r = runner.invoke(app, ["audit", "--format", "json", "--output", str(out), "--org",
                            "--role-name", "OrganizationAccountAccessRole", "--check",
                            "iam_no_root_access_key"])
    assert r.exit_code == 0, r.stderr
    assert len(json.loads(out.read_text())["findings"]) == 2
    assert "auditing 2 account(s) with 4 worker(s)" in r.stderr


def _f(status: Status, severity: Severity) -> Finding:
    return Finding(kind="posture", rule_id="x", title="x", severity=severity, status=status)


def test_exit_code_rules() -> None:
    assert exit_code([_f(Status.PASS, Severity.high)], "high") == 0
    assert exit_code([_f(Status.FAIL, Severity.medium)], "high") == 0
    assert exit_code([_f(Status.FAIL, Severity.critical)], "high") == 1
    assert exit_code([_f(Status.ERROR, Severity.low)], "high") == 2
    # a FAIL that must be fixed wins over checks that could not run
    assert exit_code([_f(Status.ERROR, Severity.low), _f(Status.FAIL, Severity.high)],
                     "high") == 1


def test_every_available_format_writes_a_report(aws, tmp_path: Path) -> None:
    import importlib.util

    from trailguard.findings.output import FORMATS

    modules = {"json": "flat", "jsonl": "flat", "csv": "flat"}
    for fmt in FORMATS:
        module = f"trailguard.findings.{modules.get(fmt, fmt)}"
        if importlib.util.find_spec(module) is None:
            continue  # format still being built by the findings worker
        out = tmp_path / f"audit.{fmt}"
        r = runner.invoke(app, ["audit", "--format", fmt, "--output", str(out),
                                "--check", "iam_password_policy_exists", "--fail-on", "none"])
        assert r.exit_code == 0, (fmt, r.stderr)
        assert "iam_password_policy_exists" in out.read_text(), fmt


def test_summary_groups_errors_sharing_a_reason() -> None:
    from trailguard.audit.cli import summary_text

    def err(rule: str, reason: str) -> Finding:
        f = _f(Status.ERROR, Severity.high)
        return f.model_copy(update={"rule_id": rule, "reason": reason, "account_id": "1"})

    lines = summary_text([err("a", "denied"), err("b", "denied"), err("c", "other")])
    assert lines[0] == "PASS     0"
    assert lines[2] == "ERROR    3  (3 high)"
    assert lines[3:] == ["ERROR [1] 2 checks: denied", "ERROR [1] c: other"]


def _one_line_exit_2(r, message: str) -> None:
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "ERROR" not in r.stdout and "iam_root_mfa_enabled" not in r.stdout


def test_no_credentials_is_one_clear_line(aws, monkeypatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    r = runner.invoke(app, ["audit"])
    _one_line_exit_2(r, "no AWS credentials found; use --profile")


def test_rejected_credentials_are_one_clear_line(aws, enforce_auth) -> None:
    enforce_auth()  # moto now checks keys: the fixture's "testing" key is unknown
    r = runner.invoke(app, ["audit", "--format", "json"])
    _one_line_exit_2(r, "the AWS credentials were rejected (InvalidClientTokenId")


def test_unreachable_endpoint_is_one_clear_line(aws, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    r = runner.invoke(app, ["audit"])
    _one_line_exit_2(r, "cannot reach AWS")
