"""The Lambda entry point: ``trailguard.realtime.handler.handler``.

Configuration (environment variables of the function):

* ``TRAILGUARD_TOPIC_ARN``: SNS topic for findings (without it findings are only returned and
  logged);
* ``TRAILGUARD_MIN_SEVERITY``: least severe finding to publish (default ``medium``);
* ``TRAILGUARD_RULES`` / ``TRAILGUARD_FILTERS``: extra Sigma rule folders and Sigma filter
  files or folders, separated by ``:`` (paths inside the deployment package);
* ``TRAILGUARD_CACHE_DIR``: where compiled rules are cached (e.g. ``/tmp/trailguard``).

The settings are checked at the start of every invocation (:mod:`trailguard.realtime.config`):
a wrong one raises ValueError naming the variable and what it allows.

The rules are compiled once per container. Each invocation scans its records in a fresh
in-memory DuckDB with a fresh copy of the detector, so correlation rules see the events of one
invocation (an SQS batch): correlations over long windows belong to ``trailguard scan``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from trailguard.findings.model import Finding
from trailguard.realtime.config import Config, load_config
from trailguard.realtime.events import records_from_event

log = logging.getLogger("trailguard.realtime")

_LOADED: dict[tuple[tuple[Path, ...], tuple[Path, ...]], tuple[Any, dict[int, Any]]] = {}


def rule_set(config: Config | None = None) -> tuple[Any, dict[int, Any]]:
    """The detached detector (no events seen) and rule metadata, loaded once per container."""
    config = config or load_config()
    key = (config.rules, config.filters)
    if key not in _LOADED:
        from trailguard.scan.rulecache import detached
        from trailguard.scan.ruleset import load_detector

        detector, metas = load_detector(list(config.rules), list(config.filters))
        _LOADED[key] = detached(detector, metas)
    return _LOADED[key]


def detect(
    records: list[dict[str, Any]], config: Config | None = None
) -> tuple[list[Finding], int, int]:
    """Findings for ``records``, the records DuckDB could not load, and matches filters dropped."""
    from trailguard.scan.engine import Scanner

    base, metas = rule_set(config)
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
    SNS message ids). Input that is not CloudTrail is reported in the summary, not raised; a
    wrong ``TRAILGUARD_*`` setting raises ValueError at once (:func:`load_config`), before any
    record is read, so a misconfigured function fails on its first invocation.
    """
    config = load_config()
    records, skipped = records_from_event(event)
    findings, unloadable, dropped = detect(records, config) if records else ([], 0, 0)
    alerting = [f for f in findings if f.severity.rank >= config.min_severity.rank]
    published: list[str] = []
    if config.topic_arn and alerting:
        from trailguard.aws import make_client, make_session
        from trailguard.realtime.notify import publish

        sns = make_client(make_session(), "sns", config.region)
        published = publish(sns, config.topic_arn, alerting)
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
    for reason in skipped[:20]:
        log.warning("trailguard: skipped %s", reason)
    return summary
