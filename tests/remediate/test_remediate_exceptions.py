"""Remediation leaves accepted risks (MUTED by the audit config's exceptions) alone."""

from __future__ import annotations

import boto3
from remediate_support import later

from trailguard.audit.config import AuditConfig
from trailguard.aws import make_session
from trailguard.findings.model import Status
from trailguard.remediate.config import RemediateConfig
from trailguard.remediate.planner import PlanOptions, build_plan

NOW = later(100)  # keys and passwords created now are 100 days old by then
MFA = "iam_user_mfa_enabled_console_access"
KEY_CHECKS = ["iam_user_accesskey_unused", "iam_rotate_access_key_90_days"]


def _account() -> dict[str, str]:
    """Console users without MFA (alice, break-glass) and old unused keys (bob, vendor)."""
    iam = boto3.client("iam")
    for name in ("alice", "break-glass"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")
    keys = {}
    for name in ("bob", "vendor"):
        iam.create_user(UserName=name)
        keys[name] = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    return keys


def _config() -> AuditConfig:
    return AuditConfig.model_validate({"exceptions": [
        {"check": MFA, "resource": "arn:aws:iam::*:user/break-glass",
         "reason": "break-glass, password in the safe (RISK-42)", "expires": "2099-12-31"},
        *({"check": c, "resource": "vendor", "reason": "vendor key, IP-restricted (RISK-43)"}
          for c in KEY_CHECKS),
    ]})


def test_plan_leaves_excepted_users_alone_and_fixes_the_others(aws, journal_dir) -> None:
    keys = _account()
    options = PlanOptions(check_ids=[MFA, *KEY_CHECKS], now=NOW, journal_dir=journal_dir)
    plan, findings = build_plan(make_session(), _config(), RemediateConfig(), options)
    assert [(s.action, s.handler, s.target) for s in plan.steps] == [
        ("mfa-enforce-policy", "managed_policy_create", "policy trailguard-require-mfa"),
        ("mfa-enforce-policy", "user_policy_attach", "user alice"),
        ("deactivate-access-key", "access_key_status", f"key {keys['bob']} of bob"),
    ]
    assert not any("break-glass" in str(s.args) or keys["vendor"] in str(s.args)
                   for s in plan.steps)
    muted = {(f.rule_id, r.name) for f in findings if f.status is Status.MUTED
             for r in f.resources}
    assert muted == {(MFA, "break-glass"), *((c, "vendor") for c in KEY_CHECKS)}
    notes = {(n.check, n.target, n.message) for n in plan.notes}
    assert (MFA, "break-glass", "not fixed: accepted: break-glass, password in the safe "
            "(RISK-42) (exception expires 2099-12-31)") in notes
    assert {(c, "vendor") for c in KEY_CHECKS} <= {(n.check, n.target) for n in plan.notes}
    assert plan.failed_checks == [MFA, *KEY_CHECKS]  # each once, though split


def test_without_exceptions_the_same_account_gets_every_fix(aws, journal_dir) -> None:
    keys = _account()
    options = PlanOptions(check_ids=[MFA, *KEY_CHECKS], now=NOW, journal_dir=journal_dir)
    plan, _ = build_plan(make_session(), AuditConfig(), RemediateConfig(), options)
    targets = [s.target for s in plan.steps]
    assert {"user alice", "user break-glass", f"key {keys['bob']} of bob",
            f"key {keys['vendor']} of vendor"} <= set(targets)


def test_unused_password_of_an_excepted_user_is_not_reset(aws, journal_dir) -> None:
    iam = boto3.client("iam")
    for name in ("alice", "break-glass"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")
    config = AuditConfig.model_validate({"exceptions": [
        {"check": "iam_user_console_access_unused", "resource": "break-glass",
         "reason": "only used in emergencies (RISK-42)"}]})
    options = PlanOptions(check_ids=["iam_user_console_access_unused"], now=NOW,
                          journal_dir=journal_dir)
    plan, _ = build_plan(make_session(), config, RemediateConfig(), options)
    assert [(s.action, s.target) for s in plan.steps] == [
        ("require-password-reset", "user alice")]
