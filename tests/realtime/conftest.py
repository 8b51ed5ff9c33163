"""Real-time tests keep the compiled-rule cache in a temporary folder, never in the home."""

from __future__ import annotations

import boto3
import pytest


@pytest.fixture(autouse=True)
def _rule_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRAILGUARD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tg-cache"))


@pytest.fixture()
def topic(aws: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed, set as the function's topic."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    arn = sns.create_topic(Name="trailguard-findings")["TopicArn"]
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    monkeypatch.setenv("TRAILGUARD_TOPIC_ARN", arn)
    return arn, url
