"""Counts for CLI summaries and report headers: by severity, by status, events, skipped inputs."""

from __future__ import annotations

from typing import Any

from trailguard.findings.model import Report, Severity, Status


def _zero_by_severity() -> dict[str, int]:
    return {s.value: 0 for s in reversed(list(Severity))}


def summarize(report: Report) -> dict[str, Any]:
    """Count a report's findings for summaries and exit codes.

    Returns a dict with:

    * ``command``: ``scan`` or ``audit``; ``findings``: number of findings (grouped rows);
    * ``by_severity``: open findings per severity (every detection, and posture FAIL results),
      most urgent first; ``highest``: the most urgent severity present, or None;
    * ``occurrences``: matched events behind the detections (sum of their ``count``);
    * ``by_status``: posture results per status, each ``{"total": n, "by_severity": {...}}``;
    * ``skipped``: number of inputs that could not be read; ``stats``: the run's own numbers.
    """
    by_severity = _zero_by_severity()
    by_status: dict[str, dict[str, Any]] = {
        s.value: {"total": 0, "by_severity": _zero_by_severity()} for s in Status
    }
    occurrences = 0
    for f in report.findings:
        if f.kind == "detection":
            occurrences += f.count
            by_severity[f.severity.value] += 1
        else:
            bucket = by_status[f.status.value]
            bucket["total"] += 1
            bucket["by_severity"][f.severity.value] += 1
            if f.status is Status.FAIL:
                by_severity[f.severity.value] += 1
    highest = next((s for s, n in by_severity.items() if n), None)
    return {
        "command": report.command,
        "findings": len(report.findings),
        "by_severity": by_severity,
        "highest": highest,
        "occurrences": occurrences,
        "by_status": by_status,
        "skipped": len(report.skipped),
        "stats": dict(report.stats),
    }


# Report stats keys whose plain spelling would read oddly in a summary.
_STAT_LABELS = {
    "events_per_second": "events/s",
    "files_decoded_in_python": "files read by the robust decoder",
    "digest_files_skipped": "digest files skipped",
}


def _number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def summary_lines(report: Report) -> list[str]:
    """Plain-text summary lines for the end of a table or a CLI run."""
    s = summarize(report)
    sev = ", ".join(f"{n} {name}" for name, n in s["by_severity"].items() if n) or "none"
    lines: list[str] = []
    if report.command == "scan":
        lines.append(
            f"{s['findings']:,} finding(s) from {s['occurrences']:,} matched event(s): {sev}"
        )
        parts = [f"{_STAT_LABELS.get(k, k.replace('_', ' '))}: {_number(v)}"
                 for k, v in report.stats.items()]
        if parts:
            lines.append("; ".join(parts))
    else:
        st = s["by_status"]
        muted = st.get("MUTED", {}).get("total", 0)
        lines.append(
            f"{st['PASS']['total']} passed, {st['FAIL']['total']} failed, "
            f"{st['ERROR']['total']} error(s)"
            + (f", {muted} muted (accepted by an exception)" if muted else "")
            + f"; failing by severity: {sev}"
        )
    if report.skipped:
        lines.append(f"{len(report.skipped)} input(s) skipped:")
        lines.extend(f"  {sk.source}: {sk.reason}" for sk in report.skipped[:20])
        if len(report.skipped) > 20:
            lines.append(f"  ... and {len(report.skipped) - 20} more")
    return lines
