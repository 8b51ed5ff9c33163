"""The shipped rules keep the scanner's fast path: every rule pins eventName.

When every rule names the events it can match, the loader stores only those rows (most of a
trail is reads no rule looks at) and the rules run on few rows: that is most of the scan's
speed (see src/trailguard/scan/README.md). One rule without an ``eventName`` condition makes
the scanner keep and test every row.
"""

from __future__ import annotations

from trailguard.detection.catalog import load_rules
from trailguard.sigma import Detector


def test_every_shipped_rule_is_behind_the_event_name_guard() -> None:
    detector = Detector(load_rules([]).collection)
    assert detector.row_filter() not in (None, "false"), (
        "a shipped rule has no eventName condition: give it one (eventName: X or a list), so "
        "the scanner can keep only the rows a rule can match"
    )
    guarded = set(detector.guard.rules) if detector.guard else set()
    assert guarded == set(range(len(detector.predicates)))
