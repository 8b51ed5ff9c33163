"""OCSF: required attributes per class, ID mappings, timestamps in epoch milliseconds."""

from __future__ import annotations

import calendar
import json
from datetime import datetime
from pathlib import Path

import pytest
from findings_builders import ACCOUNT, XSS, audit_report, detection, posture, scan_report

from trailguard.findings.ids import finding_ids
from trailguard.findings.model import Actor, Report, Severity, Status
from trailguard.findings.ocsf import ocsf_events
from trailguard.findings.output import write_report

# OCSF 1.3 required attributes (schema.ocsf.io): base event + Findings category + the class
BASE_REQUIRED = {"activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time",
                 "type_uid"}
DETECTION_REQUIRED = BASE_REQUIRED | {"finding_info"}
COMPLIANCE_REQUIRED = BASE_REQUIRED | {"finding_info", "compliance"}


def ms(*args: int) -> int:
    """Epoch milliseconds of a UTC time, computed independently of the code under test."""
    return int(calendar.timegm(datetime(*args).timetuple())) * 1000


NOV_20_1015 = ms(2026, 11, 20, 10, 15)


def _load(report: Report, tmp_path: Path) -> list[dict]:
    path = tmp_path / "r.ocsf.json"
    write_report(report, "ocsf", path)
    return json.loads(path.read_text(encoding="utf-8"))


def _no_nulls(value, path="$") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            assert v is not None and v != "" and v != [] and v != {}, f"{path}.{k} is empty"
            _no_nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_nulls(v, f"{path}[{i}]")


def test_detection_finding_required_and_mappings(scan_full: Report, tmp_path: Path) -> None:
    events = _load(scan_full, tmp_path)
    assert len(events) == 3
    for e in events:
        assert set(e) >= DETECTION_REQUIRED
        assert (e["class_uid"], e["category_uid"], e["activity_id"], e["type_uid"]) == (
            2004, 2, 1, 200401)
        assert e["class_name"] == "Detection Finding"
        assert e["type_name"] == "Detection Finding: Create"
        assert {"uid", "title"} <= set(e["finding_info"])
        assert e["finding_info"]["analytic"]["type_id"] == 1
        assert e["metadata"]["version"] == "1.3.0"
        assert e["metadata"]["product"]["name"] == "trailguard"
        assert e["metadata"]["product"]["vendor_name"] == "trailguard"
        assert e["cloud"]["provider"] == "AWS"
        assert (e["status_id"], e["status"]) == (1, "New")
        assert isinstance(e["time"], int)
        _no_nulls(e)
    key, stop, login = events
    assert key["severity_id"] == 4 and key["severity"] == "High"
    assert stop["severity_id"] == 5 and login["severity_id"] == 2
    info = key["finding_info"]
    assert info["uid"] == finding_ids(scan_full)[0]
    assert info["analytic"] == {"uid": "5a1c2b1e-0000-4000-8000-000000000001",
                                "name": "Access key created for another user", "type": "Rule",
                                "type_id": 1}
    assert info["first_seen_time"] == NOV_20_1015 == key["start_time"]
    assert info["last_seen_time"] == NOV_20_1015 + (2 * 3600 + 25 * 60 + 5) * 1000 == key["time"]
    assert key["count"] == 3
    assert info["attacks"] == [
        {"technique": {"uid": "T1098.001",
                       "name": "Account Manipulation: Additional Cloud Credentials"},
         "tactic": {"uid": "TA0003", "name": "Persistence"}, "version": "v16"},
        {"technique": {"uid": "T1098.001",
                       "name": "Account Manipulation: Additional Cloud Credentials"},
         "tactic": {"uid": "TA0004", "name": "Privilege Escalation"}, "version": "v16"},
    ]
    assert info["types"] == ["Persistence", "Privilege Escalation"]
    assert [r["uid"] for r in info["related_events"]] == ["e1", "e2", "e3"]
    assert key["actor"]["user"] == {
        "uid": f"arn:aws:iam::{ACCOUNT}:user/alice", "uid_alt": "AIDAEXAMPLEALICE",
        "name": "alice", "type": "IAMUser", "type_id": 1,
        "credential_uid": "AKIAIOSFODNN7EXAMPLE",
        "account": {"uid": ACCOUNT, "type": "AWS Account", "type_id": 10},
    }
    assert key["actor"]["session"] == {"is_mfa": False, "credential_uid": "AKIAIOSFODNN7EXAMPLE"}
    assert key["src_endpoint"] == {"ip": "203.0.113.7"}
    assert key["cloud"] == {"provider": "AWS", "region": "us-east-1",
                            "account": {"uid": ACCOUNT, "type": "AWS Account", "type_id": 10}}
    assert key["api"] == {"operation": "CreateAccessKey", "service": {"name": "iam.amazonaws.com"},
                          "request": {"uid": "11111111-2222-3333-4444-555555555555"}}
    assert key["resources"] == [{"uid": f"arn:aws:iam::{ACCOUNT}:user/bob", "name": "bob",
                                 "type": "AwsIamUser", "cloud_partition": "aws",
                                 "owner": {"account": {"uid": ACCOUNT, "type": "AWS Account",
                                                       "type_id": 10}}}]
    evidence = key["evidences"][0]
    assert evidence["actor"] == key["actor"] and evidence["src_endpoint"] == key["src_endpoint"]
    assert evidence["http_request"] == {"user_agent": "aws-cli/2.15.0"}
    assert "trailguard explain CreateAccessKey" in key["remediation"]["desc"]
    # assumed role: session issuer, name from the session
    assert stop["actor"]["user"]["type_id"] == 99 and stop["actor"]["user"]["name"] == "mallory"
    assert stop["actor"]["session"]["issuer"] == f"arn:aws:iam::{ACCOUNT}:role/Admin"
    assert stop["evidences"][0]["http_request"]["user_agent"] == XSS
    assert stop["cloud"]["region"] == "eu-west-1"
    # root, no resources, naive event time taken as UTC
    assert login["actor"]["user"]["type_id"] == 2 and login["actor"]["user"]["name"] == "root"
    assert "resources" not in login
    assert login["time"] == ms(2026, 11, 21, 22)
    assert login["finding_info"]["title"].endswith("Zoë’s 東京 office")


def test_compliance_finding_required_and_mappings(audit_full: Report, tmp_path: Path) -> None:
    events = {e["finding_info"]["analytic"]["uid"]: e for e in _load(audit_full, tmp_path)}
    for e in events.values():
        assert set(e) >= COMPLIANCE_REQUIRED
        assert (e["class_uid"], e["category_uid"], e["activity_id"], e["type_uid"]) == (
            2003, 2, 1, 200301)
        assert e["compliance"]["standards"] == ["CIS AWS Foundations Benchmark v3.0.0"]
        assert e["time"] == ms(2026, 11, 24, 8)  # observed_at
        _no_nulls(e)
    fail = events["iam_password_policy_min_length_14"]
    assert fail["compliance"] == {
        "standards": ["CIS AWS Foundations Benchmark v3.0.0"], "requirements": ["1.8"],
        "control": "iam_password_policy_min_length_14", "status_id": 3, "status": "Fail",
    }
    assert (fail["status_id"], fail["status_code"], fail["severity_id"]) == (1, "FAIL", 3)
    ok = events["iam_root_mfa_enabled"]
    assert (ok["compliance"]["status_id"], ok["status_id"], ok["severity_id"]) == (1, 4, 5)
    err = events["cloudtrail_multi_region"]
    assert (err["compliance"]["status_id"], err["compliance"]["status"]) == (99, "Error")
    assert err["compliance"]["status_detail"] == "AccessDenied on cloudtrail:DescribeTrails"
    assert err["status_detail"] == "AccessDenied on cloudtrail:DescribeTrails"
    assert len(events["iam_user_mfa_console"]["resources"]) == 5
    assert "actor" not in fail and "evidences" not in fail


def test_check_without_cis_uses_own_standard() -> None:
    e = ocsf_events(audit_report([posture(cis=[])]))[0]
    assert e["compliance"]["standards"] == ["trailguard AWS posture checks"]
    assert "requirements" not in e["compliance"]


@pytest.mark.parametrize(("sev", "sid"), [(Severity.info, 1), (Severity.low, 2),
                                          (Severity.medium, 3), (Severity.high, 4),
                                          (Severity.critical, 5)])
def test_severity_ids(sev: Severity, sid: int) -> None:
    assert ocsf_events(scan_report([detection(severity=sev)]))[0]["severity_id"] == sid


@pytest.mark.parametrize(("status", "cid", "fid"), [(Status.PASS, 1, 4), (Status.FAIL, 3, 1),
                                                    (Status.ERROR, 99, 1)])
def test_compliance_status_ids(status: Status, cid: int, fid: int) -> None:
    e = ocsf_events(audit_report([posture(status=status)]))[0]
    assert (e["compliance"]["status_id"], e["status_id"]) == (cid, fid)


def test_service_caller_and_unknown_technique() -> None:
    f = detection(mitre=["T9999"], actor=Actor(identity_type="AWSService",
                                               invoked_by="ec2.amazonaws.com",
                                               source_ip="ec2.amazonaws.com"))
    e = ocsf_events(scan_report([f]))[0]
    assert e["src_endpoint"] == {"domain": "ec2.amazonaws.com"}
    assert e["actor"]["invoked_by"] == "ec2.amazonaws.com"
    assert e["actor"]["user"]["type_id"] == 3
    assert e["finding_info"]["attacks"] == [{"technique": {"uid": "T9999"}, "version": "v16"}]


def test_mixed_and_empty(scan_full: Report, audit_full: Report, tmp_path: Path) -> None:
    mixed = scan_report([*scan_full.findings, *audit_full.findings])
    classes = [e["class_uid"] for e in _load(mixed, tmp_path)]
    assert classes == [2004] * 3 + [2003] * 4
    assert _load(scan_report([]), tmp_path) == []
