"""CloudTrail records, EventBridge envelopes and SQS reads for the real-time tests."""

from __future__ import annotations

import json
from typing import Any

import boto3

ACCOUNT = "111122223333"
MALLORY = f"arn:aws:sts::{ACCOUNT}:assumed-role/OpsAutomation/mallory"


def record(name: str, n: int, **kw: Any) -> dict[str, Any]:
    """A CloudTrail IAM record by mallory; ``n`` makes time and event id unique."""
    rec = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": MALLORY, "accountId": ACCOUNT,
                         "principalId": "AROAEXAMPLE:mallory", "accessKeyId": "ASIAEXAMPLE"},
        "eventTime": f"2026-11-20T10:{n:02d}:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.66",
        "userAgent": "aws-cli/2.15.30",
        "requestParameters": {"userName": "bob", "sSHPublicKeyId": f"APKAEXAMPLE{n:04d}"},
        "responseElements": None,
        "eventID": f"7a1b2c3d-0000-4000-8000-{n:012d}",
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    rec.update(kw)
    return rec


def bridge(rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` as EventBridge delivers it."""
    return {"version": "0", "id": "e1", "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.iam", "account": ACCOUNT, "time": rec["eventTime"],
            "region": "us-east-1", "resources": [], "detail": rec}


def received(url: str) -> list[dict[str, Any]]:
    """Every message waiting in the queue at ``url`` (SNS notifications), deleted."""
    sqs = boto3.client("sqs")
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        out += [json.loads(m["Body"]) for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
