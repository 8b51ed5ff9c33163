"""What the function can be invoked with (moto SNS/SQS), its settings, and hostile input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from realtime_helpers import ACCOUNT, bridge, received, record

from trailguard.realtime import handler as realtime
from trailguard.realtime.config import load_config
from trailguard.realtime.events import (
    DEEP_PLACEHOLDER,
    MAX_DEPTH,
    MAX_ENVELOPES,
    records_from_event,
)

SSH_TITLES = ["IAM Credential of Another User Deleted", "IAM SSH Public Key Deleted"]
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _titles(summary: dict[str, Any]) -> list[str]:
    return sorted(f["title"] for f in summary["findings"])


def _sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda event an SQS event source mapping makes of received messages."""
    return {"Records": [{"messageId": m["MessageId"], "eventSource": "aws:sqs",
                         "body": m["Body"]} for m in messages]}


def _via_sns_to_sqs(payloads: list[str], raw: bool = False) -> list[dict[str, Any]]:
    """Publish ``payloads`` to an SNS topic (as an EventBridge rule would) and receive them
    from the SQS queue subscribed to it, as the function's event source mapping would."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    arn = sns.create_topic(Name="cloudtrail-events")["TopicArn"]
    url = sqs.create_queue(QueueName="function-queue")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    if raw:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                        AttributeValue="true")
    for payload in payloads:
        sns.publish(TopicArn=arn, Message=payload)
    got: list[dict[str, Any]] = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        got += msgs
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert len(got) == len(payloads)
    return got


# --------------------------------------------------------------------------- envelopes


def test_cloudtrail_delivery_document_is_read(topic) -> None:
    s3_note = {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}
    event = {"Records": [record("DeleteSSHPublicKey", 1), s3_note]}
    summary = realtime.handler(event)
    assert summary["records"] == 1 and _titles(summary) == SSH_TITLES
    assert summary["skipped"] == [
        "record 1: not a CloudTrail record (eventSource 'aws:s3': an S3/SQS event notification)"
    ]
    assert len(received(topic[1])) == 2


@pytest.mark.parametrize("raw", [False, True])
def test_eventbridge_to_sns_to_sqs_is_unwrapped(topic, raw: bool) -> None:
    messages = _via_sns_to_sqs(
        [json.dumps(bridge(record("DeleteSSHPublicKey", n))) for n in (1, 2)] + ["{oops"],
        raw=raw,
    )
    if not raw:
        assert json.loads(messages[0]["Body"])["Type"] == "Notification"  # SNS envelope
    summary = realtime.handler(_sqs_event(messages))
    assert summary["records"] == 2 and _titles(summary) == sorted(SSH_TITLES * 2)
    (bad,) = summary["skipped"]
    bad_id = messages[2]["MessageId"]
    assert bad.startswith(f"SQS message {bad_id}") and bad.endswith("is not JSON")
    assert len(received(topic[1])) == 4


def test_sns_invoking_the_function_directly_is_unwrapped(topic) -> None:
    # the "Sns" member of SNS's Lambda event is the notification SNS delivers to SQS
    (note,) = _via_sns_to_sqs([json.dumps(bridge(record("DeleteSSHPublicKey", 3)))])
    envelope = json.loads(note["Body"])
    event = {"Records": [
        {"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": envelope},
        {"EventSource": "aws:sns", "Sns": {**envelope, "MessageId": "m-text",
                                           "Message": "plain text"}},
        {"EventSource": "aws:sns", "Sns": {"MessageId": "m-none"}},
    ]}
    summary = realtime.handler(event)
    assert summary["records"] == 1 and _titles(summary) == SSH_TITLES
    assert summary["skipped"] == ["SNS message m-text: Message is not JSON",
                                  "SNS message m-none: Message is missing or empty"]


def test_envelopes_nested_without_end_are_not_followed_forever() -> None:
    event: Any = bridge(record("ListUsers", 1))
    for n in range(MAX_ENVELOPES + 3):  # (each level escapes the one inside: keep it small)
        event = {"Type": "Notification", "MessageId": f"n{n}", "Message": json.dumps(event)}
    records, skipped = records_from_event(event)
    assert records == [] and len(skipped) == 1
    assert skipped[0].endswith("no CloudTrail fields (eventName, eventSource, eventTime, "
                               "userIdentity ...)")


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize("value", ["urgent", "5", "med"])
def test_a_bad_min_severity_fails_on_the_first_invocation(aws, monkeypatch, value) -> None:
    monkeypatch.setenv("TRAILGUARD_MIN_SEVERITY", value)
    with pytest.raises(ValueError) as err:
        realtime.handler({"Records": []})  # nothing to scan: the setting is still checked
    assert str(err.value) == (f"TRAILGUARD_MIN_SEVERITY is not a severity: {value!r} (allowed: "
                              "info, low, medium, high, critical; default medium)")


@pytest.mark.parametrize("value", [
    "trailguard-findings",
    "arn:aws:sqs:us-east-1:111122223333:trailguard-findings",
    "arn:aws:sns:us-east-1:1111:trailguard-findings",
    "arn:aws:sns::111122223333:trailguard-findings",
    "arn:aws:sns:us-east-1:111122223333:bad name",
])
def test_a_bad_topic_fails_before_any_finding(aws, monkeypatch, value) -> None:
    monkeypatch.setenv("TRAILGUARD_TOPIC_ARN", value)
    with pytest.raises(ValueError, match=r"^TRAILGUARD_TOPIC_ARN is not an SNS topic ARN: .*"
                       r"allowed: arn:aws:sns:<region>:<12-digit account>:<topic name>"):
        realtime.handler(bridge(record("ListUsers", 1)))  # routine: no finding to publish


def test_missing_rule_and_filter_paths_fail_loudly(aws, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRAILGUARD_RULES", f"{tmp_path}:/var/task/no-such-rules")
    with pytest.raises(ValueError, match=r"^TRAILGUARD_RULES: no such file or folder: "
                       r"'/var/task/no-such-rules' \(allowed: folders of Sigma rules"):
        realtime.handler({})
    monkeypatch.delenv("TRAILGUARD_RULES")
    monkeypatch.setenv("TRAILGUARD_FILTERS", "filters.yml")
    with pytest.raises(ValueError, match="^TRAILGUARD_FILTERS: no such file or folder"):
        realtime.handler({})


def test_good_settings_are_read() -> None:
    config = load_config({
        "TRAILGUARD_TOPIC_ARN": " arn:aws-us-gov:sns:us-gov-west-1:111122223333:tg.fifo ",
        "TRAILGUARD_MIN_SEVERITY": " HIGH ",
    })
    assert config.topic_arn == "arn:aws-us-gov:sns:us-gov-west-1:111122223333:tg.fifo"
    assert config.region == "us-gov-west-1" and config.min_severity.value == "high"
    assert load_config({"TRAILGUARD_TOPIC_ARN": "", "TRAILGUARD_MIN_SEVERITY": ""}) == (
        load_config({}))
    assert load_config({}).topic_arn is None and load_config({}).min_severity.value == "medium"
    cn = load_config({"TRAILGUARD_TOPIC_ARN": "arn:aws-cn:sns:cn-north-1:111122223333:t_1"})
    assert cn.region == "cn-north-1"


# --------------------------------------------------------------------------- hostile input


def _nested(levels: int) -> Any:
    value: Any = "bottom"
    for n in range(levels):
        value = {"a": value} if n % 2 else [value]
    return value


def test_deeply_nested_values_are_left_out_and_the_record_still_scanned(topic) -> None:
    rec = record("DeleteSSHPublicKey", 5)
    rec["requestParameters"]["policy"] = _nested(5000)
    rec["additionalEventData"] = {"x": _nested(300)}
    summary = realtime.handler(bridge(rec))
    assert _titles(summary) == SSH_TITLES
    assert summary["skipped"] == [f"event: 2 value(s) nested deeper than {MAX_DEPTH} levels "
                                  "left out (the rest of the record was scanned)"]
    (loaded,), _ = records_from_event(bridge(rec))
    value, depth = loaded["requestParameters"]["policy"], 2
    while isinstance(value, (list, dict)):
        value = value[0] if isinstance(value, list) else value["a"]
        depth += 1
    assert value == DEEP_PLACEHOLDER and depth == MAX_DEPTH


def test_deeply_nested_sqs_bodies_are_reported_or_scanned_never_raised(topic) -> None:
    rec = record("DeleteSSHPublicKey", 6)
    rec["requestParameters"]["policy"] = "@@"
    deep_text = json.dumps(bridge(rec)).replace('"@@"', "[" * 3000 + "1" + "]" * 3000)
    event = {"Records": [
        {"messageId": "deep-record", "eventSource": "aws:sqs", "body": deep_text},
        {"messageId": "deep-list", "eventSource": "aws:sqs", "body": "[" * 5000 + "]" * 5000},
        {"messageId": "deep-broken", "eventSource": "aws:sqs", "body": "[" * 5000},
    ]}
    summary = realtime.handler(event)
    assert summary["records"] == 1 and _titles(summary) == SSH_TITLES
    assert summary["skipped"] == [
        "SQS message deep-list: not a JSON object (list)",
        "SQS message deep-broken: body is not JSON",
    ]


def test_integers_beyond_64_bits_do_not_break_the_batch(topic) -> None:
    rec = record("DeleteSSHPublicKey", 7)
    rec["requestParameters"]["size"] = 10**30
    summary = realtime.handler([bridge(rec), bridge(record("StopLogging", 8))])
    assert summary["records"] == 2 and summary["skipped"] == []
    assert set(SSH_TITLES) <= set(_titles(summary))


def test_a_secret_in_the_user_agent_is_not_published(topic) -> None:
    agent = f"aws-cli/2.15.30 Python/3.11.8 {SECRET_KEY}"
    summary = realtime.handler(bridge(record("DeleteSSHPublicKey", 9, userAgent=agent)))
    messages = received(topic[1])
    assert len(messages) == len(summary["published"]) == 2
    for m in messages:
        assert SECRET_KEY not in m["Message"]
        finding = json.loads(m["Message"].split("\n\n", 1)[1])
        assert finding["actor"]["user_agent"] == "aws-cli/2.15.30 Python/3.11.8 <redacted>"
    assert SECRET_KEY not in json.dumps(summary)
    assert ACCOUNT in messages[0]["Message"]
