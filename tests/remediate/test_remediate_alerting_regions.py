"""Alerting remediation across regions: a trail homed outside us-east-1 gets a forwarding rule.

Calls on a trail (StopLogging, DeleteTrail...) reach EventBridge in the trail's home region, so
the plan adds a rule there that forwards to the default event bus of the alert topic's region,
through a role EventBridge assumes. moto delivers no events: these tests check configuration
(rules, patterns, targets, role, policy) and that the audit judges it covered, not delivery.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from aws_accounts import add_alert_rule, add_email_topic
from remediate_support import differences, snapshot

from trailguard.audit.config import AuditConfig
from trailguard.audit.engine import run_audit
from trailguard.aws import make_session
from trailguard.findings.model import Status
from trailguard.remediate.apply import apply_plan
from trailguard.remediate.config import RemediateConfig
from trailguard.remediate.context import RemediationContext
from trailguard.remediate.journal import read_journal
from trailguard.remediate.planner import FORWARD_POLICY, PlanOptions, build_plan
from trailguard.remediate.schema import alerting_pattern, regional_alerting_pattern
from trailguard.remediate.undo import undo_journal

ALERTING = ["alerting_credential_deletion", "alerting_mfa_deactivation",
            "alerting_password_policy_deletion", "alerting_cloudtrail_changes",
            "alerting_root_usage", "alerting_console_login_without_mfa"]
ACCT = "123456789012"
ROLE = "trailguard-events-forward"
RULE = "trailguard-high-severity"
EAST_BUS = f"arn:aws:events:us-east-1:{ACCT}:event-bus/default"


def _eu_trail() -> None:
    """A logging multi-region trail homed in eu-west-1 (moto lists other regions' trails only
    when they are multi-region; AWS's ListTrails lists all)."""
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    ct = boto3.client("cloudtrail", region_name="eu-west-1")
    ct.create_trail(Name="eu-main", S3BucketName="eu-logs", IsMultiRegionTrail=True,
                    EnableLogFileValidation=True)
    ct.start_logging(Name="eu-main")


def _plan(journal_dir: Path, **opts):
    plan, _ = build_plan(make_session(), AuditConfig(), RemediateConfig(),
                         PlanOptions(check_ids=ALERTING, journal_dir=journal_dir, **opts))
    return plan


def _apply(plan, journal_dir: Path) -> Path:
    path = journal_dir / "apply.jsonl"
    assert apply_plan(RemediationContext(make_session()), plan, path).ok
    return path


def _undo(path: Path):
    return undo_journal(RemediationContext(make_session()), read_journal(path),
                        path.parent / "undo.jsonl")


def _audit() -> dict:
    return {f.rule_id: f for f in run_audit(make_session(), check_ids=ALERTING)}


def _rules(region: str) -> dict[str, dict]:
    ev = boto3.client("events", region_name=region)
    return {r["Name"]: {"pattern": json.loads(r["EventPattern"]), "state": r["State"],
                        "targets": ev.list_targets_by_rule(Rule=r["Name"])["Targets"]}
            for r in ev.list_rules()["Rules"]}


def _roles() -> list[str]:
    return [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]]


def test_eu_trail_plan_apply_audit_replan_undo(aws, journal_dir) -> None:
    _eu_trail()
    before = _audit()
    ct = before["alerting_cloudtrail_changes"]
    assert ct.status is Status.FAIL
    assert ct.reason == ("no alert in eu-west-1 for StopLogging, DeleteTrail, UpdateTrail: trail "
                         "eu-main is homed in eu-west-1, and EventBridge receives the API calls "
                         "on a trail in its home region only")
    assert ct.resources[0].details["missing_regions"] == dict.fromkeys(
        ["StopLogging", "DeleteTrail", "UpdateTrail"], ["eu-west-1"])
    snap = snapshot()

    plan = _plan(journal_dir, alert_emails=["secops@example.com"])
    got = [(s.handler, s.target, [(c.operation, c.region) for c in s.calls]) for s in plan.steps]
    topic = f"arn:aws:sns:us-east-1:{ACCT}:trailguard-alerts"
    assert got == [
        ("topic_create", "topic trailguard-alerts", [("CreateTopic", "us-east-1")]),
        ("topic_policy", f"topic {topic}", [("SetTopicAttributes", "us-east-1")]),
        ("topic_subscribe", f"topic {topic}", [("Subscribe", "us-east-1")]),
        ("rule_put", f"rule {RULE} (us-east-1)", [("PutRule", "us-east-1")]),
        ("rule_targets", f"rule {RULE} (us-east-1)", [("PutTargets", "us-east-1")]),
        ("role_create", f"role {ROLE}", [("CreateRole", "us-east-1")]),
        ("role_policy", f"role {ROLE}", [("PutRolePolicy", "us-east-1")]),
        ("rule_put", f"rule {RULE} (eu-west-1)", [("PutRule", "eu-west-1")]),
        ("rule_targets", f"rule {RULE} (eu-west-1)", [("PutTargets", "eu-west-1")]),
    ]
    steps = {(s.handler, s.calls[0].region): s for s in plan.steps}
    assert steps[("rule_put", "eu-west-1")].why == (
        "home region of trail eu-main: calls on it reach EventBridge here only")
    trust = json.loads(steps[("role_create", "us-east-1")].calls[0].params[
        "AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCT}}
    doc = json.loads(steps[("role_policy", "us-east-1")].calls[0].params["PolicyDocument"])
    assert doc["Statement"] == [{"Sid": "PutEventsOnAlertBus", "Effect": "Allow",
                                 "Action": "events:PutEvents", "Resource": EAST_BUS}]

    path = _apply(plan, journal_dir)
    east, eu = _rules("us-east-1")[RULE], _rules("eu-west-1")[RULE]
    assert east["pattern"] == alerting_pattern()
    assert [(t["Id"], t["Arn"]) for t in east["targets"]] == [("trailguard-sns", topic)]
    assert eu["pattern"] == regional_alerting_pattern()
    assert eu["state"] == "ENABLED"
    assert [(t["Id"], t["Arn"], t["RoleArn"]) for t in eu["targets"]] == [
        ("trailguard-forward", EAST_BUS, f"arn:aws:iam::{ACCT}:role/{ROLE}")]

    after = _audit()
    assert {c: f.status for c, f in after.items()} == dict.fromkeys(ALERTING, Status.PASS)

    assert _plan(journal_dir, alert_emails=["secops@example.com"]).steps == []

    assert _undo(path).ok
    assert differences(snap, snapshot()) == []
    assert _rules("us-east-1") == {} and _rules("eu-west-1") == {}
    assert ROLE not in _roles()
    assert _audit()["alerting_cloudtrail_changes"].reason == ct.reason


def test_rule_only_in_us_east_1_is_completed_in_eu_west_1(aws, journal_dir) -> None:
    """The user's own us-east-1 rule covers IAM events; only the eu-west-1 gap is planned.

    eu-west-1 lacks both the calls on the trail and root calls to regional services made there.
    """
    _eu_trail()
    topic = add_email_topic("soc")
    add_alert_rule("soc-all", alerting_pattern(), topic)
    found = _audit()
    assert found["alerting_mfa_deactivation"].status is Status.PASS
    assert found["alerting_root_usage"].status is Status.FAIL
    assert found["alerting_root_usage"].resources[0].details["missing_regions"] == {
        "root API call to a regional service": ["eu-west-1"]}
    assert found["alerting_cloudtrail_changes"].status is Status.FAIL
    assert "no alert in eu-west-1" in found["alerting_cloudtrail_changes"].reason
    plan = _plan(journal_dir, topic_arn=topic)
    assert [s.handler for s in plan.steps] == [
        "topic_policy", "rule_put", "rule_targets", "role_create", "role_policy", "rule_put",
        "rule_targets"]
    path = _apply(plan, journal_dir)
    assert set(_audit_status().values()) == {Status.PASS}
    assert _undo(path).ok
    assert set(_rules("us-east-1")) == {"soc-all"} and _rules("eu-west-1") == {}
    assert found["alerting_cloudtrail_changes"].reason == (
        _audit()["alerting_cloudtrail_changes"].reason)


def _audit_status() -> dict:
    return {c: f.status for c, f in _audit().items()}


def test_existing_role_policy_is_restored_and_role_kept(aws, journal_dir) -> None:
    _eu_trail()
    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    old = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "events:PutEvents",
        "Resource": f"arn:aws:events:us-west-2:{ACCT}:event-bus/default"}]}
    iam.put_role_policy(RoleName=ROLE, PolicyName=FORWARD_POLICY,
                        PolicyDocument=json.dumps(old))
    plan = _plan(journal_dir, alert_emails=["secops@example.com"])
    handlers = [s.handler for s in plan.steps]
    assert "role_create" not in handlers and "role_policy" in handlers
    path = _apply(plan, journal_dir)
    assert _undo(path).ok
    assert ROLE in _roles()
    assert iam.get_role_policy(RoleName=ROLE, PolicyName=FORWARD_POLICY)[
        "PolicyDocument"] == old


def test_role_of_someone_else_is_left_alone(aws, journal_dir) -> None:
    _eu_trail()
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    boto3.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    plan = _plan(journal_dir, alert_emails=["secops@example.com"])
    assert {s.calls[0].region for s in plan.steps} == {"us-east-1"}
    assert not {"role_create", "role_policy"} & {s.handler for s in plan.steps}
    (note,) = [n for n in plan.notes if n.target == f"role {ROLE}"]
    assert "does not trust events.amazonaws.com" in note.message


def test_topic_in_eu_west_1_gets_iam_events_forwarded_from_us_east_1(aws, journal_dir) -> None:
    """With the topic in eu-west-1, us-east-1 forwards the whole pattern (IAM and sign-in
    events arrive there only) and the eu-west-1 rule sends to the topic."""
    _eu_trail()
    topic = add_email_topic("soc-eu", "eu-west-1")
    plan = _plan(journal_dir, topic_arn=topic)
    assert [(s.handler, s.calls[0].region) for s in plan.steps] == [
        ("topic_policy", "eu-west-1"), ("rule_put", "eu-west-1"), ("rule_targets", "eu-west-1"),
        ("role_create", "us-east-1"), ("role_policy", "us-east-1"), ("rule_put", "us-east-1"),
        ("rule_targets", "us-east-1")]
    path = _apply(plan, journal_dir)
    east, eu = _rules("us-east-1")[RULE], _rules("eu-west-1")[RULE]
    assert east["pattern"] == alerting_pattern() == eu["pattern"]
    assert east["targets"][0]["Arn"] == f"arn:aws:events:eu-west-1:{ACCT}:event-bus/default"
    assert eu["targets"][0]["Arn"] == topic
    sns = boto3.client("sns", region_name="eu-west-1")
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert policy["Statement"][-1]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"arn:aws:events:eu-west-1:{ACCT}:rule/{RULE}"}}
    assert set(_audit_status().values()) == {Status.PASS}
    assert _undo(path).ok
    assert _rules("us-east-1") == {} and _rules("eu-west-1") == {}


def test_root_calls_in_the_session_region_get_a_rule_there(aws, journal_dir, monkeypatch) -> None:
    """Working from eu-central-1 (no trail there): root calls to regional services made there
    reach EventBridge there only, so the audit requires a rule there and the plan adds one."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    topic = add_email_topic("soc")
    add_alert_rule("soc-all", alerting_pattern(), topic)
    before = _audit()
    root = before.pop("alerting_root_usage")
    assert root.status is Status.FAIL
    assert root.reason == (
        "no alert in eu-central-1 for root API call to a regional service: EventBridge receives a "
        "call to a regional service in the region called only, and eu-central-1 is audited as "
        "the session region")
    assert {f.status for f in before.values()} == {Status.PASS}

    plan = _plan(journal_dir, topic_arn=topic)
    assert [(s.handler, s.calls[0].region) for s in plan.steps] == [
        ("topic_policy", "us-east-1"), ("rule_put", "us-east-1"), ("rule_targets", "us-east-1"),
        ("role_create", "eu-central-1"), ("role_policy", "eu-central-1"),
        ("rule_put", "eu-central-1"), ("rule_targets", "eu-central-1")]
    assert plan.steps[5].why == ("audited as the session region: root calls to regional "
                                 "services made here reach EventBridge here only")
    path = _apply(plan, journal_dir)
    assert _rules("eu-central-1")[RULE]["pattern"] == regional_alerting_pattern()
    assert set(_audit_status().values()) == {Status.PASS}
    assert _undo(path).ok
    assert _rules("eu-central-1") == {}
    assert _audit()["alerting_root_usage"].reason == root.reason
