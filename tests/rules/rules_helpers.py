"""Helpers for the rule catalog tests: a minimal valid rule and its example record."""

from __future__ import annotations

RECORD = {
    "eventVersion": "1.10",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEPRINCIPAL1",
        "arn": "arn:aws:iam::111122223333:user/alice",
        "accountId": "111122223333",
        "userName": "alice",
    },
    "eventTime": "2026-11-20T09:05:12Z",
    "eventSource": "iam.amazonaws.com",
    "eventName": "DeleteAccessKey",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.7",
    "userAgent": "aws-cli/2.15.30",
    "requestParameters": {"userName": "bob", "accessKeyId": "AKIAEXAMPLEKEY000001"},
    "responseElements": None,
    "eventID": "11111111-2222-4333-8444-555555555555",
    "eventType": "AwsApiCall",
    "recipientAccountId": "111122223333",
}


def make_rule(**overrides: object) -> dict:
    """A small valid rule (as a dict) whose fields can be overridden or removed (value None)."""
    other = dict(RECORD, eventName="CreateAccessKey")
    rule: dict = {
        "title": "Test Access Key Deleted",
        "id": "0b6f3c6e-8d0a-4c55-9a51-0d3f1f0e9a01",
        "status": "test",
        "description": "test rule",
        "author": "trailguard tests",
        "date": "2026-11-24",
        "tags": ["attack.impact", "attack.t1531"],
        "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": {
            "selection": {"eventSource": "iam.amazonaws.com", "eventName": "DeleteAccessKey"},
            "condition": "selection",
        },
        "level": "medium",
        "explain": "DeleteAccessKey",
        "examples": [
            {"name": "deleted", "match": True, "event": RECORD},
            {"name": "created", "match": False, "event": other},
        ],
    }
    for key, value in overrides.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return rule
