"""The Lambda handler: EventBridge and SQS events in, the scan's findings out to SNS (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realtime_helpers import ACCOUNT, MALLORY, bridge, received, record

from trailguard.realtime import handler as realtime
from trailguard.realtime.events import records_from_event


def test_another_users_key_deleted_is_published_with_attributes(topic) -> None:
    _, url = topic
    summary = realtime.handler(bridge(record("DeleteSSHPublicKey", 1)), None)
    titles = sorted(f["title"] for f in summary["findings"])
    assert titles == ["IAM Credential of Another User Deleted", "IAM SSH Public Key Deleted"]
    assert summary["records"] == 1 and summary["skipped"] == []
    messages = received(url)
    assert len(messages) == len(summary["published"]) == 2
    other = next(m for m in messages if "Another User" in m["Subject"])
    assert other["Subject"] == "[trailguard] MEDIUM: IAM Credential of Another User Deleted"
    assert other["MessageAttributes"]["severity"]["Value"] == "medium"
    assert other["MessageAttributes"]["event_name"]["Value"] == "DeleteSSHPublicKey"
    text = other["Message"]
    assert f"actor: {MALLORY} from 203.0.113.66" in text
    assert "target: bob" in text
    assert "trailguard explain DeleteSSHPublicKey" in text
    finding = json.loads(text.split("\n\n", 1)[1])
    assert finding["event_id"] == "7a1b2c3d-0000-4000-8000-000000000001"


def test_routine_events_publish_nothing_and_min_severity_holds(topic, monkeypatch) -> None:
    _, url = topic
    assert realtime.handler(bridge(record("ListUsers", 2)))["findings"] == []
    monkeypatch.setenv("TRAILGUARD_MIN_SEVERITY", "high")
    summary = realtime.handler(bridge(record("DeleteSSHPublicKey", 3)))  # medium findings
    assert len(summary["findings"]) == 2 and summary["published"] == []
    stop = record("StopLogging", 4, eventSource="cloudtrail.amazonaws.com",
                   requestParameters={"name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"})
    summary = realtime.handler(bridge(stop))
    severities = sorted(m["MessageAttributes"]["severity"]["Value"] for m in received(url))
    assert len(severities) == len(summary["published"]) >= 1
    assert set(severities) <= {"high", "critical"} and "critical" in severities


def test_sqs_batch_runs_correlations_within_the_invocation(topic) -> None:
    deletions = [record("DeleteSSHPublicKey", n) for n in range(5)]
    event = {"Records": [
        {"messageId": f"m{n}", "eventSource": "aws:sqs", "body": json.dumps(bridge(r))}
        for n, r in enumerate(deletions)
    ] + [{"messageId": "bad", "eventSource": "aws:sqs", "body": "{not json"}]}
    summary = realtime.handler(event)
    assert summary["records"] == 5
    assert summary["skipped"] == ["SQS message bad: body is not JSON"]
    burst = [f for f in summary["findings"] if f["title"].startswith("Burst")]
    assert len(burst) == 1 and burst[0]["count"] == 5


def test_filters_apply_in_real_time_too(topic, monkeypatch, tmp_path: Path) -> None:
    flt = tmp_path / "mallory.yml"
    flt.write_text(f"""
title: Ops automation cleans SSH keys
logsource: {{product: aws, service: cloudtrail}}
filter:
  rules: [tg_iam_delete_ssh_public_key, tg_other_user_credential_deleted]
  ops:
    userIdentity.arn: '{MALLORY}'
  condition: not ops
""")
    monkeypatch.setenv("TRAILGUARD_FILTERS", str(flt))
    summary = realtime.handler(bridge(record("DeleteSSHPublicKey", 4)))
    assert summary["findings"] == [] and summary["published"] == []
    assert summary["matches_dropped_by_filters"] == 2


def test_input_that_is_not_cloudtrail_is_reported_not_raised(topic) -> None:
    _, url = topic
    summary = realtime.handler({"detail-type": "Scheduled Event", "detail": {}})
    assert summary["records"] == 0 and summary["findings"] == []
    assert summary["skipped"][0].startswith("event: no CloudTrail fields")
    assert received(url) == []
    records, skipped = records_from_event([bridge(record("ListUsers", 5)), "text", 7])
    assert len(records) == 1
    assert skipped == ["item 1: not a JSON object (str)", "item 2: not a JSON object (int)"]


def test_a_bad_topic_setting_fails_loudly(aws, monkeypatch) -> None:
    monkeypatch.setenv("TRAILGUARD_TOPIC_ARN", "trailguard-findings")
    with pytest.raises(ValueError, match="not an SNS topic ARN"):
        realtime.handler(bridge(record("DeleteSSHPublicKey", 6)))
