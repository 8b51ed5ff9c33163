"""What the Sigma filters of a scan did, for the report and the closing summary.

A filter drops matches a team has accepted (a deployment role rotating keys, a scanner's
denied calls). Dropping them silently would hide activity, so every scan reports each filter
with the number of rule matches it dropped, and says so when a filter has expired (it is then
not applied) or dropped nothing (it may no longer be needed, or no longer match).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from trailguard.findings.model import FilterResult


def filter_results(detector: Any) -> list[FilterResult]:
    """One :class:`FilterResult` per filter the detector was given, with its counts."""
    return [
        FilterResult(
            title=use.title,
            source=use.source,
            id=use.id or None,
            description=use.description or None,
            expires=date.fromisoformat(use.expires) if use.expires else None,
            rules=list(use.rules),
            applied=use.applied,
            events_dropped=use.events,
        )
        for use in getattr(detector, "filters", [])
    ]


def filter_notes(results: list[FilterResult], dropped: int) -> list[str]:
    """Summary lines: the total dropped, then each filter that expired or dropped events."""
    applied = [r for r in results if r.applied]
    notes = [f"filters: {dropped:,} rule match(es) dropped by {len(applied)} filter(s); "
             "correlation rules do not count dropped matches either"]
    for r in results:
        if not r.applied:
            notes.append(f"filter '{r.title}' ({r.source}) expired on {r.expires}: NOT applied; "
                         "renew or delete it")
        elif r.events_dropped:
            rules = ", ".join(r.rules) if len(r.rules) <= 3 else f"{len(r.rules)} rules"
            notes.append(f"filter '{r.title}' dropped {r.events_dropped:,} match(es) of {rules}")
        else:
            notes.append(f"filter '{r.title}' ({r.source}) dropped nothing in this scan")
    return notes
