"""Correlation windows stay linear in the number of events, with the same results as before.

The reference below is the original quadratic search (every window rescanned from its first
event); the tracker's two-pointer search must find exactly the same windows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule

from trailguard.sigma.correlation import OPS, CorrelationTracker, _Event, _event_order

HEAD = "logsource: {product: aws, service: cloudtrail}\nlevel: medium\ndetection:\n"
BASE = """
title: Rule {n}
id: 0d8a4f0e-2f2e-4c55-9a0e-0000000a000{n}
name: rule_{n}
{head}  sel:
    eventName: Event{n}
  condition: sel
"""
CORRELATION = """
title: Correlation under test
id: 0d8a4f0e-2f2e-4c55-9a0e-0000000b0001
correlation:
  type: {ctype}
  rules: [rule_0, rule_1, rule_2]
  group-by: [requestParameters.userName]
  timespan: {span}
{condition}
level: high
"""
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _tracker(ctype: str, condition: str = "", span: str = "10m") -> CorrelationTracker:
    docs = [BASE.format(n=n, head=HEAD) for n in range(3)] + [
        CORRELATION.format(ctype=ctype, span=span, condition=condition)
    ]
    collection = SigmaCollection.from_yaml("---".join(docs))
    [rule] = [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]
    return CorrelationTracker.from_rule(rule)


def _stamp(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reference(tracker: CorrelationTracker, events: list[_Event]) -> list[tuple[int, str, str]]:
    """The original O(n^2) search: (count, first, last) of each reported window."""

    def measure(window: list[_Event]) -> int:
        ctype = tracker.ctype
        if ctype == "event_count":
            return len(window)
        if ctype == "value_count":
            return len({e.value for e in window if e.value is not None})
        if ctype == "temporal":
            return len({e.ref for e in window})
        want = 0
        for e in window:
            if want < len(tracker.ref_names) and e.ref == want:
                want += 1
        return want

    op, count = OPS[tracker.op], tracker.threshold
    out, i, n = [], 0, len(events)
    while i < n:
        j = i
        while j < n and events[j].t - events[i].t <= tracker.timespan:
            j += 1
        window = events[i:j]
        if op(measure(window), count):
            out.append((len(window), window[0].time, window[-1].time))
            i = j
        elif tracker._sliding:
            i += 1
        else:
            i = j
    return out


CASES = [
    ("event_count", "  condition: {gte: 4}"),
    ("event_count", "  condition: {gt: 2}"),
    ("event_count", "  condition: {lt: 3}"),
    ("event_count", "  condition: {eq: 2}"),
    ("value_count", "  condition: {field: userIdentity.arn, gte: 3}"),
    ("value_count", "  condition: {field: userIdentity.arn, lte: 1}"),
    ("temporal", ""),
    ("temporal_ordered", ""),
]


@pytest.mark.parametrize(("ctype", "condition"), CASES)
def test_windows_equal_the_quadratic_reference(ctype: str, condition: str) -> None:
    rng = random.Random(f"{ctype}{condition}")
    for _ in range(20):
        tracker = _tracker(ctype, condition)
        seconds = sorted(rng.randrange(0, 7200) for _ in range(rng.randrange(1, 60)))
        for k, sec in enumerate(seconds):
            ref = rng.randrange(3)
            arn = f"arn:aws:iam::123456789012:user/u{rng.randrange(4)}"
            values = {"requestParameters.userName": "bob", "userIdentity.arn": arn}
            tracker.add(ref, values, _stamp(sec), f"e{k}")
        [events] = tracker.groups.values()
        events.sort(key=_event_order)
        expected = _reference(tracker, list(events))
        got = [(w.count, w.first_time, w.last_time) for w in tracker.finish()]
        assert got == expected


def test_fifty_thousand_events_of_one_side_of_a_temporal_rule() -> None:
    """All events match only the first rule: no window is ever satisfied (was quadratic)."""
    tracker = _tracker("temporal", span="1h")
    n = 50_000
    for k in range(n):
        tracker.add(0, {"requestParameters.userName": "bob"}, _stamp(k * 0.05), f"e{k}")
    assert tracker.finish() == []
    # One event of each other rule at the end then completes exactly one window.
    tracker = _tracker("temporal", span="1h")
    for k in range(n):
        tracker.add(0, {"requestParameters.userName": "bob"}, _stamp(k * 0.05), f"e{k}")
    tracker.add(1, {"requestParameters.userName": "bob"}, _stamp(n * 0.05), "r1")
    tracker.add(2, {"requestParameters.userName": "bob"}, _stamp(n * 0.05 + 1), "r2")
    [window] = tracker.finish()
    assert window.group == {"requestParameters.userName": "bob"}
    assert window.count == n + 2 and window.first_time == _stamp(0)
    assert window.rules == ["rule_0", "rule_1", "rule_2"]


def test_fifty_thousand_events_value_count_one_window() -> None:
    tracker = _tracker("value_count", "  condition: {field: userIdentity.arn, gte: 50000}", "1d")
    for k in range(50_000):
        values = {
            "requestParameters.userName": "bob",
            "userIdentity.arn": f"arn:aws:iam::123456789012:user/u{k}",
        }
        tracker.add(k % 3, values, _stamp(k), f"e{k}")
    [window] = tracker.finish()
    assert window.count == 50_000 and len(window.event_ids) == 20


def test_full_memory_bound_with_nothing_closed_drops_without_rescanning() -> None:
    """Over the bound inside the lateness window: the surplus is dropped and counted."""
    docs = [BASE.format(n=n, head=HEAD) for n in range(3)] + [
        CORRELATION.format(ctype="event_count", span="1h", condition="  condition: {gte: 10}")
    ]
    collection = SigmaCollection.from_yaml("---".join(docs))
    [rule] = [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]
    tracker = CorrelationTracker.from_rule(rule, max_events=1_000)
    for k in range(20_000):
        tracker.add(0, {"requestParameters.userName": "bob"}, _stamp(k), f"e{k}")
    assert tracker.stored == 1_000 and tracker.dropped == 19_000
    windows = tracker.finish()
    assert sum(w.count for w in windows) == 1_000
