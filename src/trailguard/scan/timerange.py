"""Parse ``--since``/``--until``: ISO dates and times, or relative ages such as ``7d``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime | None = None, end_of_day: bool = False) -> datetime:
    """Return an aware UTC datetime for an ISO date/time or a relative age (``90m``, ``7d``).

    A bare date means its first second, or its last when ``end_of_day`` (for ``--until``).
    Times without an offset are UTC, as CloudTrail's own. Raises ValueError with a message
    that names the accepted forms.
    """
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return now - timedelta(**{_UNITS[unit]: amount})
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: use an ISO date (2026-11-01), an ISO time "
            "(2026-11-01T08:00:00Z) or an age such as 30m, 12h, 7d, 2w"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

