"""A timeline of detections, computed server-side and drawn as inline SVG rectangles.

Bars are hours, days, weeks or 30-day periods (the finest that keeps at most
:data:`MAX_BUCKETS` bars), stacked by severity. A grouped finding seen several times between
``first_seen`` and ``last_seen`` has its ``count`` spread evenly over the bars of that span:
the report knows the span and the total, not each event's own time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from trailguard.findings.common import as_utc, first_seen, last_seen
from trailguard.findings.model import Finding, Severity

MAX_BUCKETS = 200
UNITS: tuple[tuple[str, timedelta], ...] = (
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(days=7)),
    ("30 days", timedelta(days=30)),
)
SEVERITY_COLOR = {
    Severity.critical: "#7f1d1d",
    Severity.high: "#dc2626",
    Severity.medium: "#f59e0b",
    Severity.low: "#3b82f6",
    Severity.info: "#9ca3af",
}
_EPOCH = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday, so weeks start on Mondays


@dataclass
class Bar:
    """One time bucket: its start and the events per severity in it."""

    start: datetime
    counts: dict[Severity, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """All events in the bucket."""
        return sum(self.counts.values())


@dataclass
class Rect:
    """One drawn rectangle of the SVG, with its tooltip."""

    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass
class Timeline:
    """What the template draws: bars, rectangles, axis labels and the chart's size."""

    unit: str
    bars: list[Bar]
    rects: list[Rect]
    labels: list[tuple[float, str]]
    width: int
    height: int
    max_total: float
    plot_bottom: int


LABEL_WIDTH = 110  # px an axis label like "2026-11-20 09:00" needs


def _floor(t: datetime, unit: timedelta) -> datetime:
    n = (t - _EPOCH) // unit
    return _EPOCH + n * unit


def _fmt(t: datetime, unit: str) -> str:
    return t.strftime("%Y-%m-%d %H:00") if unit == "hour" else t.strftime("%Y-%m-%d")


def build_timeline(findings: list[Finding], plot_height: int = 140) -> Timeline | None:
    """Bucket detections over time; None when no detection carries a time."""
    spans = []
    for f in findings:
        if f.kind != "detection":
            continue
        a, b = as_utc(first_seen(f)), as_utc(last_seen(f))
        if a is None or b is None:
            continue
        spans.append((min(a, b), max(a, b), f))
    if not spans:
        return None
    lo = min(s[0] for s in spans)
    hi = max(s[1] for s in spans)
    unit_name, unit = UNITS[-1]
    for name, u in UNITS:
        if (_floor(hi, u) - _floor(lo, u)) // u + 1 <= MAX_BUCKETS:
            unit_name, unit = name, u
            break
    start = _floor(lo, unit)
    n = (_floor(hi, unit) - start) // unit + 1
    bars = [Bar(start + i * unit) for i in range(n)]
    for a, b, f in spans:
        i, j = (_floor(a, unit) - start) // unit, (_floor(b, unit) - start) // unit
        share = f.count / (j - i + 1)
        for k in range(i, j + 1):
            bars[k].counts[f.severity] = bars[k].counts.get(f.severity, 0.0) + share

    max_total = max(bar.total for bar in bars) or 1.0
    bar_w = max(4.0, min(40.0, 900 / n))
    left, top = 40, 10
    rects: list[Rect] = []
    for i, bar in enumerate(bars):
        x = left + i * bar_w
        y = top + plot_height
        for sev in sorted(bar.counts, key=lambda s: -s.rank):  # critical at the bottom
            value = bar.counts[sev]
            h = plot_height * value / max_total
            y -= h
            label = f"{_fmt(bar.start, unit_name)} ({unit_name}): {sev.value} {value:.3g}"
            rects.append(Rect(round(x + 1, 2), round(y, 2), round(bar_w - 2, 2), round(h, 2),
                              SEVERITY_COLOR[sev], label))
    step = max(1, math.ceil(LABEL_WIDTH / bar_w))  # labels never overlap
    labels = [(round(left + i * bar_w, 2), _fmt(bars[i].start, unit_name))
              for i in range(0, n, step)]
    width = max(int(left + n * bar_w + LABEL_WIDTH), 460)  # room for the last label and the legend
    plot_bottom = top + plot_height
    return Timeline(unit_name, bars, rects, labels, width, plot_bottom + 44, max_total,
                    plot_bottom)
