"""Builders for CloudTrail records and log files in every container the scanner reads."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection

ACCOUNT = "123456789012"

# A tiny rule set of our own: scan tests must not depend on the shipped rules' wording.
RULES_YAML = """
title: Test SSH Key Deleted
id: 11111111-1111-4111-8111-111111111111
status: test
description: test rule
level: high
tags:
  - attack.impact
  - attack.t1531
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: iam.amazonaws.com
    eventName: DeleteSSHPublicKey
  condition: selection
---
title: Test Trail Stopped
id: 22222222-2222-4222-8222-222222222222
status: test
level: medium
tags:
  - attack.defense_evasion
  - attack.t1562.008
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: StopLogging
  condition: selection
"""

# A third rule pinning eventName gives the detector its eventName guard, so the loader keeps
# only rows a rule can match (Detector.row_filter).
GUARDED_RULES_YAML = RULES_YAML + """
---
title: Test Key Created
status: test
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: CreateAccessKey
  condition: selection
"""

SSH_RULE_ID = "11111111-1111-4111-8111-111111111111"
TRAIL_RULE_ID = "22222222-2222-4222-8222-222222222222"


def collection() -> SigmaCollection:
    """The two test rules as a fresh pySigma collection."""
    return SigmaCollection.from_yaml(RULES_YAML)


BASE: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEALICE",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAEXAMPLEALICE",
        "userName": "alice",
    },
    "eventTime": "2026-11-20T09:05:12Z",
    "eventSource": "iam.amazonaws.com",
    "eventName": "ListUsers",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "198.51.100.24",
    "userAgent": "aws-cli/2.15.30",
    "requestParameters": None,
    "responseElements": None,
    "requestID": "76d4992b-badf-44bd-9427-c7eff78b7af0",
    "eventID": "ebf3e6f6-0000-47cf-b854-ac4e8529ea7d",
    "readOnly": True,
    "eventType": "AwsApiCall",
    "managementEvent": True,
    "recipientAccountId": ACCOUNT,
    "eventCategory": "Management",
}


def record(event_name: str = "ListUsers", n: int = 0, **fields: Any) -> dict[str, Any]:
    """A CloudTrail record; ``n`` makes eventID unique, ``fields`` override top-level keys."""
    rec = copy.deepcopy(BASE)
    rec["eventName"] = event_name
    rec["eventID"] = f"ebf3e6f6-{n:04d}-47cf-b854-ac4e8529ea7d"
    if event_name == "DeleteSSHPublicKey":
        rec["requestParameters"] = {"userName": "bob", "sSHPublicKeyId": "APKAEXAMPLEKEY"}
        rec["readOnly"] = False
    if event_name == "StopLogging":
        rec["eventSource"] = "cloudtrail.amazonaws.com"
        rec["requestParameters"] = {
            "name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"
        }
        rec["readOnly"] = False
    rec.update(fields)
    return rec


def refused_delivery_bytes(records: list[dict[str, Any]]) -> bytes:
    """A gzipped delivery file DuckDB refuses in a joined batch and Python's decoder reads.

    ``{"Records":[...],"x":[2]}`` passes the cheap ``{"Records": [...]}`` shape check (it
    starts with ``{"Records":[`` and ends with ``]}``), but the array cut out of it is not
    valid JSON, so DuckDB rejects the batch it is joined into.
    """
    text = json.dumps({"Records": records, "x": [2]}, separators=(",", ":"))
    return gzip.compress(text.encode())


def delivery_bytes(records: list[dict[str, Any]], gz: bool = True) -> bytes:
    """Records in CloudTrail's S3 delivery format (gzipped by default)."""
    body = json.dumps({"Records": records}).encode()
    return gzip.compress(body) if gz else body


def write(path: Path, data: bytes | str) -> Path:
    """Write bytes or text to ``path`` (parents created); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def delivery_key(day: str, n: int = 0, account: str = ACCOUNT, region: str = "us-east-1",
                 org: str | None = None, prefix: str = "") -> str:
    """An S3 key in CloudTrail's layout for ``day`` (YYYY-MM-DD)."""
    y, m, d = day.split("-")
    org_part = f"{org}/" if org else ""
    return (
        f"{prefix}AWSLogs/{org_part}{account}/CloudTrail/{region}/{y}/{m}/{d}/"
        f"{account}_CloudTrail_{region}_{y}{m}{d}T0905Z_{n:04d}abcd.json.gz"
    )
