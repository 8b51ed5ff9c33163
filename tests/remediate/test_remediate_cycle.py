"""The whole cycle on a non-compliant account: audit fails, plan, apply, audit passes, undo."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import boto3
from remediate_support import (
    build_noncompliant,
    differences,
    emulate_real_login_profile_reset,
    fail_on,
    later,
    snapshot,
)

from trailguard.audit.config import AuditConfig
from trailguard.audit.engine import run_audit
from trailguard.aws import make_session
from trailguard.findings.model import Status
from trailguard.remediate.apply import apply_plan
from trailguard.remediate.config import RemediateConfig
from trailguard.remediate.context import RemediationContext
from trailguard.remediate.journal import read_journal
from trailguard.remediate.planner import PlanOptions, build_plan
from trailguard.remediate.undo import undo_journal

BUCKET = "trailguard-cloudtrail-123456789012-us-east-1"
NOW = later(100)  # everything built now is 100 days old by then
FIXED = [
    "iam_password_policy_exists", "iam_password_policy_minimum_length_14",
    "iam_password_policy_reuse_24", "iam_password_policy_uppercase",
    "iam_password_policy_lowercase", "iam_password_policy_symbol", "iam_password_policy_number",
    "iam_password_policy_expires_passwords_within_90_days_or_less",
    "iam_user_accesskey_unused", "iam_rotate_access_key_90_days",
    "iam_user_two_active_access_key", "iam_user_ssh_public_key_inactive_user",
    "iam_user_signing_certificate_inactive_user", "cloudtrail_multi_region_enabled",
    "cloudtrail_multi_region_enabled_logging_management_events",
    "cloudtrail_log_file_validation_enabled", "alerting_credential_deletion",
    "alerting_mfa_deactivation", "alerting_password_policy_deletion",
    "alerting_cloudtrail_changes", "alerting_root_usage", "alerting_console_login_without_mfa",
]


def _plan(session: boto3.Session, journal_dir: Path, **kw):
    opts = PlanOptions(now=kw.pop("now", NOW), journal_dir=journal_dir, **kw)
    plan, _ = build_plan(session, AuditConfig(), RemediateConfig(), opts)
    return plan


def _status(session: boto3.Session) -> dict[str, Status]:
    return {f.rule_id: f.status for f in run_audit(session, now=NOW)}


def _session() -> boto3.Session:
    """A session on which UpdateLoginProfile behaves as on AWS (see the helper: moto bug)."""
    s = make_session()
    emulate_real_login_profile_reset(s)
    return s


def test_plan_lists_exactly_the_expected_steps(aws, journal_dir) -> None:
    ids = build_noncompliant()
    plan = _plan(make_session(), journal_dir)
    got = [(s.action, s.handler, s.target) for s in plan.steps]
    k1, k2 = ids["keys"]
    assert got == [
        ("password-policy", "password_policy", "account password policy"),
        ("require-password-reset", "login_profile_reset", "user alice"),
        ("mfa-enforce-policy", "managed_policy_create", "policy trailguard-require-mfa"),
        ("mfa-enforce-policy", "user_policy_attach", "user alice"),
        ("deactivate-access-key", "access_key_status", f"key {k1} of alice"),
        ("deactivate-access-key", "access_key_status", f"key {k2} of alice"),
        ("deactivate-ssh-public-key", "ssh_key_status", f"SSH key {ids['ssh']} of carol"),
        ("deactivate-signing-certificate", "certificate_status",
         f"certificate {ids['cert']} of carol"),
        ("cloudtrail-enable", "bucket_create", f"bucket {BUCKET}"),
        ("cloudtrail-enable", "bucket_policy", f"bucket {BUCKET}"),
        ("cloudtrail-enable", "trail_create", "trail trailguard"),
        ("cloudtrail-enable", "trail_logging", "trail trailguard"),
        ("alerting-rule", "topic_create", "topic trailguard-alerts"),
        ("alerting-rule", "topic_policy",
         "topic arn:aws:sns:us-east-1:123456789012:trailguard-alerts"),
        ("alerting-rule", "rule_put", "rule trailguard-high-severity (us-east-1)"),
        ("alerting-rule", "rule_targets", "rule trailguard-high-severity (us-east-1)"),
    ]
    assert [s.seq for s in plan.steps] == list(range(1, 17))
    # Stricter settings already in place are kept: symbols required, 30-day expiry.
    params = plan.steps[0].calls[0].params
    assert params["MinimumPasswordLength"] == 14 and params["PasswordReusePrevention"] == 24
    assert params["RequireSymbols"] is True and params["MaxPasswordAge"] == 30
    # The reset never carries a password.
    assert plan.steps[1].calls[0].params == {"UserName": "alice", "PasswordResetRequired": True}
    # Every key is named by its own id.
    assert [s.calls[0].params for s in plan.steps[4:6]] == [
        {"UserName": "alice", "AccessKeyId": k, "Status": "Inactive"} for k in (k1, k2)]
    trail = plan.steps[10].calls[0].params
    assert trail["IsMultiRegionTrail"] and trail["IncludeGlobalServiceEvents"]
    assert trail["EnableLogFileValidation"]
    policy = json.loads(plan.steps[9].calls[0].params["Policy"])
    sids = {s["Sid"]: s for s in policy["Statement"]}
    assert set(sids) == {"AWSCloudTrailAclCheck", "AWSCloudTrailWrite"}
    assert sids["AWSCloudTrailWrite"]["Condition"]["StringEquals"]["aws:SourceArn"] == (
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/trailguard")
    # Checks without an automated fix are listed as manual.
    assert {n.check for n in plan.notes} >= {"iam_root_mfa_enabled",
                                            "cloudtrail_kms_encryption_enabled"}


def test_plan_only_changes_nothing(aws, journal_dir) -> None:
    build_noncompliant()
    before = snapshot()
    plan = _plan(make_session(), journal_dir)
    assert len(plan.steps) == 16
    assert differences(before, snapshot()) == []
    assert list(journal_dir.iterdir()) == []


def test_apply_fixes_audit_passes_reapply_plans_nothing_undo_restores(aws, journal_dir) -> None:
    build_noncompliant()
    session = make_session()
    sent = emulate_real_login_profile_reset(session)  # moto bug workaround, tests only
    status = _status(session)
    # A policy exists; it already requires symbols and 30-day expiry (kept by the merge).
    assert [c for c in FIXED if status[c] is not Status.FAIL] == [
        "iam_password_policy_exists", "iam_password_policy_symbol",
        "iam_password_policy_expires_passwords_within_90_days_or_less"]
    before = snapshot()

    plan = _plan(session, journal_dir, alert_emails=["secops@example.com"])
    result = apply_plan(RemediationContext(session), plan, journal_dir / "apply.jsonl")
    assert result.ok and len(result.done) == 17  # 16 steps + the subscription

    # trailguard sent the reset without any password (the test hook adds one only for moto).
    assert sent == [{"UserName": "alice", "PasswordResetRequired": True}]
    status = _status(session)
    assert {c: status[c] for c in FIXED if status[c] is not Status.PASS} == {}
    after = snapshot()
    assert after["users"]["alice"]["login_profile"] == {"PasswordResetRequired": True}
    assert set(after["users"]["alice"]["access_keys"].values()) == {"Inactive"}
    assert after["users"]["alice"]["attached_policies"] == [
        "arn:aws:iam::123456789012:policy/trailguard-require-mfa"]
    assert after["trails"]["trailguard"]["IsLogging"] is True
    assert after["password_policy"]["MaxPasswordAge"] == 30

    # Journal: header, then before/done for every step, in order, then end.
    records = [json.loads(x) for x in (journal_dir / "apply.jsonl").read_text().splitlines()]
    assert [r["record"] for r in records] == ["header"] + ["before", "done"] * 17 + ["end"]
    assert records[1]["before"]["policy"]["MinimumPasswordLength"] == 8
    assert records[3]["step"]["calls"][0]["params"] == {"UserName": "alice",
                                                        "PasswordResetRequired": True}

    replan = _plan(session, journal_dir)
    assert replan.steps == []  # fixed account: nothing to do
    # What only the user can finish is said, not re-planned.
    assert {(n.check, n.target) for n in replan.notes} >= {
        ("iam_user_mfa_enabled_console_access", "user alice"),
        ("iam_user_console_access_unused", "user alice")}

    undone = undo_journal(RemediationContext(session), read_journal(journal_dir / "apply.jsonl"),
                          journal_dir / "undo.jsonl")
    assert undone.ok
    assert differences(before, snapshot()) == []
    assert any("kept on purpose" in m for m in undone.messages)
    boto3.client("s3").head_bucket(Bucket=BUCKET)

    again = undo_journal(RemediationContext(session), read_journal(journal_dir / "apply.jsonl"),
                         journal_dir / "undo2.jsonl")
    assert again.ok and differences(before, snapshot()) == []
    assert not any("deleted the topic" in m for m in again.messages)  # it was already gone
    assert any("already deleted" in m for m in again.messages)
    undo_records = [json.loads(x)["record"]
                    for x in (journal_dir / "undo.jsonl").read_text().splitlines()]
    assert Counter(undo_records) == {"header": 1, "before": 17, "done": 17, "end": 1}


def test_fault_mid_apply_stops_and_undo_restores(aws, journal_dir) -> None:
    build_noncompliant()
    session = _session()
    before = snapshot()
    plan = _plan(session, journal_dir)
    calls = fail_on(session, "cloudtrail.CreateTrail")
    result = apply_plan(RemediationContext(session), plan, journal_dir / "apply.jsonl")
    assert not result.ok and result.failed.handler == "trail_create"
    assert "InternalFailure" in result.error
    assert len(result.done) == 10
    assert "cloudtrail.StartLogging" not in calls and "sns.CreateTopic" not in calls

    journal = read_journal(journal_dir / "apply.jsonl")
    assert [e.done for e in journal.entries] == [True] * 10 + [False]
    assert journal.entries[-1].failed and journal.end["status"] == "failed"
    assert snapshot()["users"]["alice"]["access_keys"] != before["users"]["alice"]["access_keys"]

    undone = undo_journal(RemediationContext(session), journal, journal_dir / "undo.jsonl")
    assert undone.ok
    assert differences(before, snapshot()) == []
