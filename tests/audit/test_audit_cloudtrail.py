"""CloudTrail checks on trails and buckets built through the moto server's APIs."""

from __future__ import annotations

import json

import boto3
import pytest

from trailguard.audit.checks.cloudtrail import records_management_writes
from trailguard.findings.model import Status

KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
COVERAGE = ["cloudtrail_multi_region_enabled",
            "cloudtrail_multi_region_enabled_logging_management_events"]
ALL = [*COVERAGE, "cloudtrail_log_file_validation_enabled", "cloudtrail_kms_encryption_enabled",
       "cloudtrail_logs_s3_bucket_is_not_publicly_accessible"]


def _trail(name: str = "org-trail", bucket: str = "trail-logs", start: bool = True,
           **kw) -> str:
    s3 = boto3.client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    ct = boto3.client("cloudtrail")
    args = dict(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True,
                IncludeGlobalServiceEvents=True, EnableLogFileValidation=True, KmsKeyId=KMS)
    arn = ct.create_trail(**{**args, **kw})["TrailARN"]
    if start:
        ct.start_logging(Name=name)
    return arn


def test_no_trail_fails_every_coverage_check(aws, audit) -> None:
    found = audit(*ALL)
    for c in ALL:  # the log bucket check too: no trail is not "logs safe"
        assert found[c].status is Status.FAIL, c
        assert found[c].resources[0].details["problem"] == "no CloudTrail trail exists"
    assert found[ALL[4]].reason == "no CloudTrail trail exists, so no log bucket to check"


def test_good_trail_passes_every_check(aws, audit) -> None:
    _trail()
    found = audit(*ALL)
    assert {c: f.status for c, f in found.items()} == {c: Status.PASS for c in ALL}


def test_single_region_stopped_trail_fails_with_what_is_missing(aws, audit) -> None:
    arn = _trail(IsMultiRegionTrail=False, start=False)
    f = audit(COVERAGE[0])[COVERAGE[0]]
    assert f.status is Status.FAIL
    (res,) = f.resources
    assert res.id == arn and res.details["trail_name"] == "org-trail"
    assert res.details["missing"] == ["not multi-region", "not logging"]
    assert f.remediation == "cloudtrail-enable" and f.cis == ["3.1"]


def test_one_good_trail_is_enough(aws, audit) -> None:
    _trail("regional", IsMultiRegionTrail=False)
    _trail("global")
    assert audit(COVERAGE[0])[COVERAGE[0]].status is Status.PASS


def test_read_only_selectors_fail_management_check(aws, audit) -> None:
    _trail()
    boto3.client("cloudtrail").put_event_selectors(
        TrailName="org-trail",
        EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}],
    )
    found = audit(*COVERAGE)
    assert found[COVERAGE[0]].status is Status.PASS
    f = found[COVERAGE[1]]
    assert f.status is Status.FAIL
    assert f.resources[0].details["missing"] == ["write management events not recorded"]


def test_advanced_selectors_with_management_events_pass(aws, audit) -> None:
    _trail()
    boto3.client("cloudtrail").put_event_selectors(
        TrailName="org-trail",
        AdvancedEventSelectors=[{"Name": "mgmt", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}]}],
    )
    assert audit(COVERAGE[1])[COVERAGE[1]].status is Status.PASS


@pytest.mark.parametrize(
    ("selectors", "ok"),
    [
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]},
         True),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}, False),
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                              "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]}, True),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "readOnly", "Equals": ["true"]}]}]}, False),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]},
            {"Field": "eventSource", "NotEquals": ["iam.amazonaws.com"]}]}]}, False),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}]}]}, False),
        ({}, True),
    ],
)
def test_management_write_selector_logic(selectors: dict, ok: bool) -> None:
    assert records_management_writes(selectors) is ok


def test_trail_without_global_events_fails_management_check(aws, audit) -> None:
    _trail(IsMultiRegionTrail=False, IncludeGlobalServiceEvents=False)
    f = audit(COVERAGE[1])[COVERAGE[1]]
    assert "global service events (IAM, STS) not included" in f.resources[0].details["missing"]


def test_validation_and_kms_fail_per_trail(aws, audit) -> None:
    _trail("good")
    bad = _trail("bad", EnableLogFileValidation=False, KmsKeyId="")
    found = audit("cloudtrail_log_file_validation_enabled", "cloudtrail_kms_encryption_enabled")
    for f in found.values():
        assert f.status is Status.FAIL
        assert [r.id for r in f.resources] == [bad]


def test_public_acl_on_log_bucket_fails(aws, audit) -> None:
    _trail()
    boto3.client("s3").put_bucket_acl(Bucket="trail-logs", ACL="public-read")
    check = "cloudtrail_logs_s3_bucket_is_not_publicly_accessible"
    f = audit(check)[check]
    assert f.status is Status.FAIL
    assert f.resources[0].details["bucket"] == "trail-logs"
    assert f.resources[0].details["public_because"] == ["ACL grants AllUsers:READ"]


def test_public_access_block_neutralises_public_acl(aws, audit) -> None:
    _trail()
    s3 = boto3.client("s3")
    s3.put_bucket_acl(Bucket="trail-logs", ACL="public-read")
    s3.put_public_access_block(Bucket="trail-logs", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    check = "cloudtrail_logs_s3_bucket_is_not_publicly_accessible"
    assert audit(check)[check].status is Status.PASS


def test_public_bucket_policy_fails(aws, audit) -> None:
    _trail()
    boto3.client("s3").put_bucket_policy(Bucket="trail-logs", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::trail-logs/*"}]}))
    check = "cloudtrail_logs_s3_bucket_is_not_publicly_accessible"
    f = audit(check)[check]
    assert f.status is Status.FAIL
    assert "bucket policy is public" in f.resources[0].details["public_because"]


def test_missing_log_bucket_is_error_with_reason(aws, audit) -> None:
    _trail()
    boto3.client("s3").delete_bucket(Bucket="trail-logs")
    check = "cloudtrail_logs_s3_bucket_is_not_publicly_accessible"
    f = audit(check)[check]
    assert f.status is Status.ERROR
    assert "bucket trail-logs of trail org-trail" in f.reason and "NoSuchBucket" in f.reason



def test_trails_of_other_regions_are_checked_in_their_home_region(aws, audit) -> None:
    from audit_helpers import canned

    from trailguard.aws import make_session

    _trail("org-trail")
    boto3.client("s3").create_bucket(Bucket="eu-logs")
    eu = boto3.client("cloudtrail", region_name="eu-west-1")
    eu_arn = eu.create_trail(Name="eu-only", S3BucketName="eu-logs",
                             EnableLogFileValidation=False)["TrailARN"]
    us_arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"
    session = make_session()
    # moto's ListTrails shows the current region's view only; AWS lists every region's trails
    canned(session, "cloudtrail.ListTrails", {"Trails": [
        {"TrailARN": us_arn, "Name": "org-trail", "HomeRegion": "us-east-1"},
        {"TrailARN": eu_arn, "Name": "eu-only", "HomeRegion": "eu-west-1"}]})
    check = "cloudtrail_log_file_validation_enabled"
    f = audit(check, session=session)[check]
    assert f.status is Status.FAIL
    assert [(r.id, r.region) for r in f.resources] == [(eu_arn, "eu-west-1")]
