"""Builders for the Sigma backend tests: CloudTrail rules from YAML, minimal records."""

from __future__ import annotations

from typing import Any

from sigma.rule import SigmaRule

HEADER = """
title: {title}
id: {id}
status: test
logsource:
  product: aws
  service: cloudtrail
level: medium
"""


def make_rule(detection: str, title: str = "test rule", rid: str | None = None) -> SigmaRule:
    """A CloudTrail rule with the given ``detection:`` block (YAML, indented by 2)."""
    rid = rid or "11111111-2222-4333-8444-555555555555"
    return SigmaRule.from_yaml(HEADER.format(title=title, id=rid) + "detection:\n" + detection)


def record(**kw: Any) -> dict[str, Any]:
    """A minimal CloudTrail record with overrides."""
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventTime": "2024-07-30T21:53:13Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "userIdentity": {
            "type": "IAMUser",
            "userName": "alice",
            "arn": "arn:aws:iam::123456789012:user/alice",
            "accountId": "123456789012",
        },
        "requestParameters": {"userName": "bob"},
        "readOnly": False,
        "managementEvent": True,
        "recipientAccountId": "123456789012",
    }
    rec.update(kw)
    return rec
