"""An EventBridge event pattern that delivers only the CloudTrail events the rules can match.

Real-time detection (:mod:`trailguard.realtime`) is invoked per event: a pattern that lists
the rules' event names keeps routine traffic (Describe*, List*, Get* calls) from invoking the
function at all. Rules that do not pin ``eventName`` (some third-party Sigma rules) could
match any event; the pattern then cannot narrow by name, and says which rules are the cause.
"""

from __future__ import annotations

import json
from typing import Any

from trailguard.detection.catalog import Catalog

DETAIL_TYPES = ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail")
# Only AWS services send events with an ``aws.`` source (PutEvents refuses it): without this, a
# principal allowed events:PutEvents could feed the function forged "CloudTrail" events.
SOURCE = [{"prefix": "aws."}]


MAX_PATTERN_CHARS = 4096  # EventBridge PutRule EventPattern (botocore: max 4096)


def compact(pattern: Any) -> str:
    """``pattern`` as one line of JSON, the form whose length EventBridge's limit counts."""
    return json.dumps(pattern, separators=(",", ":"))


def _size(pattern: dict[str, Any]) -> int:
    return len(compact(pattern))


def event_patterns(catalog: Catalog) -> tuple[list[dict[str, Any]], list[str]]:
    """:func:`event_pattern`, split into as many patterns as EventBridge's size limit needs.

    Each pattern becomes one EventBridge rule targeting the same function.
    """
    pattern, unpinned = event_pattern(catalog)
    names = pattern.get("detail", {}).get("eventName")
    if not names or _size(pattern) <= MAX_PATTERN_CHARS:
        return [pattern], unpinned
    chunks: list[list[str]] = [[]]
    for name in names:
        trial = {**pattern, "detail": {"eventName": [*chunks[-1], name]}}
        if chunks[-1] and _size(trial) > MAX_PATTERN_CHARS:
            chunks.append([])
        chunks[-1].append(name)
    return [{**pattern, "detail": {"eventName": chunk}} for chunk in chunks], unpinned


def event_pattern(catalog: Catalog) -> tuple[dict[str, Any], list[str]]:
    """The pattern for every detection rule of ``catalog``, and the rules that widen it.

    Correlation rules need nothing of their own: they count the events of the detection rules
    they reference, which are in the catalog too.
    """
    names: set[str] = set()
    unpinned: list[str] = []
    for info in catalog.rules:
        if info.kind == "correlation":
            continue
        if info.event_names:
            names.update(info.event_names)
        else:
            unpinned.append(info.name or info.title)
    pattern: dict[str, Any] = {"source": SOURCE, "detail-type": list(DETAIL_TYPES)}
    if not unpinned:
        pattern["detail"] = {"eventName": sorted(names)}
    return pattern, unpinned
