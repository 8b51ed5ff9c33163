"""Alerting checks: EventBridge patterns and CloudWatch Logs metric filters, parsed here."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_accounts import add_alert_rule, add_email_topic

from trailguard.audit.event_pattern import eventbridge_event, matches
from trailguard.audit.filter_pattern import FilterPatternError, parse_filter_pattern
from trailguard.findings.model import Status

ALERTING = ["alerting_credential_deletion", "alerting_mfa_deactivation",
            "alerting_password_policy_deletion", "alerting_cloudtrail_changes",
            "alerting_root_usage", "alerting_console_login_without_mfa"]
TOPIC = "arn:aws:sns:us-east-1:123456789012:security-alerts"


def _topic(subscribed: bool = True) -> str:
    """The SOC's SNS topic, with a subscription unless told otherwise."""
    sns = boto3.client("sns")
    arn = sns.create_topic(Name=TOPIC.rsplit(":", 1)[-1])["TopicArn"]
    if subscribed:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="soc@example.com")
    return arn


def _rule(name: str, pattern: dict, target: bool = True, region: str = "us-east-1",
          state: str = "ENABLED") -> None:
    _topic()
    ev = boto3.client("events", region_name=region)
    ev.put_rule(Name=name, EventPattern=json.dumps(pattern), State=state)
    if target:
        ev.put_targets(Rule=name, Targets=[{"Id": "sns", "Arn": TOPIC}])


def _ev(name: str, source: str = "iam.amazonaws.com", **detail) -> dict:
    return eventbridge_event({"eventSource": source, "eventName": name, **detail},
                             "123456789012", "us-east-1")


# --- EventBridge pattern semantics -------------------------------------------------------

@pytest.mark.parametrize(
    ("pattern", "hit"),
    [
        ({"source": ["aws.iam"]}, True),
        ({"source": ["aws.s3"]}, False),
        ({"detail": {"eventName": ["DeactivateMFADevice", "DeleteVirtualMFADevice"]}}, True),
        ({"detail": {"eventName": [{"prefix": "Deactivate"}]}}, True),
        ({"detail": {"eventName": [{"suffix": "Device"}]}}, True),
        ({"detail": {"eventName": [{"equals-ignore-case": "deactivatemfadevice"}]}}, True),
        ({"detail": {"eventName": [{"wildcard": "Deactivate*Device"}]}}, True),
        ({"detail": {"eventName": [{"anything-but": ["DeactivateMFADevice"]}]}}, False),
        ({"detail": {"eventName": [{"anything-but": {"prefix": "Create"}}]}}, True),
        ({"detail": {"errorCode": [{"exists": False}]}}, True),
        ({"detail": {"errorCode": [{"exists": True}]}}, False),
        ({"detail": {"userIdentity": {"type": ["Root"]}}}, False),
        ({"$or": [{"source": ["aws.s3"]}, {"detail": {"eventName": ["DeactivateMFADevice"]}}]},
         True),
        ({"detail-type": ["AWS API Call via CloudTrail"], "detail": {
            "eventSource": ["iam.amazonaws.com"]}}, True),
        ({"detail": {"requestParameters": {"userName": ["alice"]}}}, False),
    ],
)
def test_event_pattern_matching(pattern: dict, hit: bool) -> None:
    assert matches(pattern, _ev("DeactivateMFADevice")) is hit


def test_numeric_and_cidr_filters() -> None:
    event = {"detail": {"n": 5, "ip": "10.1.2.3", "tags": ["a", "b"]}}
    assert matches({"detail": {"n": [{"numeric": [">", 1, "<=", 5]}]}}, event)
    assert not matches({"detail": {"n": [{"numeric": [">", 5]}]}}, event)
    assert matches({"detail": {"ip": [{"cidr": "10.0.0.0/8"}]}}, event)
    assert matches({"detail": {"tags": ["b"]}}, event)


# --- CloudWatch Logs filter patterns --------------------------------------------------------

CIS_ROOT = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
            '&& $.eventType != "AwsServiceEvent" }')
CIS_NO_MFA = ('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
              '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = '
              '"Success") }')


@pytest.mark.parametrize(
    ("pattern", "record", "hit"),
    [
        ("{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) }",
         {"eventName": "DeleteTrail"}, True),
        ("{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) }",
         {"eventName": "UpdateTrail"}, False),
        ("{ $.eventName = Delete* }", {"eventName": "DeleteTrail"}, True),
        (CIS_ROOT, {"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"}, True),
        (CIS_ROOT, {"userIdentity": {"type": "Root", "invokedBy": "x.amazonaws.com"},
                    "eventType": "AwsApiCall"}, False),
        (CIS_NO_MFA, {"eventName": "ConsoleLogin", "userIdentity": {"type": "IAMUser"},
                      "additionalEventData": {"MFAUsed": "No"},
                      "responseElements": {"ConsoleLogin": "Success"}}, True),
        ("{ $.errorCode IS NULL }", {"errorCode": None}, True),
        ("{ $.resources[0].type = AWS::IAM::User }",
         {"resources": [{"type": "AWS::IAM::User"}]}, True),
        ('StopLogging -"ReadOnly"', {"eventName": "StopLogging"}, True),
        ("", {"eventName": "anything"}, True),
    ],
)
def test_filter_pattern_matching(pattern: str, record: dict, hit: bool) -> None:
    assert parse_filter_pattern(pattern).matches(record) is hit


@pytest.mark.parametrize("bad", ["{ $.eventName = }", "{ ($.a = 1 }", "[ip, user]"])
def test_bad_filter_pattern_raises(bad: str) -> None:
    with pytest.raises(FilterPatternError):
        parse_filter_pattern(bad)


# --- checks against the moto account ------------------------------------------------------

def test_no_rules_fail_every_alerting_check_listing_events(aws, audit) -> None:
    found = audit(*ALERTING)
    assert all(f.status is Status.FAIL for f in found.values())
    d = found["alerting_cloudtrail_changes"].resources[0].details
    assert d["uncovered_events"] == ["StopLogging", "DeleteTrail", "UpdateTrail"]
    assert found["alerting_cloudtrail_changes"].reason == (
        "no enabled EventBridge rule or alarmed metric filter matches StopLogging, DeleteTrail, "
        "UpdateTrail (regions read: us-east-1)")
    assert found["alerting_cloudtrail_changes"].cis == ["4.5"]


def test_eventbridge_rules_cover_every_alerting_check(aws, audit) -> None:
    _rule("iam-high", {"source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"],
                       "detail": {"eventName": [
                           "DeleteAccessKey", "DeleteLoginProfile", "DeleteSSHPublicKey",
                           "DeleteSigningCertificate", "DeactivateMFADevice",
                           "DeleteVirtualMFADevice", "DeleteAccountPasswordPolicy"]}})
    _rule("trail", {"source": ["aws.cloudtrail"], "detail": {
        "eventName": ["StopLogging", "DeleteTrail", "UpdateTrail"]}})
    _rule("root", {"detail": {"userIdentity": {"type": ["Root"]}}})
    _rule("no-mfa", {"source": ["aws.signin"], "detail": {
        "eventName": ["ConsoleLogin"], "additionalEventData": {"MFAUsed": ["No"]}}})
    found = audit(*ALERTING)
    assert {c: f.status for c, f in found.items()} == {c: Status.PASS for c in ALERTING}


def test_partial_rule_reports_the_events_not_covered(aws, audit) -> None:
    _rule("trail", {"source": ["aws.cloudtrail"], "detail": {"eventName": ["StopLogging"]}})
    f = audit("alerting_cloudtrail_changes")["alerting_cloudtrail_changes"]
    assert f.status is Status.FAIL
    d = f.resources[0].details
    assert d["uncovered_events"] == ["DeleteTrail", "UpdateTrail"]
    assert d["covered"]["StopLogging"].endswith("rule/trail")
    assert f.remediation == "alerting-rule"


@pytest.mark.parametrize("kind", ["no-target", "disabled", "wrong-region"])
def test_rules_that_alert_nobody_do_not_count(aws, audit, kind: str) -> None:
    pattern = {"source": ["aws.iam"], "detail": {"eventName": ["DeleteAccountPasswordPolicy"]}}
    _rule("pp", pattern, target=kind != "no-target",
          state="DISABLED" if kind == "disabled" else "ENABLED",
          region="eu-west-1" if kind == "wrong-region" else "us-east-1")
    cfg = None
    if kind == "wrong-region":  # IAM events reach EventBridge in us-east-1 only
        from trailguard.audit.config import AlertingConfig, AuditConfig
        cfg = AuditConfig(alerting=AlertingConfig(regions=["us-east-1", "eu-west-1"]))
    f = audit("alerting_password_policy_deletion", config=cfg)["alerting_password_policy_deletion"]
    assert f.status is Status.FAIL


def _cis_metric_filter(name: str, pattern: str, alarm: bool = True) -> None:
    logs, cw, s3, ct = (boto3.client(s) for s in ("logs", "cloudwatch", "s3", "cloudtrail"))
    if not logs.describe_log_groups(logGroupNamePrefix="cloudtrail")["logGroups"]:
        logs.create_log_group(logGroupName="cloudtrail")
        s3.create_bucket(Bucket="trail-logs")
        ct.create_trail(
            Name="main", S3BucketName="trail-logs", IsMultiRegionTrail=True,
            CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:123456789012:log-group:cloudtrail:*",
            CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/ct-logs")
        ct.start_logging(Name="main")
    logs.put_metric_filter(logGroupName="cloudtrail", filterName=name, filterPattern=pattern,
                           metricTransformations=[{"metricName": name,
                                                   "metricNamespace": "CISBenchmark",
                                                   "metricValue": "1"}])
    if alarm:
        _topic()
        cw.put_metric_alarm(AlarmName=name, MetricName=name, Namespace="CISBenchmark",
                            Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
                            ComparisonOperator="GreaterThanOrEqualToThreshold",
                            AlarmActions=[TOPIC])


def test_cis_metric_filters_with_alarms_pass(aws, audit) -> None:
    _cis_metric_filter("RootUsage", CIS_ROOT)
    _cis_metric_filter("NoMFA", CIS_NO_MFA)
    _cis_metric_filter("Trail", "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
                                "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
                                "($.eventName = StopLogging) }")
    found = audit("alerting_root_usage", "alerting_console_login_without_mfa",
                  "alerting_cloudtrail_changes")
    assert {c: f.status for c, f in found.items()} == dict.fromkeys(found, Status.PASS)


def test_metric_filter_without_alarm_does_not_count(aws, audit) -> None:
    _cis_metric_filter("RootUsage", CIS_ROOT, alarm=False)
    f = audit("alerting_root_usage")["alerting_root_usage"]
    assert f.status is Status.FAIL
    assert f.resources[0].details["uncovered_events"] == [
        "root ConsoleLogin", "root API call", "root API call to a regional service"]
    assert f.reason.endswith("metric filter RootUsage on cloudtrail has no alarm on its metric")


def test_alarm_to_an_unsubscribed_topic_is_the_reason(aws, audit) -> None:
    _cis_metric_filter("RootUsage", CIS_ROOT)
    sns = boto3.client("sns")
    for sub in sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    f = audit("alerting_root_usage")["alerting_root_usage"]
    assert f.status is Status.FAIL
    assert f.reason == ("no alert reaches anyone for root ConsoleLogin, root API call, root API "
                        f"call to a regional service: alarm RootUsage notifies topic {TOPIC} "
                        "which has no confirmed subscription")


@pytest.mark.parametrize("topic", ["missing", "unsubscribed"])
def test_alerts_to_a_topic_nobody_reads_do_not_count(aws, audit, topic: str) -> None:
    ev = boto3.client("events")
    ev.put_rule(Name="pp", EventPattern=json.dumps(
        {"source": ["aws.iam"], "detail": {"eventName": ["DeleteAccountPasswordPolicy"]}}))
    ev.put_targets(Rule="pp", Targets=[{"Id": "sns", "Arn": TOPIC}])
    if topic == "unsubscribed":
        _topic(subscribed=False)
    f = audit("alerting_password_policy_deletion")["alerting_password_policy_deletion"]
    assert f.status is Status.FAIL
    why = "has no confirmed subscription" if topic == "unsubscribed" else "does not exist"
    assert f.reason == ("no alert reaches anyone for DeleteAccountPasswordPolicy: rule pp "
                        f"(us-east-1) targets topic {TOPIC} which {why}")
    assert f.resources[0].details["alerting_nobody"] == [f.reason.split(": ", 1)[1]]


def test_non_sns_targets_count(aws, audit) -> None:
    ev = boto3.client("events")
    ev.put_rule(Name="pp", EventPattern=json.dumps(
        {"source": ["aws.iam"], "detail": {"eventName": ["DeleteAccountPasswordPolicy"]}}))
    ev.put_targets(Rule="pp", Targets=[
        {"Id": "q", "Arn": "arn:aws:sqs:us-east-1:123456789012:soc-queue"}])
    f = audit("alerting_password_policy_deletion")["alerting_password_policy_deletion"]
    assert f.status is Status.PASS


# --- trails homed outside us-east-1 ---------------------------------------------------------

TRAIL_EVENTS = {"source": ["aws.cloudtrail"], "detail": {
    "eventName": ["StopLogging", "DeleteTrail", "UpdateTrail"]}}
EAST_BUS = "arn:aws:events:us-east-1:123456789012:event-bus/default"
GAP = ("no alert in eu-west-1 for StopLogging, DeleteTrail, UpdateTrail: trail eu-main is "
       "homed in eu-west-1, and EventBridge receives the API calls on a trail in its home "
       "region only")


def _eu_trail() -> None:
    """A multi-region trail homed in eu-west-1 (moto's ListTrails shows other regions'
    trails only when multi-region)."""
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    boto3.client("cloudtrail", region_name="eu-west-1").create_trail(
        Name="eu-main", S3BucketName="eu-logs", IsMultiRegionTrail=True)


def _forward(region: str, pattern: dict, bus: str = EAST_BUS) -> None:
    ev = boto3.client("events", region_name=region)
    ev.put_rule(Name="fwd", EventPattern=json.dumps(pattern))
    ev.put_targets(Rule="fwd", Targets=[{
        "Id": "bus", "Arn": bus, "RoleArn": "arn:aws:iam::123456789012:role/fwd"}])


def test_rule_only_in_us_east_1_misses_a_trail_homed_in_eu_west_1(aws, audit) -> None:
    _eu_trail()
    _rule("trail", TRAIL_EVENTS)
    f = audit("alerting_cloudtrail_changes")["alerting_cloudtrail_changes"]
    assert f.status is Status.FAIL
    assert f.reason == GAP
    d = f.resources[0].details
    assert d["regions"] == ["us-east-1", "eu-west-1"]
    assert d["missing_regions"] == dict.fromkeys(d["uncovered_events"], ["eu-west-1"])


def test_rule_in_the_home_region_with_its_own_topic_covers(aws, audit) -> None:
    _eu_trail()
    topic = add_email_topic("soc-eu", "eu-west-1")
    add_alert_rule("trail-eu", TRAIL_EVENTS, topic, "eu-west-1")
    f = audit("alerting_cloudtrail_changes")["alerting_cloudtrail_changes"]
    assert f.status is Status.PASS  # the us-east-1 rule is not needed: no trail is homed there


def test_forwarding_to_us_east_1_counts_only_if_a_rule_there_alerts(aws, audit) -> None:
    _eu_trail()
    _forward("eu-west-1", TRAIL_EVENTS)
    f = audit("alerting_cloudtrail_changes")["alerting_cloudtrail_changes"]
    assert f.status is Status.FAIL
    assert f.reason == (f"{GAP}; alerting nobody: rule fwd (eu-west-1) targets the default event "
                        "bus of us-east-1, where no enabled rule matches the event")
    _rule("trail", TRAIL_EVENTS)  # now us-east-1 sends them to a subscribed topic
    f = audit("alerting_cloudtrail_changes")["alerting_cloudtrail_changes"]
    assert f.status is Status.PASS
    assert f.resources == []


def test_home_region_outside_configured_regions_is_named(aws, audit) -> None:
    from trailguard.audit.config import AlertingConfig, AuditConfig

    _eu_trail()
    _rule("trail", TRAIL_EVENTS)
    _forward("eu-west-1", TRAIL_EVENTS)  # would cover, but eu-west-1 is not read
    cfg = AuditConfig(alerting=AlertingConfig(regions=["us-east-1"]))
    f = audit("alerting_cloudtrail_changes", config=cfg)["alerting_cloudtrail_changes"]
    assert f.status is Status.FAIL
    assert f.reason == (f"{GAP} (the region is not in alerting.regions, so its rules were not "
                        "read)")
    assert f.resources[0].details["regions"] == ["us-east-1"]


# --- root usage: sign-in and IAM in us-east-1, regional services in every audited region -----

ROOT = {"detail": {"userIdentity": {"type": ["Root"]}}}
ROOT_REGIONAL = "root API call to a regional service"


def test_root_rule_in_us_east_1_only_misses_root_calls_in_a_trail_home_region(aws, audit) -> None:
    _eu_trail()
    _rule("root", ROOT)
    f = audit("alerting_root_usage")["alerting_root_usage"]
    assert f.status is Status.FAIL
    assert f.reason == (f"no alert in eu-west-1 for {ROOT_REGIONAL}: EventBridge receives a call "
                        "to a regional service in the region called only, and eu-west-1 is "
                        "audited as the home region of trail eu-main")
    d = f.resources[0].details
    assert d["uncovered_events"] == [ROOT_REGIONAL]
    assert d["missing_regions"] == {ROOT_REGIONAL: ["eu-west-1"]}
    assert d["covered"]["root ConsoleLogin"].endswith(":rule/root")


def test_root_rules_in_every_audited_region_pass(aws, audit) -> None:
    _eu_trail()
    _rule("root", ROOT)
    add_alert_rule("root-eu", ROOT, add_email_topic("soc-eu", "eu-west-1"), "eu-west-1")
    f = audit("alerting_root_usage")["alerting_root_usage"]
    assert f.status is Status.PASS
    assert f.resources == []


def test_root_rule_forwarded_from_a_home_region_passes(aws, audit) -> None:
    _eu_trail()
    _rule("root", ROOT)
    _forward("eu-west-1", ROOT)
    assert audit("alerting_root_usage")["alerting_root_usage"].status is Status.PASS


def test_root_sign_in_is_looked_for_in_us_east_1_only(aws, audit) -> None:
    """Root sign-ins are recorded in us-east-1: a rule elsewhere does not cover them."""
    from trailguard.audit.config import AlertingConfig, AuditConfig

    add_alert_rule("root-eu", ROOT, add_email_topic("soc-eu", "eu-west-1"), "eu-west-1")
    cfg = AuditConfig(alerting=AlertingConfig(regions=["eu-west-1"]))
    f = audit("alerting_root_usage", config=cfg)["alerting_root_usage"]
    assert f.status is Status.FAIL
    assert f.resources[0].details["uncovered_events"] == ["root ConsoleLogin", "root API call"]
    assert f.resources[0].details["covered"][ROOT_REGIONAL].endswith(":rule/root-eu")


def test_configured_region_without_root_rule_is_named(aws, audit) -> None:
    from trailguard.audit.config import AlertingConfig, AuditConfig

    _rule("root", ROOT)
    cfg = AuditConfig(alerting=AlertingConfig(regions=["us-east-1", "ap-southeast-2"]))
    f = audit("alerting_root_usage", config=cfg)["alerting_root_usage"]
    assert f.status is Status.FAIL
    assert f.reason == (f"no alert in ap-southeast-2 for {ROOT_REGIONAL}: EventBridge receives a "
                        "call to a regional service in the region called only, and ap-southeast-2 "
                        "is audited as listed in alerting.regions")


def test_no_root_rule_anywhere_lists_every_root_probe(aws, audit) -> None:
    _eu_trail()
    f = audit("alerting_root_usage")["alerting_root_usage"]
    assert f.status is Status.FAIL
    assert f.resources[0].details["uncovered_events"] == [
        "root ConsoleLogin", "root API call", ROOT_REGIONAL]
    assert f.resources[0].details["missing_regions"] == {}
    assert f.reason.startswith("no enabled EventBridge rule or alarmed metric filter matches")


def test_root_metric_filter_on_a_multi_region_trail_covers_every_region(aws, audit) -> None:
    _cis_metric_filter("RootUsage", CIS_ROOT)
    _eu_trail()
    f = audit("alerting_root_usage")["alerting_root_usage"]
    assert f.status is Status.PASS
