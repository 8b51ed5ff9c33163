"""Which delivery days a --since/--until window needs (S3 listing and local mirrors)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from trailguard.scan.layout import delivery_day, outside_window, window_days

KEY = "AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2026/11/03/f.json.gz"


def test_delivery_day_of_keys_and_paths() -> None:
    assert delivery_day(KEY) == date(2026, 11, 3)
    assert delivery_day("/data/" + KEY.replace("o-abc123def4/", "")) == date(2026, 11, 3)
    assert delivery_day("AWSLogs/1/CloudTrail-Digest/eu-west-1/2026/11/03/d.json.gz") is None
    assert delivery_day("logs/2026/11/03/f.json.gz") is None  # not CloudTrail's layout
    assert delivery_day("AWSLogs/1/CloudTrail/r/2026/13/03/f.json.gz") is None  # no month 13


def test_window_days_include_the_delivery_lag_after_until() -> None:
    since = datetime(2026, 11, 2, tzinfo=UTC)
    assert window_days(since, datetime(2026, 11, 2, 22, tzinfo=UTC))[1] == date(2026, 11, 2)
    assert window_days(since, datetime(2026, 11, 2, 23, 30, tzinfo=UTC))[1] == date(2026, 11, 3)
    assert window_days(None, None) == (date.min, date.max)


def test_outside_window() -> None:
    until = datetime(2026, 11, 2, 23, 59, 59, tzinfo=UTC)
    assert not outside_window(KEY, datetime(2026, 11, 2, tzinfo=UTC), until)  # lag: 11-03
    assert outside_window(KEY, datetime(2026, 11, 4, tzinfo=UTC), None)
    assert not outside_window(KEY, None, None)
    assert not outside_window("notes/f.json", datetime(2030, 1, 1, tzinfo=UTC), None)
