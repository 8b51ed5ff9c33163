"""`trailguard rules event-pattern`: an EventBridge pattern with exactly the rules' events."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.detection import event_pattern
from trailguard.detection.catalog import load_rules
from trailguard.detection.event_pattern import MAX_PATTERN_CHARS, event_patterns

runner = CliRunner()


def test_pattern_delivers_rule_events_and_nothing_else(aws) -> None:
    result = runner.invoke(app, ["rules", "event-pattern"])
    assert result.exit_code == 0, result.output
    text = result.stdout.strip()
    assert "\n" not in text and len(text) <= MAX_PATTERN_CHARS  # what is printed is what fits
    pattern = json.loads(text)
    assert pattern["source"] == [{"prefix": "aws."}]
    names = pattern["detail"]["eventName"]
    assert {"StopLogging", "DeleteSSHPublicKey", "ConsoleLogin", "CreateAccessKey"} <= set(names)
    assert names == sorted(set(names))
    # moto routes put_events through the rule's pattern to an SQS target
    events, sqs = boto3.client("events"), boto3.client("sqs")
    url = sqs.create_queue(QueueName="realtime")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    events.put_rule(Name="trailguard-realtime", EventPattern=text)
    events.put_targets(Rule="trailguard-realtime", Targets=[{"Id": "fn", "Arn": arn}])
    # (moto lets PutEvents use aws.* sources; AWS refuses them, so only services can send them)
    for source, name, detail_type in (
        ("aws.cloudtrail", "StopLogging", "AWS API Call via CloudTrail"),
        ("aws.signin", "ConsoleLogin", "AWS Console Sign In via CloudTrail"),
        ("aws.iam", "ListUsers", "AWS API Call via CloudTrail"),
        ("aws.ec2", "DescribeInstances", "AWS API Call via CloudTrail"),
        # a forged "CloudTrail" event sent with PutEvents under a custom source
        ("my.app", "DeleteSSHPublicKey", "AWS API Call via CloudTrail"),
        ("awsx.iam", "CreateAccessKey", "AWS API Call via CloudTrail"),
    ):
        events.put_events(Entries=[{"Source": source, "DetailType": detail_type,
                                    "Detail": json.dumps({"eventName": name})}])
    got = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        got += [json.loads(m["Body"])["detail"]["eventName"] for m in msgs]
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(got) == ["ConsoleLogin", "StopLogging"]


def test_a_rule_without_event_name_widens_the_pattern_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "any.yml").write_text("""
title: Any call from a Tor exit
id: 8a9b0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    sourceIPAddress|cidr: 198.51.100.0/24
  condition: sel
level: high
""")
    result = runner.invoke(app, ["rules", "event-pattern", "--rules-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "detail" not in json.loads(result.stdout)
    assert "not narrowed to event names: Any call from a Tor exit" in " ".join(
        result.stderr.split())


def test_many_events_are_split_into_patterns_within_the_limit(monkeypatch) -> None:
    catalog = load_rules()
    detection = next(i for i in catalog.rules if i.kind == "detection")
    monkeypatch.setattr(detection, "event_names",
                        [f"PutWidget{n:04d}Configuration" for n in range(400)])
    patterns, unpinned = event_patterns(catalog)
    assert unpinned == [] and len(patterns) > 1
    assert all(len(json.dumps(p, separators=(",", ":"))) <= MAX_PATTERN_CHARS for p in patterns)
    spread = [n for p in patterns for n in p["detail"]["eventName"]]
    assert len(spread) == len(set(spread)) and "PutWidget0399Configuration" in spread
    assert "StopLogging" in spread


def test_split_patterns_print_as_a_list_one_compact_pattern_a_line(monkeypatch) -> None:
    whole = json.loads(runner.invoke(app, ["rules", "event-pattern"]).stdout)
    monkeypatch.setattr(event_pattern, "MAX_PATTERN_CHARS", 700)
    result = runner.invoke(app, ["rules", "event-pattern"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) > 3
    patterns = json.loads(result.stdout)
    assert len(patterns) == len(lines) - 2
    for line, pattern in zip(lines[1:-1], patterns, strict=True):
        assert len(line.rstrip(",")) <= 700 and json.loads(line.rstrip(",")) == pattern
        assert pattern["source"] == [{"prefix": "aws."}]
        assert pattern["detail-type"] == whole["detail-type"]
    spread = [n for p in patterns for n in p["detail"]["eventName"]]
    assert spread == whole["detail"]["eventName"]
