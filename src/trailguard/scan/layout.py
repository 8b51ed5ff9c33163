"""CloudTrail's delivery layout: the day a log file was delivered, and the days a window needs.

CloudTrail writes ``.../AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/<file>.json.gz``,
the date being when the file was delivered, minutes after its events. A ``--since``/``--until``
window therefore needs the folders from its first day to the day of ``until`` plus the delivery
lag (late-evening events are delivered after midnight). The eventTime filter in SQL still keeps
exactly the window: this only decides which files are read at all (S3 listing, local mirrors).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# How long after an event its log file may be delivered. CloudTrail delivers "within an
# average of about 5 minutes", not guaranteed.
DELIVERY_LAG = timedelta(hours=1)
_DAY_FOLDER = re.compile(r"/CloudTrail/[^/]+/(\d{4})/(\d{2})/(\d{2})/[^/]+$")


def window_days(since: datetime | None, until: datetime | None) -> tuple[date, date]:
    """The first and last delivery day whose folder can hold events of the window."""
    lo = since.date() if since else date.min
    hi = (until + DELIVERY_LAG).date() if until else date.max
    return lo, hi


def delivery_day(path: str) -> date | None:
    """The delivery day of a log file in CloudTrail's layout (POSIX path or S3 key), or None."""
    m = _DAY_FOLDER.search(path)
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def outside_window(path: str, since: datetime | None, until: datetime | None) -> bool:
    """True when ``path`` is in CloudTrail's layout under a day the window cannot need."""
    if since is None and until is None:
        return False
    day = delivery_day(path)
    if day is None:
        return False
    lo, hi = window_days(since, until)
    return not lo <= day <= hi
