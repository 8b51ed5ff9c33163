"""Account states shared by the audit and remediate tests, built through the moto server's API.

Importable as ``aws_accounts`` because pytest puts tests/ on sys.path for tests/conftest.py.
"""

from __future__ import annotations

import json

import boto3


def add_logged_trail_with_alerting(trail: str) -> None:
    """Add a logging multi-region trail ``trail`` (bucket trail-logs, log group ct), a metric
    filter on StopLogging, and an EventBridge rule ``r`` on IAM events with one SNS target."""
    boto3.client("s3").create_bucket(Bucket="trail-logs")
    boto3.client("logs").create_log_group(logGroupName="ct")
    ct = boto3.client("cloudtrail")
    ct.create_trail(Name=trail, S3BucketName="trail-logs", IsMultiRegionTrail=True,
                    CloudWatchLogsLogGroupArn="arn:aws:logs:us-east-1:123456789012:log-group:ct:*",
                    CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/ct")
    ct.start_logging(Name=trail)
    boto3.client("logs").put_metric_filter(
        logGroupName="ct", filterName="f", filterPattern="{ $.eventName = StopLogging }",
        metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}])
    ev = boto3.client("events")
    ev.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.iam"]}))
    ev.put_targets(Rule="r", Targets=[{"Id": "1", "Arn": "arn:aws:sns:us-east-1:123456789012:t"}])


def add_email_topic(name: str, region: str = "us-east-1") -> str:
    """An SNS topic ``name`` in ``region`` with an email subscriber (moto confirms it)."""
    sns = boto3.client("sns", region_name=region)
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="soc@example.com")
    return topic


def add_alert_rule(name: str, pattern: dict, topic: str, region: str = "us-east-1") -> None:
    """An EventBridge rule ``name`` in ``region`` sending events that match to ``topic``."""
    ev = boto3.client("events", region_name=region)
    ev.put_rule(Name=name, EventPattern=json.dumps(pattern))
    ev.put_targets(Rule=name, Targets=[{"Id": "sns", "Arn": topic}])
