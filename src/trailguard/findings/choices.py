"""Command-line choices shared by `scan` and `audit`: report formats and ``--fail-on``."""

from __future__ import annotations

from enum import StrEnum


class ReportFormat(StrEnum):
    """Report formats of ``--format`` (the writers in findings.output.FORMATS)."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    ocsf = "ocsf"
    asff = "asff"
    html = "html"


class FailOn(StrEnum):
    """``--fail-on``: a severity, or ``none`` (never exit 1 because of findings)."""

    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    none = "none"
