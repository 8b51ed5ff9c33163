"""The Lambda entry point: ``trailguard.realtime.handler.handler``.

Configuration (environment variables of the function):

* ``TRAILGUARD_TOPIC_ARN``: SNS topic for findings (without it findings are only returned and
  logged);
* ``TRAILGUARD_MIN_SEVERITY``: least severe finding to publish (default ``medium``);
* ``TRAILGUARD_RULES`` / ``TRAILGUARD_FILTERS``: extra Sigma rule folders and Sigma filter
  files or folders, separated by ``:`` (paths inside the deployment package);
* ``TRAILGUARD_CACHE_DIR``: where compiled rules are cached (e.g. ``/tmp/trailguard``).

The rules are compiled once per container. Each invocation scans its records in a fresh
in-memory DuckDB with a fresh copy of the detector, so correlation rules see the events of one
invocation (an SQS batch): correlations over long windows belong to ``trailguard scan``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from trailguard.findings.model import Finding, Severity
from trailguard.realtime.events import records_from_event

log = logging.getLogger("trailguard.realtime")

_LOADED: dict[tuple[str, str], tuple[Any, dict[int, Any]]] = {}


def _paths(variable: str) -> list[Path]:
    return [Path(p) for p in os.environ.get(variable, "").split(":") if p.strip()]


def rule_set() -> tuple[Any, dict[int, Any]]:
    """The detached detector (no events seen) and rule metadata, loaded once per container."""
    key = (os.environ.get("TRAILGUARD_RULES", ""), os.environ.get("TRAILGUARD_FILTERS", ""))
    if key not in _LOADED:
        from trailguard.scan.rulecache import detached
        from trailguard.scan.ruleset import load_detector

        detector, metas = load_detector(_paths("TRAILGUARD_RULES"), _paths("TRAILGUARD_FILTERS"))
        _LOADED[key] = detached(detector, metas)
    return _LOADED[key]


def detect(records: list[dict[str, Any]]) -> tuple[list[Finding], int, int]:
    """Findings for ``records``, the records DuckDB could not load, and matches filters dropped."""
    from trailguard.scan.engine import Scanner

    base, metas = rule_set()
    detector = base.detached()  # fresh correlation state and filter counts
    scanner = Scanner(detector, metas)
    try:
        scanner.add_records(records, "invocation")
        findings = scanner.finish()
    finally:
        scanner.close()
    return findings, scanner.stats.records_skipped, detector.suppressed


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Detect on the CloudTrail records of one invocation; publish findings to SNS.

    Returns a summary (records, skipped items with reasons, filtered matches, findings and
    SNS message ids). Input that is not CloudTrail is reported in the summary, not raised.
    """
    records, skipped = records_from_event(event)
    findings, unloadable, dropped = detect(records) if records else ([], 0, 0)
    minimum = Severity.parse(os.environ.get("TRAILGUARD_MIN_SEVERITY", "medium"))
    alerting = [f for f in findings if f.severity.rank >= minimum.rank]
    published: list[str] = []
    topic = os.environ.get("TRAILGUARD_TOPIC_ARN")
    if topic and alerting:
        from trailguard.aws import make_client, make_session
        from trailguard.realtime.notify import publish

        parts = topic.split(":")
        if len(parts) < 6 or parts[:3] != ["arn", parts[1], "sns"] or not parts[3]:
            raise ValueError(f"TRAILGUARD_TOPIC_ARN is not an SNS topic ARN: {topic!r}")
        region = parts[3]
        published = publish(make_client(make_session(), "sns", region), topic, alerting)
    summary = {
        "records": len(records),
        "skipped": skipped,
        "records_not_loaded": unloadable,
        "matches_dropped_by_filters": dropped,
        "findings": [json.loads(f.model_dump_json()) for f in findings],
        "published": published,
    }
    log.info("trailguard: %d record(s), %d finding(s), %d published, %d skipped",
             len(records), len(findings), len(published), len(skipped))
    return summary
