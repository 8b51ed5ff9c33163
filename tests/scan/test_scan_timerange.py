"""--since/--until parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trailguard.scan.timerange import parse_time

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("7d", False, datetime(2026, 11, 17, 12, 0, tzinfo=UTC)),
        ("12h", False, datetime(2026, 11, 24, 0, 0, tzinfo=UTC)),
        ("90m", False, datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
        ("2w", False, datetime(2026, 11, 10, 12, 0, tzinfo=UTC)),
        ("2026-11-01", False, datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01", True, datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2026-11-01T08:30:00Z", False, datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T10:30:00+02:00", False, datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T08:30", False, datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, end: bool, expected: datetime) -> None:
    assert parse_time(text, NOW, end_of_day=end) == expected


@pytest.mark.parametrize("text", ["yesterday", "7x", "2026-13-01", ""])
def test_parse_time_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="7d"):
        parse_time(text, NOW)

