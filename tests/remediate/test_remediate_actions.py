"""Single actions: existing trails and topics, password policy merge, plan validation, journals."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from remediate_support import differences, later, snapshot

from trailguard.audit.config import AuditConfig, PasswordPolicyConfig
from trailguard.audit.engine import run_audit
from trailguard.aws import make_session
from trailguard.findings.model import Status
from trailguard.remediate.apply import apply_plan
from trailguard.remediate.config import PasswordFlags, RemediateConfig
from trailguard.remediate.context import RemediationContext
from trailguard.remediate.handlers import password_policy_params
from trailguard.remediate.journal import JournalError, read_journal
from trailguard.remediate.planner import PlanOptions, build_plan, merge_password_policy
from trailguard.remediate.schema import ApiCall, PlanError, Step, validate_step
from trailguard.remediate.undo import undo_journal

TRAIL_CHECKS = ["cloudtrail_multi_region_enabled",
                "cloudtrail_multi_region_enabled_logging_management_events",
                "cloudtrail_log_file_validation_enabled"]


def _cycle(journal_dir: Path, checks: list[str], **opts):
    """Plan, apply and return (plan, journal path) for ``checks``."""
    session = make_session()
    plan, _ = build_plan(session, AuditConfig(), RemediateConfig(),
                         PlanOptions(check_ids=checks, journal_dir=journal_dir, **opts))
    path = journal_dir / "apply.jsonl"
    assert apply_plan(RemediationContext(session), plan, path).ok
    return plan, path


def _undo(path: Path, name: str = "undo.jsonl"):
    ctx = RemediationContext(make_session())
    return undo_journal(ctx, read_journal(path), path.parent / name)


def test_merge_keeps_every_stricter_setting() -> None:
    want, flags = PasswordPolicyConfig(), PasswordFlags(require_symbols=False)
    current = {"MinimumPasswordLength": 20, "PasswordReusePrevention": 5, "MaxPasswordAge": 180,
               "RequireSymbols": True, "RequireNumbers": False, "HardExpiry": True}
    merged = merge_password_policy(current, want, flags)
    assert merged["MinimumPasswordLength"] == 20  # max
    assert merged["PasswordReusePrevention"] == 24  # max
    assert merged["MaxPasswordAge"] == 90  # min of non-zero ages
    assert merged["RequireSymbols"] is True  # OR: configured false never weakens
    assert merged["RequireNumbers"] is True and merged["HardExpiry"] is True
    assert merge_password_policy({"MaxPasswordAge": 30}, want, flags)["MaxPasswordAge"] == 30
    assert merge_password_policy(None, want, flags)["MaxPasswordAge"] == 90


def test_no_password_policy_then_undo_deletes_it(aws, journal_dir) -> None:
    before = snapshot()
    assert before["password_policy"] is None
    plan, path = _cycle(journal_dir, ["iam_password_policy_minimum_length_14"])
    assert [s.handler for s in plan.steps] == ["password_policy"]
    assert snapshot()["password_policy"]["MinimumPasswordLength"] == 14
    assert _undo(path).ok
    assert differences(before, snapshot()) == []


def test_policy_without_expiry_or_reuse_prevention_is_restored_exactly(aws, journal_dir) -> None:
    """AWS reports "no expiry" / "no reuse prevention" as 0 or leaves them out, but the API
    accepts only 1 and up: undo must omit them (= off), not send the 0 back."""
    iam = boto3.client("iam")
    iam.update_account_password_policy(MinimumPasswordLength=10, RequireNumbers=True,
                                       AllowUsersToChangePassword=True)
    before = iam.get_account_password_policy()["PasswordPolicy"]
    assert not before.get("MaxPasswordAge") and not before.get("PasswordReusePrevention")
    plan, path = _cycle(journal_dir, ["iam_password_policy_minimum_length_14",
                                      "iam_password_policy_reuse_24",
                                      "iam_password_policy_expires_passwords_within_90_days_or_less"])
    assert [s.handler for s in plan.steps] == ["password_policy"]
    recorded = read_journal(path).entries[0].before["policy"]
    assert not recorded.get("MaxPasswordAge")  # the trap: 0 (or absent) in the journal
    changed = iam.get_account_password_policy()["PasswordPolicy"]
    assert (changed["MaxPasswordAge"], changed["PasswordReusePrevention"]) == (90, 24)
    result = _undo(path)
    assert result.ok, result.failed
    after = iam.get_account_password_policy()["PasswordPolicy"]
    for field in sorted(set(before) | set(after)):
        assert after.get(field) == before.get(field), field


@pytest.mark.parametrize("recorded", [
    {"MinimumPasswordLength": 8, "MaxPasswordAge": 0, "PasswordReusePrevention": 0,
     "HardExpiry": False, "ExpirePasswords": False},
    {"MinimumPasswordLength": 8, "MaxPasswordAge": None},
    {"MinimumPasswordLength": 8},
])
def test_hand_written_zero_or_absent_fields_restore_without_error(aws, journal_dir,
                                                                  recorded) -> None:
    iam = boto3.client("iam")
    iam.update_account_password_policy(MinimumPasswordLength=8)
    _, path = _cycle(journal_dir, ["iam_password_policy_reuse_24"])
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for line in lines:
        if line["record"] == "before":
            line["before"]["policy"] = recorded
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = _undo(path)
    assert result.ok, result.failed
    after = iam.get_account_password_policy()["PasswordPolicy"]
    assert after["MinimumPasswordLength"] == 8
    assert not after.get("MaxPasswordAge") and not after.get("PasswordReusePrevention")
    assert after["HardExpiry"] is False and after["RequireSymbols"] is False


def test_password_policy_params_drop_only_off_values() -> None:
    assert password_policy_params({"MaxPasswordAge": 0, "PasswordReusePrevention": None,
                                   "MinimumPasswordLength": 12, "ExpirePasswords": True,
                                   "HardExpiry": True}) == {
        "MinimumPasswordLength": 12, "RequireSymbols": False, "RequireNumbers": False,
        "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False, "HardExpiry": True}
    assert password_policy_params({"MaxPasswordAge": 90, "PasswordReusePrevention": 5}) == {
        "RequireSymbols": False, "RequireNumbers": False, "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False, "AllowUsersToChangePassword": False,
        "HardExpiry": False, "MaxPasswordAge": 90, "PasswordReusePrevention": 5}


def test_existing_trail_gets_what_it_lacks_and_undo_restores(aws, journal_dir) -> None:
    boto3.client("s3").create_bucket(Bucket="logs")
    ct = boto3.client("cloudtrail")
    ct.create_trail(Name="old", S3BucketName="logs", IncludeGlobalServiceEvents=False)
    ct.put_event_selectors(TrailName="old", EventSelectors=[
        {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    before = snapshot()
    plan, path = _cycle(journal_dir, TRAIL_CHECKS)
    assert [(s.handler, s.calls[0].operation) for s in plan.steps] == [
        ("trail_update", "UpdateTrail"), ("trail_selectors", "PutEventSelectors"),
        ("trail_logging", "StartLogging")]
    assert plan.steps[0].calls[0].params == {
        "Name": "old", "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True,
        "EnableLogFileValidation": True}
    selectors = plan.steps[1].calls[0].params["EventSelectors"]
    assert selectors[0] == {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}
    assert selectors[1] == {"ReadWriteType": "All", "IncludeManagementEvents": True}
    found = {f.rule_id: f.status for f in run_audit(make_session(), check_ids=TRAIL_CHECKS)}
    assert set(found.values()) == {Status.PASS}, found  # moto confirms email subscriptions
    assert _undo(path).ok
    assert differences(before, snapshot()) == []
    restored = ct.get_event_selectors(TrailName="old")["EventSelectors"]
    assert [(s["ReadWriteType"], s["IncludeManagementEvents"]) for s in restored] == [
        ("ReadOnly", True)]


def test_given_topic_keeps_its_policy_statements_and_undo_restores_it(aws, journal_dir) -> None:
    sns = boto3.client("sns")
    arn = sns.create_topic(Name="soc")["TopicArn"]
    mine = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Soc", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "sns:Publish", "Resource": arn}]}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                             AttributeValue=json.dumps(mine))
    before = snapshot()
    plan, path = _cycle(journal_dir, ["alerting_root_usage"], topic_arn=arn)
    assert [s.handler for s in plan.steps] == ["topic_policy", "rule_put", "rule_targets"]
    policy = json.loads(plan.steps[0].calls[0].params["AttributeValue"])
    assert [s["Sid"] for s in policy["Statement"]] == ["Soc", "AllowEventBridgeTrailguardRule"]
    assert policy["Statement"][1]["Principal"] == {"Service": "events.amazonaws.com"}
    assert boto3.client("events").list_targets_by_rule(
        Rule="trailguard-high-severity")["Targets"][0]["Arn"] == arn
    assert _undo(path).ok
    assert differences(before, snapshot()) == []
    assert arn in snapshot()["topics"]  # a given topic is never deleted


def test_plan_with_undeclared_call_is_refused_before_any_change(aws, journal_dir) -> None:
    session = make_session()
    plan, _ = build_plan(session, AuditConfig(), RemediateConfig(),
                         PlanOptions(check_ids=["iam_password_policy_minimum_length_14"],
                                     journal_dir=journal_dir))
    plan.steps[0].calls.append(ApiCall(service="iam", operation="DeleteUser",
                                       region="us-east-1", params={"UserName": "x"}))
    with pytest.raises(PlanError, match="DeleteUser"):
        apply_plan(RemediationContext(session), plan, journal_dir / "a.jsonl")
    assert not (journal_dir / "a.jsonl").exists()
    with pytest.raises(PlanError, match="unknown action"):
        validate_step(Step(action="nope", handler="x", target="t", calls=[]))
    with pytest.raises(PlanError, match="declares no handler"):
        validate_step(Step(action="password-policy", handler="trail_create", target="t",
                           calls=[]))


def test_crash_cut_journal_still_undoes(aws, journal_dir) -> None:
    """A crash after a change but before its `done` record: undo restores it anyway."""
    iam = boto3.client("iam")
    iam.create_user(UserName="dave")
    key = iam.create_access_key(UserName="dave")["AccessKey"]["AccessKeyId"]
    before = snapshot()
    session = make_session()
    plan, _ = build_plan(session, AuditConfig(), RemediateConfig(),
                         PlanOptions(check_ids=["iam_user_accesskey_unused"], now=later(60),
                                     journal_dir=journal_dir))
    path = journal_dir / "apply.jsonl"
    assert apply_plan(RemediationContext(session), plan, path).ok
    assert snapshot()["users"]["dave"]["access_keys"] == {key: "Inactive"}
    lines = path.read_text().splitlines()
    assert [json.loads(x)["record"] for x in lines] == ["header", "before", "done", "end"]
    path.write_text("\n".join(lines[:2]) + '\n{"record": "do')  # cut mid-write
    journal = read_journal(path)
    assert journal.damaged_lines == 1 and journal.entries[0].done is False
    assert _undo(path).ok
    assert differences(before, snapshot()) == []


def test_journal_of_another_account_is_refused(aws, journal_dir) -> None:
    _, path = _cycle(journal_dir, ["iam_password_policy_minimum_length_14"])
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["account_id"] = "111122223333"
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(JournalError, match="111122223333"):
        _undo(path)


def test_never_locks_out_the_credentials_it_runs_with(aws, journal_dir, monkeypatch) -> None:
    iam = boto3.client("iam")
    iam.create_user(UserName="ops")
    iam.create_login_profile(UserName="ops", Password="Correct-Horse-Battery-9")
    own = iam.create_access_key(UserName="ops")["AccessKey"]
    other = iam.create_access_key(UserName="ops")["AccessKey"]["AccessKeyId"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", own["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", own["SecretAccessKey"])
    plan, _ = build_plan(make_session(), AuditConfig(), RemediateConfig(),
                         PlanOptions(check_ids=["iam_user_accesskey_unused",
                                                "iam_user_mfa_enabled_console_access"],
                                     now=later(100), journal_dir=journal_dir))
    assert [s.args for s in plan.steps] == [{"UserName": "ops", "AccessKeyId": other}]
    notes = {n.action: n for n in plan.notes}
    assert notes["deactivate-access-key"].target == own["AccessKeyId"]
    assert notes["mfa-enforce-policy"].target == "user ops"


def test_other_region_trail_there_rules_in_us_east_1_and_there(aws, journal_dir,
                                                                monkeypatch) -> None:
    """The trail the plan creates in eu-west-1 gets a forwarding rule there (calls on it reach
    EventBridge in eu-west-1 only); IAM and sign-in events are caught in us-east-1."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    checks = [*TRAIL_CHECKS, "alerting_cloudtrail_changes"]
    before = snapshot()
    plan, path = _cycle(journal_dir, checks, alert_emails=["secops@example.com"])
    create = plan.steps[0].calls[0]
    assert (create.operation, create.region) == ("CreateBucket", "eu-west-1")
    assert create.params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    rules = [s for s in plan.steps if s.handler == "rule_put"]
    assert [r.calls[0].region for r in rules] == ["us-east-1", "eu-west-1"]
    assert rules[1].why == ("home region of trail trailguard (planned): calls on it reach "
                            "EventBridge here only")
    fwd = next(s for s in plan.steps if s.handler == "rule_targets"
               and s.calls[0].region == "eu-west-1").calls[0].params["Targets"][0]
    assert fwd["Arn"] == "arn:aws:events:us-east-1:123456789012:event-bus/default"
    found = {f.rule_id: f.status for f in run_audit(make_session(), check_ids=checks)}
    assert set(found.values()) == {Status.PASS}, found  # moto confirms email subscriptions
    assert [r["Name"] for r in boto3.client("events", region_name="us-east-1").list_rules()[
        "Rules"]] == ["trailguard-high-severity"]
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # undo goes to the journal's region
    assert _undo(path).ok
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert differences(before, snapshot()) == []
    assert boto3.client("cloudtrail").describe_trails()["trailList"] == []
    east_events = boto3.client("events", region_name="us-east-1")
    east_sns = boto3.client("sns", region_name="us-east-1")
    assert east_events.list_rules()["Rules"] == [] and east_sns.list_topics()["Topics"] == []
    assert boto3.client("events").list_rules()["Rules"] == []  # eu-west-1
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_journal_with_unknown_step_kind_is_refused(aws, journal_dir) -> None:
    _, path = _cycle(journal_dir, ["iam_password_policy_minimum_length_14"])
    path.write_text(path.read_text().replace('"handler":"password_policy"',
                                             '"handler":"drop_everything"'))
    with pytest.raises(JournalError, match="drop_everything"):
        _undo(path)


def test_alert_topic_without_subscriber_is_noted_and_subscription_undone(aws, journal_dir) -> None:
    """Alerts nobody receives fix nothing: without --alert-email the plan says so; with one,
    the subscription is planned, made, and removed again by undo."""
    checks = ["alerting_cloudtrail_changes"]
    plan, _ = build_plan(make_session(), AuditConfig(), RemediateConfig(),
                         PlanOptions(check_ids=checks, journal_dir=journal_dir))
    assert any("no confirmed subscription" in n.message for n in plan.notes)
    assert "topic_subscribe" not in {s.handler for s in plan.steps}
    before = snapshot()
    plan, path = _cycle(journal_dir, checks, alert_emails=["secops@example.com"])
    (sub,) = [s for s in plan.steps if s.handler == "topic_subscribe"]
    assert sub.calls[0].params == {"TopicArn": sub.args["TopicArn"], "Protocol": "email",
                                   "Endpoint": "secops@example.com"}
    sns = boto3.client("sns", region_name="us-east-1")
    subs = sns.list_subscriptions_by_topic(TopicArn=sub.args["TopicArn"])["Subscriptions"]
    assert [s["Endpoint"] for s in subs] == ["secops@example.com"]
    assert _undo(path).ok
    assert differences(before, snapshot()) == []
    assert sns.list_topics()["Topics"] == []
