"""LookupEvents: pagination, throttling and rate limiting, on botocore's Stubber.

moto does not implement ``lookup_events`` (HTTP 500), so these tests use botocore's Stubber
with responses in the real API shape (validated by the Stubber against the service model).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber
from scan_helpers import SSH_RULE_ID, collection, record

from trailguard.aws import make_client, make_session
from trailguard.scan.engine import Scanner
from trailguard.scan.lookup import RateLimiter, lookup_pages, scan_lookup
from trailguard.sigma import Detector

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 20, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def _event(rec: dict) -> dict:
    return {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": "false",
        "AccessKeyId": "AKIAEXAMPLEALICE",
        "EventTime": datetime(2026, 11, 20, 9, 5, 12, tzinfo=UTC),
        "EventSource": rec["eventSource"],
        "Username": "alice",
        "Resources": [{"ResourceType": "AWS::IAM::User", "ResourceName": "bob"}],
        "CloudTrailEvent": json.dumps(rec),
    }


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return make_client(make_session(region="us-east-1"), "cloudtrail")


def _params(token: str | None = None) -> dict:
    p = {"StartTime": START, "EndTime": END, "MaxResults": 50}
    if token:
        p["NextToken"] = token
    return p


def test_pages_throttling_and_rate_limit(client) -> None:
    clock = FakeClock()
    with Stubber(client) as stub:
        stub.add_response(
            "lookup_events",
            {"Events": [_event(record("DeleteSSHPublicKey", 1))], "NextToken": "t1"},
            _params(),
        )
        stub.add_client_error(
            "lookup_events", service_error_code="ThrottlingException",
            service_message="Rate exceeded", http_status_code=400,
            expected_params=_params("t1"),
        )
        stub.add_response(
            "lookup_events",
            {"Events": [_event(record("DeleteSSHPublicKey", 2)),
                        {"EventId": "broken", "CloudTrailEvent": "{not json"}]},
            _params("t1"),
        )
        scanner = Scanner(Detector(collection()))
        scan_lookup(scanner, client, START, END, "lookup:us-east-1",
                    limiter=RateLimiter(2.0, clock, clock.sleep), sleep=clock.sleep)
        stub.assert_no_pending_responses()
    findings = scanner.finish()
    assert scanner.stats.api_calls == 3
    assert scanner.stats.events == 2
    assert findings[0].rule_id == SSH_RULE_ID and findings[0].count == 2
    assert scanner.stats.records_skipped == 1
    assert scanner.stats.skipped[0].source == "lookup:us-east-1#broken"
    assert "not valid JSON" in scanner.stats.skipped[0].reason
    # One backoff after the throttle; the limiter keeps calls >= 0.5 s apart.
    backoff = [s for s in clock.sleeps if s != 0.5]
    assert len(backoff) == 1 and 0.5 <= backoff[0] <= 1.0
    assert clock.sleeps.count(0.5) >= 1


def test_access_denied_is_reported_not_raised(client) -> None:
    clock = FakeClock()
    with Stubber(client) as stub:
        stub.add_client_error("lookup_events", service_error_code="AccessDeniedException",
                              service_message="no cloudtrail:LookupEvents",
                              http_status_code=400)
        scanner = Scanner(Detector(collection()))
        scan_lookup(scanner, client, START, END, "lookup:us-east-1",
                    limiter=RateLimiter(2.0, clock, clock.sleep), sleep=clock.sleep)
    assert scanner.stats.files_skipped == 1
    assert "AccessDeniedException" in scanner.stats.skipped[0].reason


def test_throttling_that_never_ends_gives_up(client) -> None:
    clock = FakeClock()
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_client_error("lookup_events", service_error_code="ThrottlingException",
                                  http_status_code=400)
        pages = lookup_pages(client, START, END, limiter=RateLimiter(2.0, clock, clock.sleep),
                             max_retries=2, sleep=clock.sleep)
        with pytest.raises(Exception, match="ThrottlingException"):
            list(pages)
    assert len([s for s in clock.sleeps if s != 0.5]) == 2


def test_rate_limiter_spaces_calls() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock, clock.sleep)
    for _ in range(4):
        limiter.wait()
    assert clock.sleeps == [0.5, 0.5, 0.5]
    clock.now += 10
    limiter.wait()
    assert clock.sleeps == [0.5, 0.5, 0.5]
