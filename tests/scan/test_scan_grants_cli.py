"""`trailguard scan` end to end: findings of access-granting events name the grantees."""

from __future__ import annotations

import json
from pathlib import Path

from scan_helpers import ACCOUNT, delivery_bytes, record, write
from typer.testing import CliRunner

from trailguard.cli import app

SHARE_RULE = "77777777-7777-4777-8777-777777777777"
POLICY_RULE = "88888888-8888-4888-8888-888888888888"
RULES = f"""
title: Test Snapshot Shared
id: {SHARE_RULE}
status: test
level: high
logsource: {{product: aws, service: cloudtrail}}
detection:
  selection: {{eventSource: ec2.amazonaws.com, eventName: ModifySnapshotAttribute}}
  condition: selection
---
title: Test Bucket Policy Written
id: {POLICY_RULE}
status: test
level: medium
logsource: {{product: aws, service: cloudtrail}}
detection:
  selection: {{eventSource: s3.amazonaws.com, eventName: PutBucketPolicy}}
  condition: selection
"""


def _share(n: int, account: str) -> dict:
    return record("ModifySnapshotAttribute", n, eventSource="ec2.amazonaws.com",
                  eventTime=f"2026-11-20T09:0{n}:00Z", requestParameters={
                      "snapshotId": "snap-0a1b2c3d4e5f60718",
                      "attributeType": "CREATE_VOLUME_PERMISSION",
                      "createVolumePermission": {"add": {"items": [{"userId": account}]}}},
                  responseElements={"requestId": "1587e777-1158-4938-bd51-c5dd53d8a4e6",
                                    "_return": True})


def _vpce_policy(n: int) -> dict:
    return record("PutBucketPolicy", n, eventSource="s3.amazonaws.com", requestParameters={
        "bucketPolicy": {"Version": "2012-10-17", "Statement": [{
            "Sid": "ReadThroughEndpoint", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-app-data/*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]},
        "bucketName": "example-app-data",
        "Host": "example-app-data.s3.us-east-1.amazonaws.com", "policy": ""})


def _scan(tmp_path: Path, fmt: str) -> str:
    rules = write(tmp_path / "rules" / "grants.yml", RULES).parent
    logs = tmp_path / "logs" / "a.json.gz"
    if not logs.exists():
        write(logs, delivery_bytes([_share(1, "999988887777"), _share(2, "444455556666"),
                                    _share(3, "999988887777"), _vpce_policy(4)]))
    out = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(app, ["scan", str(logs.parent), "--rules", str(rules),
                                      "-f", fmt, "-o", str(out)])
    assert result.exit_code == 1, result.output
    return out.read_text()


def test_json_report_names_grantees_and_conditions(tmp_path: Path) -> None:
    findings = json.loads(_scan(tmp_path, "json"))["findings"]
    shares = [f for f in findings if f["rule_id"] == SHARE_RULE]
    assert sorted((f["resources"][0]["details"]["granted_to"], f["count"]) for f in shares) == [
        (["444455556666"], 1), (["999988887777"], 2)]
    assert all(f["resources"][0]["details"]["outside_account"] is True for f in shares)
    assert all(f["resources"][0]["id"] == "snap-0a1b2c3d4e5f60718" for f in shares)
    (policy,) = [f for f in findings if f["rule_id"] == POLICY_RULE]
    assert policy["resources"][0]["type"] == "AwsS3Bucket"
    assert policy["resources"][0]["details"] == {
        "granted_to": ["everyone"], "public": True, "conditions": ["aws:SourceVpce"]}
    assert policy["account_id"] == ACCOUNT


def test_table_csv_and_html_say_granted_to(tmp_path: Path) -> None:
    table = _scan(tmp_path, "table")  # the Target cell wraps: its second line starts so
    assert "granted to 999988887777 (outside" in table
    assert "granted to 444455556666 (outside" in table
    assert "granted to everyone (public, limited" in table
    csv_text = _scan(tmp_path, "csv")
    assert csv_text.splitlines()[0].endswith(",granted_to")
    assert "everyone (public, limited by aws:SourceVpce)" in csv_text
    html = _scan(tmp_path, "html")
    assert "granted to everyone (public, limited by aws:SourceVpce)" in html


def test_shipped_rules_report_public_bypasses_and_own_account_shares(tmp_path: Path) -> None:
    """QA's bypasses with the shipped rules: "*" second in the list, a TLS-only Condition
    between Effect and Principal, and a snapshot "shared" with its own account."""
    listed = _vpce_policy(1)
    listed["requestParameters"]["bucketPolicy"]["Statement"] = [{
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-app-data/*",
        "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]}}]
    tls = _vpce_policy(2)
    tls["requestParameters"]["bucketPolicy"]["Statement"] = [{
        "Effect": "Allow", "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::example-app-data/*"}]
    logs = write(tmp_path / "logs" / "a.json.gz", delivery_bytes([listed, tls, _share(3, ACCOUNT)]))
    out = tmp_path / "report.csv"
    result = CliRunner().invoke(app, ["scan", str(logs), "-f", "csv", "-o", str(out)])
    assert result.exit_code == 1, result.output
    rows = out.read_text()
    public = [line for line in rows.splitlines() if "S3 Bucket Policy Grants Public Access" in line]
    assert len(public) == 2
    assert any(f"everyone (public), arn:aws:iam::{ACCOUNT}:root" in line for line in public)
    assert any("everyone (public; conditions aws:SecureTransport do not limit who)" in line
               for line in public)
    assert f"{ACCOUNT} (own account only)" in rows
