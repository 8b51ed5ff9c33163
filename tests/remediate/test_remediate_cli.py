"""`trailguard remediate` and `trailguard undo` through typer's CliRunner on the moto server.

The account here has no console password: the CLI builds its own session, so the moto
UpdateLoginProfile workaround (remediate_support) cannot be hooked in; password resets are
covered at the API level in test_remediate_cycle.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from remediate_support import build_noncompliant, differences, later, snapshot
from typer.testing import CliRunner

from trailguard.cli import app

NOW = later(100).isoformat()
ONLY_KEYS = ["--check", "iam_user_accesskey_unused"]


@pytest.fixture()
def run(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke the CLI in an empty working directory; return the result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke


def _journal(text: str, label: str = "Journal: ") -> Path:
    line = next(x for x in text.splitlines() if x.startswith(label))
    return Path(line.removeprefix(label).strip())


def test_plan_only_prints_calls_and_changes_nothing(run) -> None:
    ids = build_noncompliant(console_user=False)
    before = snapshot()
    res = run("remediate", "--now", NOW)
    assert res.exit_code == 0, res.output
    assert "UpdateAccessKey" in res.output and ids["keys"][0] in res.output
    assert "CreateTrail" in res.output and "PutRule" in res.output
    assert "events PutRule us-east-1" in res.output  # every call shows its region
    assert "Plan only: nothing was changed" in res.output
    assert differences(before, snapshot()) == []
    assert not Path("trailguard-journals").exists()


def test_json_plan_has_every_call(run) -> None:
    ids = build_noncompliant(console_user=False)
    res = run("remediate", "--now", NOW, "--format", "json", *ONLY_KEYS)
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout[: res.stdout.rindex("}") + 1])
    calls = [c for s in plan["steps"] for c in s["calls"]]
    assert calls == [{"service": "iam", "operation": "UpdateAccessKey", "region": "us-east-1",
                      "params": {"UserName": "alice", "AccessKeyId": k, "Status": "Inactive"}}
                     for k in ids["keys"]]


def test_apply_needs_confirmation(run) -> None:
    build_noncompliant(console_user=False)
    before = snapshot()
    res = run("remediate", "--now", NOW, "--apply")  # no input, no --yes
    assert res.exit_code == 2
    assert "--yes" in res.output
    res = run("remediate", "--now", NOW, "--apply", input="n\n")
    assert res.exit_code == 1 and "nothing was changed" in res.output
    assert differences(before, snapshot()) == []
    assert not Path("trailguard-journals").exists()


def test_apply_then_undo_restores(run) -> None:
    build_noncompliant(console_user=False)
    before = snapshot()
    res = run("remediate", "--now", NOW, "--apply", input="y\n")
    assert res.exit_code == 0, res.output
    journal = _journal(res.output)
    assert journal.parent == Path("trailguard-journals") and journal.name.startswith("apply-")
    assert f"To undo: trailguard undo {journal}" in res.output
    assert differences(before, snapshot()) != []
    again = run("remediate", "--now", NOW, "--format", "json")
    assert json.loads(again.stdout[: again.stdout.rindex("}") + 1])["steps"] == []

    assert run("undo", str(journal)).exit_code == 2  # no confirmation
    res = run("undo", str(journal), "--yes")
    assert res.exit_code == 0, res.output
    assert "kept on purpose" in res.output
    assert differences(before, snapshot()) == []
    undo_journal = _journal(res.output, "Undo journal: ")
    assert undo_journal.exists() and undo_journal.name.startswith("undo-")
    res = run("undo", str(undo_journal), "--yes")
    assert res.exit_code == 2 and "only apply journals can be undone" in res.output


def test_cli_undo_restores_a_policy_without_expiry_or_reuse_prevention(run) -> None:
    """The journal of a real run holds MaxPasswordAge 0 / no reuse prevention; undo works."""
    iam = boto3.client("iam")
    iam.update_account_password_policy(MinimumPasswordLength=9, RequireSymbols=True)
    before = iam.get_account_password_policy()["PasswordPolicy"]
    res = run("remediate", "--check", "iam_password_policy_reuse_24", "--check",
              "iam_password_policy_expires_passwords_within_90_days_or_less", "--apply",
              input="y\n")
    assert res.exit_code == 0, res.output
    assert iam.get_account_password_policy()["PasswordPolicy"]["MaxPasswordAge"] == 90
    res = run("undo", str(_journal(res.output)), "--yes")
    assert res.exit_code == 0, res.output
    assert "restored the previous password policy" in res.output
    assert iam.get_account_password_policy()["PasswordPolicy"] == before


def test_failure_mid_apply_prints_the_undo_command(run) -> None:
    build_noncompliant(console_user=False)
    before = snapshot()
    # moto rejects this trail name at CreateTrail, after the key, bucket steps succeeded.
    res = run("remediate", "--now", NOW, "--apply", "--yes", "--trail-name", "bad name")
    assert res.exit_code == 1, res.output
    assert "FAILED" in res.output and "CreateTrail" in res.output
    journal = _journal(res.output)
    assert f"To undo what was done: trailguard undo {journal}" in res.output
    assert "sns" not in journal.read_text()  # nothing after the failure was attempted
    res = run("undo", str(journal), "--yes")
    assert res.exit_code == 0, res.output
    assert differences(before, snapshot()) == []


def test_bad_input_gets_clear_errors(run, tmp_path: Path) -> None:
    res = run("remediate", "--check", "no_such_check")
    assert res.exit_code == 2 and "unknown check id" in res.output
    res = run("remediate", "--format", "xml")
    assert res.exit_code == 2 and "--format" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    res = run("undo", str(bad), "--yes")
    assert res.exit_code == 2 and "not a trailguard journal" in res.output
    res = run("undo", str(tmp_path / "missing.jsonl"), "--yes")
    assert res.exit_code == 2 and "no such journal" in res.output
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("remediate: {access_keys: {delete_after_inactive_days: 0}}\n")
    res = run("remediate", "--config", str(cfg))
    assert res.exit_code == 2 and "delete_after_inactive_days" in res.output
    assert "Traceback" not in res.output


def test_delete_inactive_keys_deletes_only_the_named_eligible_key(run) -> None:
    ids = build_noncompliant(console_user=False)
    k1, k2 = ids["keys"]
    iam = boto3.client("iam")
    k3 = iam.create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="carol", AccessKeyId=k3, Status="Inactive")  # not by us
    res = run("remediate", "--now", NOW, "--apply", "--yes", *ONLY_KEYS)
    assert res.exit_code == 0, res.output

    # Deactivated today: not yet inactive for 30 days.
    res = run("remediate", "--format", "json", *ONLY_KEYS, "--delete-inactive-keys", k1)
    plan = json.loads(res.stdout[: res.stdout.rindex("}") + 1])
    assert plan["steps"] == []
    assert "needs 30 days" in plan["notes"][0]["message"]

    # 40 days later: k1 (named, eligible) goes; k2 (eligible, not named) stays; k3 refused.
    res = run("remediate", "--now", later(40).isoformat(), "--apply", "--yes", *ONLY_KEYS,
              "--delete-inactive-keys", k1, "--delete-inactive-keys", k3)
    assert res.exit_code == 0, res.output
    assert "cannot be undone" not in res.output  # --yes: no prompt text
    assert "no trailguard journal" in res.output
    keys = {k["AccessKeyId"]: k["Status"] for u in ("alice", "carol")
            for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"]}
    assert keys == {k2: "Inactive", k3: "Inactive"}
    journal = _journal(res.output)
    res = run("undo", str(journal), "--yes")
    assert res.exit_code == 0 and "cannot be restored" in res.output


def test_list_actions_maps_every_catalog_remediation(run) -> None:
    from trailguard.audit.catalog import load_catalog

    res = run("remediate", "--list-actions", "--format", "json")
    assert res.exit_code == 0, res.output
    actions = {a["action"]: a for a in json.loads(res.stdout)}
    named = {m.remediation for m in load_catalog().values() if m.remediation}
    assert named <= set(actions)  # every action the audit names exists
    assert set(actions) - named == {"delete-access-key"}  # only on explicit request
    assert "iam_user_mfa_enabled_console_access" in actions["mfa-enforce-policy"]["checks"]
    assert actions["delete-access-key"]["handlers"]["access_key_delete"]["reversible"] is False
    assert actions["cloudtrail-enable"]["handlers"]["bucket_create"]["undo"] == []


def test_existing_journal_file_is_never_overwritten(run, tmp_path: Path) -> None:
    build_noncompliant(console_user=False)
    before = snapshot()
    taken = tmp_path / "taken.jsonl"
    taken.write_text("someone else's journal\n")
    res = run("remediate", "--now", NOW, *ONLY_KEYS, "--apply", "--yes", "--journal", str(taken))
    assert res.exit_code == 2 and "exists already" in res.output
    assert taken.read_text() == "someone else's journal\n"
    assert differences(before, snapshot()) == []


def test_apply_on_a_compliant_selection_does_nothing(run) -> None:
    res = run("remediate", *ONLY_KEYS, "--apply", "--yes")
    assert res.exit_code == 0 and "Nothing to apply" in res.output
    assert not Path("trailguard-journals").exists()


def test_aws_failures_end_with_one_line_and_exit_1(run, monkeypatch: pytest.MonkeyPatch) -> None:
    build_noncompliant(console_user=False)
    res = run("remediate", "--now", NOW, *ONLY_KEYS, "--apply", "--yes")
    assert res.exit_code == 0, res.output
    journal = _journal(res.output)

    res = run("remediate", "--profile", "no-such-profile")
    assert res.exit_code == 1 and "Error: cannot plan: " in res.output, res.output
    assert "no-such-profile" in res.output
    res = run("undo", str(journal), "--yes", "--profile", "no-such-profile")
    assert res.exit_code == 1 and "Error: cannot identify the account: " in res.output

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for args in (("remediate",), ("undo", str(journal), "--yes")):
        res = run(*args)
        assert res.exit_code == 1, res.output
        assert "Error: no AWS credentials found (use --profile" in res.output
        assert "Traceback" not in res.output
