"""Match -> Finding conversion and grouping of identical findings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scan_helpers import ACCOUNT, delivery_bytes, record, write
from sigma.collection import SigmaCollection

from trailguard.findings.model import Severity
from trailguard.scan.convert import (
    FindingGroups,
    actor_from_record,
    finding_from_record,
    group_key,
    record_group_key,
    resources_from_record,
    rule_meta,
    techniques_from_tags,
)
from trailguard.scan.engine import Scanner
from trailguard.scan.inputs import expand_local
from trailguard.sigma import Detector

META = rule_meta(SigmaCollection.from_yaml("""
title: t
id: 44444444-4444-4444-8444-444444444444
level: critical
tags: [attack.t1098.001, attack.persistence]
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: X}, condition: sel}
""").rules[0])


def test_rule_meta_from_a_bare_sigma_rule() -> None:
    assert META.severity is Severity.critical
    assert META.mitre == ["T1098.001"]
    assert techniques_from_tags(["attack.t1531", "attack.impact", "cve.2021-1"]) == ["T1531"]


def test_console_login_mfa_comes_from_additional_event_data() -> None:
    rec = record("ConsoleLogin", 1, additionalEventData={"MFAUsed": "No"},
                 userIdentity={"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root",
                               "accountId": ACCOUNT})
    actor = actor_from_record(rec)
    assert actor.identity_type == "Root" and actor.mfa_authenticated is False
    assert actor.session_name is None
    assert [(r.type, r.id) for r in resources_from_record(rec)] == [("AwsAccount", ACCOUNT)]


def test_service_actor_and_odd_values_kept() -> None:
    rec = record("CreateAccessKey", 1, userIdentity={"type": "AWSService",
                                                    "invokedBy": "sso.amazonaws.com"},
                 requestParameters={"userName": "bob"}, recipientAccountId="1234567890123")
    actor = actor_from_record(rec)
    assert actor.invoked_by == "sso.amazonaws.com" and actor.arn is None
    (res,) = resources_from_record(rec)
    assert res.id == "arn:aws:iam::1234567890123:user/bob"  # 13 digits: kept as it is


def test_grouping_counts_times_and_bounded_samples() -> None:
    groups = FindingGroups(sample=3)
    for i, hour in enumerate([12, 9, 15, 10, 11]):
        groups.add_record(META, record("X", i, eventTime=f"2026-11-20T{hour:02d}:00:00Z"))
    groups.add_record(META, record("X", 9, errorCode="AccessDenied"))  # different error
    other = record("X", 10, requestParameters={"userName": "carol"})  # different target
    groups.add_record(META, other)
    found = groups.findings()
    assert len(found) == 3 and groups.total == 7
    main = next(f for f in found if f.count == 5)
    assert main.first_seen == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert main.last_seen == datetime(2026, 11, 20, 15, tzinfo=UTC)
    assert main.event_time == main.first_seen
    assert len(main.event_ids) == 3


def _grouped_both_ways(recs: list[dict]) -> tuple[FindingGroups, FindingGroups]:
    """``recs`` grouped as records and as findings; the two group keys must agree."""
    by_record, by_finding = FindingGroups(), FindingGroups()
    for rec in recs:
        by_record.add_record(META, rec)
        by_finding.add(finding_from_record(META, rec))
        assert record_group_key(META, rec) == group_key(finding_from_record(META, rec))
    return by_record, by_finding


def test_a_key_used_from_a_new_address_is_its_own_finding() -> None:
    """Same user, key, event and target: the attacker's address must not hide in the owner's
    routine group (records and findings group alike)."""
    recs = [record("X", 1), record("X", 2), record("X", 3, sourceIPAddress="203.0.113.66")]
    for groups in _grouped_both_ways(recs):
        assert sorted((f.actor.source_ip, f.count) for f in groups.findings()) == [
            ("198.51.100.24", 2), ("203.0.113.66", 1)]


def test_grouping_does_not_depend_on_arrival_order() -> None:
    """DuckDB returns rows in any order: first event and sample are the earliest, ties by id."""
    hours = [12, 9, 15, 9, 11, 10, 9]
    recs = [record("X", i, eventTime=f"2026-11-20T{h:02d}:00:00Z") for i, h in enumerate(hours)]
    recs.append(record("X", 20, requestParameters={"userName": "carol"}))  # another group
    reports = []
    for order in (recs, recs[::-1], recs[3:] + recs[:3]):
        groups = FindingGroups(sample=3)
        for rec in order:
            groups.add_record(META, rec)
        reports.append([f.model_dump() for f in groups.findings()])
    assert reports[0] == reports[1] == reports[2]
    main = next(f for f in reports[0] if f["count"] == 7)
    ids = [record("X", i)["eventID"] for i in (1, 3, 6)]  # the three at 09:00, by id
    assert main["event_ids"] == ids and main["event_id"] == ids[0]


def test_correlation_matches_become_grouped_findings(tmp_path: Path) -> None:
    rules = SigmaCollection.from_yaml("""
title: Key deleted
id: 55555555-5555-4555-8555-555555555555
name: key_deleted
level: low
logsource: {product: aws, service: cloudtrail}
detection: {sel: {eventName: DeleteAccessKey}, condition: sel}
---
title: Burst of key deletions
id: 66666666-6666-4666-8666-666666666666
level: high
tags: [attack.t1531]
correlation:
  type: event_count
  rules: [key_deleted]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 3}
""")
    recs = [record("DeleteAccessKey", i, eventTime=f"2026-11-20T09:0{i}:00Z",
                   requestParameters={"userName": f"u{i}", "accessKeyId": f"AKIA{i}"})
            for i in range(4)]
    write(tmp_path / "x.json.gz", delivery_bytes(recs))
    scanner = Scanner(Detector(rules))
    scanner.scan_inputs(expand_local(str(tmp_path))[0])
    findings = scanner.finish()
    burst = [f for f in findings if f.rule_id == "66666666-6666-4666-8666-666666666666"]
    assert len(burst) == 1
    assert burst[0].severity is Severity.high and burst[0].count == 4
    assert burst[0].actor.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert burst[0].first_seen == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert findings[0] is burst[0]  # most severe first


def test_targets_of_detection_logging_and_sharing_events() -> None:
    """GuardDuty detectors, Config recorders, EBS snapshots and flow logs (EC2's XML shape)."""

    def targets(params: dict) -> list[tuple[str, str]]:
        rec = record("X", 1, requestParameters=params)
        return [(r.type, r.id) for r in resources_from_record(rec)]

    assert targets({"detectorId": "12abc"}) == [("AwsGuardDutyDetector", "12abc")]
    assert targets({"configurationRecorderName": "default"}) == [
        ("AwsConfigConfigurationRecorder", "default")]
    assert targets({"snapshotId": "snap-0a1b", "attributeType": "CREATE_VOLUME_PERMISSION"}) == [
        ("AwsEc2Snapshot", "snap-0a1b")]
    one = {"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1", "tag": 1}}}
    two = {"DeleteFlowLogsRequest": {"FlowLogId": [{"content": "fl-1", "tag": 1},
                                                   {"content": "fl-2", "tag": 2}]}}
    assert targets({"groupId": "sg-0a1b"}) == [("AwsEc2SecurityGroup", "sg-0a1b")]
    assert targets({"keyId": "1234abcd-12ab", "pendingWindowInDays": 7}) == [
        ("AwsKmsKey", "1234abcd-12ab")]
    assert targets({"logGroupName": "/aws/lambda/app"}) == [("AwsLogsLogGroup", "/aws/lambda/app")]
    assert targets({"dBSnapshotIdentifier": "db-snap-1", "attributeName": "restore"}) == [
        ("AwsRdsDbSnapshot", "db-snap-1")]
    assert targets({"secretId": "prod/db"}) == [("AwsSecretsManagerSecret", "prod/db")]
    assert targets({"instanceId": "i-0a1b", "userData": "<sensitiveDataRemoved>"}) == [
        ("AwsEc2Instance", "i-0a1b")]
    assert targets({"imageId": "ami-0a1b", "attributeType": "launchPermission"}) == [
        ("AwsEc2Image", "ami-0a1b")]
    fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:invoice-export"
    assert targets({"functionName": fn, "principal": "*"}) == [("AwsLambdaFunction", fn)]
    saml = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"
    assert targets({"sAMLProviderArn": saml}) == [("AwsIamSamlProvider", saml)]
    created = record("CreateSAMLProvider", 1, requestParameters={"name": "corp"})
    assert [(r.type, r.id) for r in resources_from_record(created)] == [
        ("AwsIamSamlProvider", "corp")]
    token = record("GetFederationToken", 2, eventSource="sts.amazonaws.com",
                   requestParameters={"name": "reporting", "durationSeconds": 129600})
    assert [(r.type, r.id) for r in resources_from_record(token)] == [
        ("AwsStsFederatedUser", "reporting")]
    other = record("CreateBucket", 3, requestParameters={"name": "x"})  # "name" elsewhere
    assert [r.type for r in resources_from_record(other)] == ["AwsAccount"]
    assert targets(one) == [("AwsEc2FlowLog", "fl-1")]
    assert targets(two) == [("AwsEc2FlowLog", "fl-1"), ("AwsEc2FlowLog", "fl-2")]


def _share(n: int, account: str, hour: int = 9) -> dict:
    return record("ModifySnapshotAttribute", n, eventSource="ec2.amazonaws.com",
                  eventTime=f"2026-11-20T{hour:02d}:00:00Z", requestParameters={
                      "snapshotId": "snap-0a1b2c3d4e5f60718",
                      "attributeType": "CREATE_VOLUME_PERMISSION",
                      "createVolumePermission": {"add": {"items": [{"userId": account}]}}})


def test_grantees_go_on_the_target() -> None:
    (res,) = resources_from_record(_share(1, "999988887777"))
    assert (res.type, res.id) == ("AwsEc2Snapshot", "snap-0a1b2c3d4e5f60718")
    assert res.details == {"granted_to": ["999988887777"], "outside_account": True}
    finding = finding_from_record(META, _share(1, ACCOUNT))
    assert finding.resources[0].details == {"granted_to": [ACCOUNT], "outside_account": False}


def test_shares_with_different_accounts_are_different_findings() -> None:
    """Both ways of grouping (records, findings) keep grantees apart and agree on the key."""
    recs = [_share(1, "999988887777", 9), _share(2, "444455556666", 10),
            _share(3, "999988887777", 11)]
    for groups in _grouped_both_ways(recs):
        found = groups.findings()
        assert [(f.resources[0].details["granted_to"], f.count) for f in found] == [
            (["999988887777"], 2), (["444455556666"], 1)]
    assert len({record_group_key(META, r) for r in recs}) == 2


def test_group_keys_agree_without_grants_and_for_malformed_policies() -> None:
    recs = [record("X", 1), record("X", 2, requestParameters={"userName": "bob"}),
            record("PutBucketPolicy", 3, eventSource="s3.amazonaws.com",
                   requestParameters={"bucketName": "b", "bucketPolicy": "not json"}),
            record("UpdateAssumeRolePolicy", 4, requestParameters={
                "roleName": "r", "policyDocument": '{"Statement": {"Effect": "Allow", '
                '"Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": '
                '"192.0.2.0/24"}}}}'})]
    for rec in recs:
        assert record_group_key(META, rec) == group_key(finding_from_record(META, rec))
    role = finding_from_record(META, recs[3])
    assert role.resources[0].details == {"granted_to": ["everyone"], "public": True,
                                         "conditions": ["aws:SourceIp"]}
    assert finding_from_record(META, recs[2]).resources[0].details == {}


def test_rds_cluster_snapshot_share_names_its_target_and_grantees() -> None:
    rec = record("ModifyDBClusterSnapshotAttribute", 1, eventSource="rds.amazonaws.com",
                 requestParameters={"dBClusterSnapshotIdentifier": "prod-aurora-final",
                                    "attributeName": "restore", "valuesToAdd": ["all"]})
    (res,) = resources_from_record(rec)
    assert (res.type, res.id) == ("AwsRdsDbClusterSnapshot", "prod-aurora-final")
    assert res.details == {"granted_to": ["everyone"], "public": True}
