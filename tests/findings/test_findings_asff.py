"""ASFF: valid against botocore's BatchImportFindings model, importable into Security Hub."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.model import ListShape, MapShape, StructureShape
from botocore.validate import ParamValidator
from findings_builders import ACCOUNT, XSS, audit_report, detection, posture, scan_report

from trailguard.findings.asff import asff_findings, batches, batches_by_region, for_importer
from trailguard.findings.model import Actor, Report, Resource, Severity, Status
from trailguard.findings.output import write_report

_MODEL = botocore.session.get_session().get_service_model("securityhub")
_INPUT = _MODEL.operation_model("BatchImportFindings").input_shape
_FINDING = _INPUT.members["Findings"].member
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


def _check_patterns(shape, value: Any, path: str, errors: list[str]) -> None:
    """botocore's validator skips regex patterns; Security Hub enforces them (``.*\\S.*``)."""
    if isinstance(shape, StructureShape):
        for k, v in value.items():
            _check_patterns(shape.members[k], v, f"{path}.{k}", errors)
    elif isinstance(shape, ListShape):
        for i, v in enumerate(value):
            _check_patterns(shape.member, v, f"{path}[{i}]", errors)
    elif isinstance(shape, MapShape):
        for k, v in value.items():
            _check_patterns(shape.key, k, f"{path}<key>", errors)
            _check_patterns(shape.value, v, f"{path}.{k}", errors)
    elif shape.type_name == "string":
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            errors.append(f"{path}={value!r} does not match {pattern}")


def assert_valid(findings: list[dict]) -> None:
    """Validate against the service model, patterns included, and Security Hub's limits."""
    for batch in batches(findings):
        report = ParamValidator().validate({"Findings": batch}, _INPUT)
        assert not report.has_errors(), report.generate_report()
    for f in findings:
        errors: list[str] = []
        _check_patterns(_FINDING, f, "Finding", errors)
        assert not errors, errors
        assert len(f["Title"]) <= 256 and len(f["Description"]) <= 1024
        assert len(f["Remediation"]["Recommendation"]["Text"]) <= 512
        assert 1 <= len(f["Resources"]) <= 32
        assert len(f["ProductFields"]) <= 50
        assert all(len(v) <= 2048 for v in f["ProductFields"].values())
        for key in ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"):
            if key in f:
                assert ISO_Z.match(f[key]), (key, f[key])
        assert re.fullmatch(
            r"arn:aws(-[a-z-]+)?:securityhub:[a-z0-9-]+:(\d{12}):product/\2/default",
            f["ProductArn"],
        ), f["ProductArn"]


def test_detection_fields(scan_full: Report) -> None:
    out = asff_findings(scan_full)
    assert_valid(out)
    key = out[0]
    assert key["SchemaVersion"] == "2018-10-08"
    assert key["ProductArn"] == f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"
    assert key["AwsAccountId"] == ACCOUNT
    assert all(f["ProductArn"].split(":")[4] == f["AwsAccountId"] for f in out)
    assert key["GeneratorId"] == "trailguard-detection-5a1c2b1e-0000-4000-8000-000000000001"
    assert key["Types"] == ["TTPs/Persistence", "TTPs/Privilege Escalation"]
    assert key["Severity"] == {"Label": "HIGH", "Original": "high"}
    assert key["CreatedAt"] == key["FirstObservedAt"] == "2026-11-20T10:15:00Z"
    assert key["LastObservedAt"] == "2026-11-20T12:40:05Z"
    assert key["UpdatedAt"] == "2026-11-24T09:00:00Z"
    assert key["Description"].endswith("(3 events)")
    assert key["Resources"] == [{
        "Type": "AwsIamUser", "Id": f"arn:aws:iam::{ACCOUNT}:user/bob", "Partition": "aws",
        "Region": "us-east-1", "Details": {"Other": {"name": "bob"}},
    }]
    assert key["ProductFields"]["trailguard/Count"] == "3"
    assert key["ProductFields"]["trailguard/SourceIp"] == "203.0.113.7"
    assert key["Action"]["AwsApiCallAction"]["RemoteIpDetails"] == {"IpAddressV4": "203.0.113.7"}
    assert key["Action"]["AwsApiCallAction"]["Api"] == "CreateAccessKey"
    assert "trailguard explain CreateAccessKey" in key["Remediation"]["Recommendation"]["Text"]
    assert "Compliance" not in key
    stop = out[1]
    assert stop["Types"] == ["TTPs/Defense Evasion"]
    assert stop["Severity"]["Label"] == "CRITICAL"
    assert stop["ProductArn"].startswith("arn:aws:securityhub:eu-west-1:")
    assert stop["ProductFields"]["trailguard/UserAgent"] == XSS  # data, not markup, in JSON
    login = out[2]  # no resources: the account is the resource
    assert login["Resources"][0] == {"Type": "AwsAccount", "Id": f"AWS::::Account:{ACCOUNT}",
                                     "Partition": "aws", "Region": "us-east-1"}
    assert login["FirstObservedAt"] == "2026-11-21T22:00:00Z"
    assert login["Title"].endswith("Zoë’s 東京 office")


def test_posture_fields(audit_full: Report) -> None:
    out = {f["GeneratorId"]: f for f in asff_findings(audit_full)}
    assert_valid(list(out.values()))
    fail = out["trailguard-posture-iam_password_policy_min_length_14"]
    assert fail["Compliance"] == {
        "Status": "FAILED",
        "RelatedRequirements": ["CIS AWS Foundations Benchmark v3.0.0/1.8"],
    }
    assert fail["Types"] == [
        "Software and Configuration Checks/Industry and Regulatory Standards/"
        "CIS AWS Foundations Benchmark"
    ]
    assert fail["Workflow"] == {"Status": "NEW"}
    assert "trailguard remediate action: iam-set-password-policy." in (
        fail["Remediation"]["Recommendation"]["Text"])
    assert out["trailguard-posture-iam_root_mfa_enabled"]["Compliance"]["Status"] == "PASSED"
    assert out["trailguard-posture-iam_root_mfa_enabled"]["Workflow"] == {"Status": "RESOLVED"}
    err = out["trailguard-posture-cloudtrail_multi_region"]
    assert err["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert "AccessDenied on cloudtrail:DescribeTrails" in err["Description"]
    assert err["ProductFields"]["trailguard/Reason"] == "AccessDenied on cloudtrail:DescribeTrails"
    assert len(out["trailguard-posture-iam_user_mfa_console"]["Resources"]) == 5


def test_ids_are_stable_and_unique(scan_full: Report, audit_full: Report) -> None:
    first = [f["Id"] for f in asff_findings(scan_full)]
    later = scan_full.model_copy(deep=True)
    for f in later.findings:  # seen again later, more often: still the same finding
        f.count += 10
    assert [f["Id"] for f in asff_findings(later)] == first
    assert len(set(first)) == 3
    assert all(len(i) <= 512 for i in first)
    # a posture check keeps its Id when it goes from FAIL to PASS
    failing = asff_findings(audit_report([posture()]))[0]["Id"]
    passing = asff_findings(audit_report([posture(status=Status.PASS, resources=[])]))[0]["Id"]
    assert failing == passing
    # one result per resource for the same check: distinct Ids
    per_user = [
        posture(resources=[Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/u{i}")])
        for i in range(3)
    ]
    assert len({f["Id"] for f in asff_findings(audit_report(per_user))}) == 3
    # the very same finding twice still gets two Ids
    assert len({f["Id"] for f in asff_findings(scan_report([detection(), detection()]))}) == 2


def test_limits_are_enforced() -> None:
    many = [Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/u{i}") for i in range(40)]
    f = posture(title="T" * 400, description="line one\nline two " + "d" * 2000, resources=many,
                remediation="r " * 400)
    out = asff_findings(audit_report([f]))
    assert_valid(out)
    g = out[0]
    assert len(g["Resources"]) == 32
    assert g["ProductFields"]["trailguard/ResourcesTotal"] == "40"
    assert g["Title"].endswith("…") and "\n" not in g["Description"]


def test_service_source_and_ipv6_and_gov_partition() -> None:
    svc = detection(actor=Actor(identity_type="AWSService", invoked_by="ec2.amazonaws.com",
                                source_ip="ec2.amazonaws.com"))
    gov = f"arn:aws-us-gov:iam::{ACCOUNT}"
    v6 = detection(actor=Actor(arn=f"{gov}:user/a", source_ip="2001:db8::1"),
                   region="us-gov-west-1",
                   resources=[Resource(type="AwsIamUser", id=f"{gov}:user/b")])
    out = asff_findings(scan_report([svc, v6]))
    assert_valid(out)
    assert out[0]["Action"]["AwsApiCallAction"]["DomainDetails"] == {"Domain": "ec2.amazonaws.com"}
    assert out[1]["Action"]["AwsApiCallAction"]["CallerType"] == "remoteip"
    assert "RemoteIpDetails" not in out[1]["Action"]["AwsApiCallAction"]
    assert out[1]["ProductArn"].startswith("arn:aws-us-gov:securityhub:us-gov-west-1:")
    assert out[1]["Resources"][0]["Partition"] == "aws-us-gov"


def test_missing_account_is_reported_not_a_crash(tmp_path: Path, capsys) -> None:
    f = detection(account_id=None, resources=[], actor=Actor(arn="x"))
    assert write_report(scan_report([f]), "asff", tmp_path / "a.json") == 1
    assert json.loads((tmp_path / "a.json").read_text()) == []
    assert "no 12-digit AWS account id" in capsys.readouterr().err


def test_empty_report(tmp_path: Path) -> None:
    write_report(scan_report([]), "asff", tmp_path / "a.json")
    assert json.loads((tmp_path / "a.json").read_text()) == []


def test_import_into_security_hub(aws: str, scan_full: Report, audit_full: Report,
                                  tmp_path: Path) -> None:
    path = tmp_path / "findings.asff.json"
    mixed = scan_report([*scan_full.findings, *audit_full.findings,
                         *(detection(rule_id=f"r{i}", severity=Severity.low) for i in range(120))])
    write_report(mixed, "asff", path)
    findings = json.loads(path.read_text(encoding="utf-8"))
    assert len(findings) == 127
    success = failed = 0
    calls: list[tuple[str, int]] = []
    for region, batch in batches_by_region(findings):
        client = boto3.client("securityhub", region_name=region)
        resp = client.batch_import_findings(Findings=batch)
        success += resp["SuccessCount"]
        failed += resp["FailedCount"]
        calls.append((region, len(batch)))
    assert (success, failed) == (127, 0)
    assert calls == [("eu-west-1", 1), ("us-east-1", 100), ("us-east-1", 26)]
    us_east = [f for f in findings if f["ProductArn"].split(":")[3] == "us-east-1"]
    sh = boto3.client("securityhub", region_name="us-east-1")
    # re-importing the same findings updates them rather than adding duplicates
    assert sh.batch_import_findings(Findings=us_east[:5])["SuccessCount"] == 5
    stored = {}
    for page in sh.get_paginator("get_findings").paginate():
        stored.update({f["Id"]: f for f in page["Findings"]})
    assert set(stored) == {f["Id"] for f in us_east}
    for f in us_east[:3]:
        assert stored[f["Id"]]["Title"] == f["Title"]
        assert stored[f["Id"]]["Severity"]["Label"] == f["Severity"]["Label"]


def test_for_importer_rewrites_only_the_product_arn(scan_full: Report) -> None:
    out = for_importer(asff_findings(scan_full), "111122223333")
    assert_valid(out)
    assert out[1]["ProductArn"] == (
        "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default")
    assert out[1]["AwsAccountId"] == ACCOUNT


def test_finding_without_account_is_left_out_with_a_warning(tmp_path: Path, capsys) -> None:
    orphan = detection(title="Orphan Correlation", account_id=None, actor=None, resources=[])
    report = scan_report([detection(), orphan, detection(event_id="other")])
    with pytest.raises(ValueError, match="no 12-digit AWS account id"):
        asff_findings(report)  # strict when the caller does not collect what is left out
    out = tmp_path / "out.asff.json"
    assert write_report(report, "asff", out) == 1
    written = json.loads(out.read_text())
    assert len(written) == 2 and all(f["AwsAccountId"] == ACCOUNT for f in written)
    assert_valid(written)
    err = capsys.readouterr().err
    assert "rule 'Orphan Correlation'" in err and "left out" in err
    assert "1 finding(s) left out" in err
    assert write_report(scan_report([detection()]), "asff", out) == 0
    assert write_report(report, "json", out) == 0
