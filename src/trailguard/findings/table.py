"""The ``table`` format: rich tables for a terminal (or plain text when written to a file).

Every cell is a :class:`rich.text.Text`, never markup, so ``[bold]`` in a log value is shown
as typed; control characters are replaced so log values cannot inject terminal escapes.
"""

from __future__ import annotations

import os
from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trailguard.findings.common import (
    actor_label,
    last_seen,
    printable,
    short_time,
    sort_findings,
    target_label,
)
from trailguard.findings.model import Finding, Report, Severity, Status
from trailguard.findings.summary import summary_lines

SEVERITY_STYLE = {
    Severity.critical: "bold white on red",
    Severity.high: "bold red",
    Severity.medium: "yellow",
    Severity.low: "cyan",
    Severity.info: "dim",
}
STATUS_STYLE = {Status.FAIL: "bold red", Status.ERROR: "bold magenta", Status.PASS: "green"}
# rich lays out about 700 rows a second; past this a terminal table helps no one
MAX_TABLE_ROWS = 500


def _t(value: object, style: str = "") -> Text:
    return Text(printable(value), style=style)


def _where(f: Finding) -> str:
    return "/".join(x for x in (f.account_id, f.region) if x)


def detections_table(findings: list[Finding]) -> Table:
    """A table of detections, most urgent and most recent first."""
    table = Table(title="Detections", show_lines=False, expand=False)
    for name, kw in (
        ("Severity", {}),
        ("Count", {"justify": "right"}),
        ("Last seen (UTC)", {"no_wrap": True}),
        ("Rule", {}),
        ("Event", {}),
        ("Actor", {}),
        ("Source IP", {}),
        ("Target", {}),
        ("Account/Region", {}),
        ("trailguard explain", {"no_wrap": True}),
    ):
        table.add_column(name, overflow="fold", **kw)
    for f in sort_findings(findings):
        actor = f.actor
        table.add_row(
            _t(f.severity.value, SEVERITY_STYLE[f.severity]),
            _t(f.count),
            _t(short_time(last_seen(f))),
            _t(f.title),
            _t(f.event_name or ""),
            _t(actor_label(actor)),
            _t(actor.source_ip if actor and actor.source_ip else ""),
            _t(target_label(f)),
            _t(_where(f)),
            _t(f.explain or "", "dim"),
        )
    return table


def posture_table(findings: list[Finding]) -> Table:
    """A table of posture check results: failures first, then errors, then passes."""
    table = Table(title="Posture checks", show_lines=False, expand=False)
    for name in ("Status", "Severity", "Check", "Title", "CIS", "Failing resources", "Reason"):
        table.add_column(name, overflow="fold")  # wrap long values, never cut them
    for f in sort_findings(findings):
        failing = ""
        if f.status is Status.FAIL and f.resources:
            failing = f"{len(f.resources)}: {target_label(f)}"
        table.add_row(
            _t(f.status.value, STATUS_STYLE[f.status]),
            _t(f.severity.value, SEVERITY_STYLE[f.severity]),
            _t(f.rule_id),
            _t(f.title),
            _t(", ".join(f.cis)),
            _t(failing),
            _t(f.reason or "" if f.status is Status.ERROR else ""),
        )
    return table


def write_table(report: Report, stream: IO[str], *, terminal: bool) -> None:
    """Print the report as tables plus summary lines to ``stream``.

    ``terminal`` enables colour and the terminal's width; otherwise plain text, 200 columns.
    """
    if terminal:
        # piped stdout (| less, | tee) gets a wide table instead of rich's 80-column default
        tty = hasattr(stream, "isatty") and stream.isatty()
        width = None if tty or os.environ.get("COLUMNS") else 200
        console = Console(file=stream, highlight=False, emoji=False, width=width)
    else:
        console = Console(file=stream, width=200, no_color=True, force_terminal=False,
                          highlight=False, emoji=False)
    detections = sort_findings([f for f in report.findings if f.kind == "detection"])
    posture = sort_findings([f for f in report.findings if f.kind == "posture"])
    for rows, build in ((detections, detections_table), (posture, posture_table)):
        if not rows:
            continue
        console.print(build(rows[:MAX_TABLE_ROWS]))
        if len(rows) > MAX_TABLE_ROWS:
            console.print(_t(
                f"{len(rows) - MAX_TABLE_ROWS} more finding(s) of lower urgency are not shown "
                f"in this table (all {len(rows)} are counted below); the csv, json and html "
                "formats list every one.", "bold"))
    if not report.findings:
        console.print(Text("No findings."))
    for line in summary_lines(report):
        console.print(_t(line))
    if any(f.explain for f in report.findings):
        console.print(_t("For what an event means and how to respond: trailguard explain NAME"))
