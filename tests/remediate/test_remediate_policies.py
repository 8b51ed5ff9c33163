"""The least-privilege IAM policies of `audit` and `remediate` match what the code calls.

Operations are recorded with botocore's before-call event on the moto server, then mapped to
IAM actions. The audit policy must be exactly the audit's operations (read-only); the
remediate policy must cover every operation of plan + apply + undo, and hold nothing that
neither the audit nor actions.yaml declares.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from aws_accounts import add_logged_trail_with_alerting
from aws_recording import record_operations
from botocore.awsrequest import AWSResponse
from remediate_support import build_noncompliant, emulate_real_login_profile_reset, later

from trailguard.audit.config import AuditConfig
from trailguard.audit.engine import run_audit
from trailguard.aws import make_session
from trailguard.remediate.apply import apply_plan
from trailguard.remediate.config import RemediateConfig
from trailguard.remediate.context import RemediationContext
from trailguard.remediate.journal import read_journal
from trailguard.remediate.planner import PlanOptions, build_plan
from trailguard.remediate.schema import load_actions
from trailguard.remediate.undo import undo_journal

PREFIX = {"cloudwatch-logs": "logs", "eventbridge": "events", "s3-control": "s3"}
SPECIAL = {  # operations whose IAM action has another name
    "s3.HeadBucket": "s3:ListBucket",
    "s3.GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3.PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3-control.GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
}
NO_PERMISSION = {"sts.GetCallerIdentity"}  # always allowed


def iam_action(op: str) -> str | None:
    """``service.Operation`` (botocore event naming) -> IAM action, None if none needed."""
    if op in NO_PERMISSION:
        return None
    if op in SPECIAL:
        return SPECIAL[op]
    service, name = op.split(".")
    return f"{PREFIX.get(service, service)}:{name}"


def _event_id(service: str) -> str:
    """actions.yaml names services by client name; botocore events by service id."""
    model = botocore.session.get_session().get_service_model(service)
    return model.service_id.hyphenize()


def policy_actions(name: str) -> set[str]:
    doc = json.loads(resources.files("trailguard.remediate").joinpath(
        "policies", f"{name}.json").read_text())
    assert doc["Version"] == "2012-10-17"
    out: set[str] = set()
    for s in doc["Statement"]:
        assert s["Effect"] == "Allow" and "*" not in "".join(s["Action"])
        out.update(s["Action"])
    return out


def _root_mfa_on(session: boto3.Session, seen: set[str]) -> None:
    """Answer GetAccountSummary with root MFA on (moto cannot enable root MFA), so the audit
    also reads virtual MFA devices, as it does on AWS. (The specific handler runs before the
    generic recorder and ends the event, so it records the call itself.)"""

    def handler(**_: Any):
        seen.add("iam.GetAccountSummary")
        parsed = {"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}}
        return AWSResponse("https://iam.amazonaws.com", 200, {}, None), parsed

    session.events.register("before-call.iam.GetAccountSummary", handler)


def _rich_account() -> None:
    build_noncompliant()
    add_logged_trail_with_alerting("main")


def test_audit_policy_is_exactly_what_the_audit_calls(aws) -> None:
    _rich_account()
    session = make_session()
    seen = record_operations(session)
    _root_mfa_on(session, seen)
    run_audit(session, now=later(100))
    needed = {a for a in map(iam_action, seen) if a}
    assert "iam:ListVirtualMFADevices" in needed and "logs:DescribeMetricFilters" in needed
    assert policy_actions("audit-policy") == needed


def test_remediate_policy_covers_plan_apply_undo(aws, tmp_path: Path) -> None:
    build_noncompliant()
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    boto3.client("cloudtrail", region_name="eu-west-1").create_trail(  # needs forwarding
        Name="eu-trail", S3BucketName="eu-logs", IsMultiRegionTrail=True)
    session = make_session()
    emulate_real_login_profile_reset(session)
    seen = record_operations(session)
    plan, _ = build_plan(session, AuditConfig(), RemediateConfig(),
                         PlanOptions(now=later(100), journal_dir=tmp_path))
    ctx = RemediationContext(session)
    assert apply_plan(ctx, plan, tmp_path / "a.jsonl").ok
    assert undo_journal(ctx, read_journal(tmp_path / "a.jsonl"), tmp_path / "u.jsonl").ok
    granted = policy_actions("remediate-policy")
    needed = {a for a in map(iam_action, seen) if a}
    assert {"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRole"} <= needed
    assert needed - granted == set()

    declared = set(policy_actions("audit-policy"))
    for spec in load_actions().values():
        for hs in spec.handlers.values():
            for op in [*hs.calls, *hs.reads, *hs.undo]:
                service, name = op.split(".")
                declared.add(iam_action(f"{_event_id(service)}.{name}"))
            declared.update(hs.permissions)  # e.g. iam:PassRole for PutTargets with a role
    declared.add("cloudtrail:DescribeTrails")  # the planner lists trails of the region
    assert granted - declared == set()


def test_declared_operations_exist_in_botocore() -> None:
    session = botocore.session.get_session()
    for action_id, spec in load_actions().items():
        for handler, hs in spec.handlers.items():
            for op in [*hs.calls, *hs.reads, *hs.undo]:
                service, name = op.split(".")
                names = session.get_service_model(service).operation_names
                assert name in names, f"{action_id}/{handler}: {op} is not a botocore operation"
