"""S3: CloudTrail's delivery layout in a moto bucket, walked through the product's boto3 client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from scan_helpers import TRAIL_RULE_ID, collection, delivery_bytes, delivery_key, record

from trailguard.aws import make_client, make_session
from trailguard.scan.engine import Scanner
from trailguard.scan.s3source import S3Walker
from trailguard.sigma import Detector

BUCKET = "trail-logs"
ORG = "o-abc123def4"
OTHER = "111122223333"


def _put(s3: Any, key: str, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)


@pytest.fixture()
def bucket(aws: str) -> Any:
    """A bucket holding a normal trail, an organization trail, digests and noise."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    days = ["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03"]
    for n, day in enumerate(days):
        rec = record("StopLogging", n, eventTime=f"{day}T10:00:00Z")
        _put(s3, delivery_key(day, n), delivery_bytes([rec]))
        _put(s3, delivery_key(day, n, region="eu-west-1"),
             delivery_bytes([record("StopLogging", 10 + n, eventTime=f"{day}T10:00:00Z",
                                    awsRegion="eu-west-1")]))
        _put(s3, delivery_key(day, n, account=OTHER, org=ORG),
             delivery_bytes([record("StopLogging", 20 + n, eventTime=f"{day}T10:00:00Z",
                                    recipientAccountId=OTHER)]))
    _put(s3, "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/02/digest.json.gz",
         b"{}")
    _put(s3, "unrelated/big/listing/file.txt", b"not part of any trail")
    return s3


def _walker(**kw: Any) -> tuple[S3Walker, list[dict[str, Any]]]:
    """A walker on the product's own client, with every ListObjectsV2 call recorded."""
    client = make_client(make_session(), "s3")
    calls: list[dict[str, Any]] = []

    def record_call(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register("before-parameter-build.s3.ListObjectsV2", record_call)
    url = kw.pop("url", f"s3://{BUCKET}")
    return S3Walker(client, url, **kw), calls


def test_walks_normal_and_organization_layouts(bucket: Any) -> None:
    walker, _ = _walker()
    keys = [obj.key for obj in walker]
    assert len(keys) == 12
    assert any(f"AWSLogs/{ORG}/{OTHER}/CloudTrail/us-east-1/2026/11/01/" in k for k in keys)
    assert not any("Digest" in k or k.startswith("unrelated/") for k in keys)


def test_only_dated_prefixes_in_the_window_are_listed(bucket: Any) -> None:
    walker, calls = _walker(
        since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 11, 2, 22, tzinfo=UTC)
    )
    keys = [obj.key for obj in walker]
    assert len(keys) == 6  # 2 days x (2 regions + 1 org account)
    full = [c["Prefix"] for c in calls if "Delimiter" not in c]
    assert sorted(full) == sorted(
        f"{base}/2026/11/{d}/"
        for d in ("01", "02")
        for base in (
            "AWSLogs/123456789012/CloudTrail/us-east-1",
            "AWSLogs/123456789012/CloudTrail/eu-west-1",
            f"AWSLogs/{ORG}/{OTHER}/CloudTrail/us-east-1",
        )
    )
    # Every other call is a one-level Delimiter listing, never a bucket-wide listing.
    assert all(c.get("Delimiter") == "/" for c in calls if c["Prefix"] not in full)
    assert not any(c["Prefix"] in ("", "AWSLogs/") and "Delimiter" not in c for c in calls)
    assert not any(c["Prefix"].endswith("/2026/10/31/") for c in calls)


def test_a_window_ending_near_midnight_lists_the_next_day_too(aws: str) -> None:
    """An event at 23:58 is delivered after midnight, under the next day's folder."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    late = record("StopLogging", 1, eventTime="2026-11-02T23:58:00Z")
    _put(s3, delivery_key("2026-11-03", 1), delivery_bytes([late]))
    _put(s3, delivery_key("2026-11-04", 2), delivery_bytes([record("StopLogging", 2)]))
    walker, calls = _walker(since=datetime(2026, 11, 2, tzinfo=UTC),
                            until=datetime(2026, 11, 2, 23, 59, 59, tzinfo=UTC))
    scanner = Scanner(Detector(collection()), since=walker.since, until=walker.until)
    scanner.scan_inputs(walker, walker.url)
    findings = scanner.finish()
    assert scanner.stats.events == 1 and sum(f.count for f in findings) == 1
    assert not any(c["Prefix"].endswith("/2026/11/04/") for c in calls)


def test_account_and_region_filters_skip_listing(bucket: Any) -> None:
    walker, calls = _walker(accounts=frozenset({OTHER}), regions=frozenset({"us-east-1"}))
    keys = [obj.key for obj in walker]
    assert len(keys) == 4 and all(f"/{OTHER}/" in k for k in keys)
    prefixes = [c["Prefix"] for c in calls]
    assert "AWSLogs/123456789012/CloudTrail/" not in prefixes  # account not wanted
    assert f"AWSLogs/{ORG}/{OTHER}/CloudTrail/" not in prefixes  # region given: not listed


def test_prefix_deep_in_the_layout(bucket: Any) -> None:
    walker, _ = _walker(url=f"s3://{BUCKET}/AWSLogs/{ORG}/{OTHER}/CloudTrail/us-east-1/2026/11/")
    assert len(list(walker)) == 3


def test_trail_prefix_before_awslogs(aws: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    _put(s3, delivery_key("2026-11-01", prefix="prod/"), delivery_bytes([record()]))
    walker, _ = _walker()
    assert [o.key for o in walker] == [delivery_key("2026-11-01", prefix="prod/")]


def test_scanner_streams_objects_and_isolates_bad_ones(bucket: Any) -> None:
    _put(bucket, delivery_key("2026-11-02", 99), b"\x1f\x8b\x08\x00broken-object")
    walker, _ = _walker(since=datetime(2026, 11, 2, tzinfo=UTC),
                        until=datetime(2026, 11, 2, 22, tzinfo=UTC))
    scanner = Scanner(Detector(collection()))
    scanner.scan_inputs(walker, walker.url)
    findings = scanner.finish()
    assert scanner.stats.files_read == 3
    assert scanner.stats.events == 3
    # The good objects went through DuckDB from memory (no Python decoding); the broken one
    # was recognised from its first bytes.
    assert scanner.stats.fallback_files == 0
    assert [s.source for s in scanner.stats.skipped] == [
        f"s3://{BUCKET}/{delivery_key('2026-11-02', 99)}"]
    assert {f.rule_id for f in findings} == {TRAIL_RULE_ID}
    assert sum(f.count for f in findings) == 3


def test_missing_bucket_is_reported(aws: str) -> None:
    walker, _ = _walker(url="s3://no-such-bucket/")
    scanner = Scanner(Detector(collection()))
    scanner.scan_inputs(walker, walker.url)
    assert scanner.stats.files_skipped == 1
    assert "NoSuchBucket" in scanner.stats.skipped[0].reason
