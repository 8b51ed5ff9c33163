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
from trailguard.findings.granted import grant_label
from trailguard.findings.model import Finding, Report, Severity, Status
from trailguard.findings.summary import summary_lines

SEVERITY_STYLE = {
    Severity.critical: "bold white on red",
    Severity.high: "bold red",
    Severity.medium: "yellow",
    Severity.low: "cyan",
    Severity.info: "dim",
}
STATUS_STYLE = {Status.FAIL: "bold red", Status.ERROR: "bold magenta", Status.PASS: "green",
                Status.MUTED: "dim"}
# rich lays out about 700 rows a second; past this a terminal table helps no one
MAX_TABLE_ROWS = 500


def _t(value: object, style: str = "") -> Text:
    return Text(printable(value), style=style)


def _where(f: Finding) -> str:
    return "/".join(x for x in (f.account_id, f.region) if x)


# Terminal widths at which the lower-value columns appear: below WIDE_FROM the source IP and
# account/region are left out (they are in every other format); below SPLIT_FROM rule, event,
# actor and target share one "Finding" cell so severity, count, time and event stay whole.
SPLIT_FROM = 140
WIDE_FROM = 180


def _event(f: Finding) -> str:
    """The event name, which is also the ``trailguard explain`` key (said once below the table)."""
    if f.event_name and f.explain and f.explain != f.event_name:
        return f"{f.event_name} (explain {f.explain})"
    return f.event_name or f.explain or ""


def _target(f: Finding) -> Text:
    """The targets, and on a second line whom an access-granting event gave access to."""
    cell = _t(target_label(f))
    granted = grant_label(f)
    if granted:
        cell.append("\n" if cell.plain else "")
        cell.append(printable(granted), "bold")
    return cell


def _col(table: Table, name: str, **kw: object) -> None:
    """Add a column whose header never breaks inside a word."""
    longest = max(len(w) for w in name.split())
    kw.setdefault("overflow", "fold")
    kw["min_width"] = max(int(kw.get("min_width", 0) or 0), longest)  # type: ignore[arg-type]
    table.add_column(name, **kw)  # type: ignore[arg-type]


def detections_table(findings: list[Finding], width: int = 200) -> Table:
    """A table of detections, most urgent and most recent first, laid out for ``width`` columns.

    Severity, count, last-seen time and event name never wrap; narrow terminals get fewer
    columns (see SPLIT_FROM / WIDE_FROM) rather than columns squeezed to nothing.
    """
    rows = sort_findings(findings)
    split = width < SPLIT_FROM
    wide = width >= WIDE_FROM
    event_w = max([len(printable(_event(f))) for f in rows] + [5])
    table = Table(title="Detections", show_lines=split, expand=False,
                  show_edge=not split, pad_edge=not split)
    _col(table, "Severity", no_wrap=True)
    _col(table, "Count", justify="right", no_wrap=True)
    _col(table, "Last seen (UTC)", no_wrap=True, min_width=10)
    if split:
        _col(table, "Finding (rule, event, actor -> target)", ratio=1,
             min_width=min(event_w, 40))
    else:
        _col(table, "Rule", ratio=3, min_width=12)
        _col(table, "Event", no_wrap=event_w <= 40, min_width=min(event_w, 40))
        _col(table, "Actor", ratio=3)
        if wide:
            _col(table, "Source IP")
        _col(table, "Target", ratio=2)
        if wide:
            _col(table, "Account/Region", ratio=2)
    for f in rows:
        actor = f.actor
        cells = [
            _t(f.severity.value, SEVERITY_STYLE[f.severity]),
            _t(f.count),
            _t(short_time(last_seen(f))),
        ]
        if split:
            cell = _t(f.title, "bold")
            cell.append("\n")
            cell.append(printable(_event(f)))
            who, whom = actor_label(actor), target_label(f)
            if who or whom:
                cell.append("\n")
                cell.append(printable(f"{who or '?'} -> {whom}" if whom else who), "dim")
            granted = grant_label(f)
            if granted:
                cell.append("\n")
                cell.append(printable(granted), "bold")
            cells.append(cell)
        else:
            cells += [_t(f.title), _t(_event(f)), _t(actor_label(actor))]
            if wide:
                cells.append(_t(actor.source_ip if actor and actor.source_ip else ""))
            cells.append(_target(f))
            if wide:
                cells.append(_t(_where(f)))
        table.add_row(*cells)
    return table


def posture_table(findings: list[Finding], width: int = 200) -> Table:
    """A table of posture check results: failures first, then errors, muted, passes.

    Status and severity never wrap; long values fold (never cut); headers stay whole. Below
    SPLIT_FROM columns title, check id, failing resources and reason share one cell.
    """
    split = width < SPLIT_FROM
    table = Table(title="Posture checks", show_lines=split, expand=False,
                  show_edge=not split, pad_edge=not split)
    _col(table, "Status", no_wrap=True)
    _col(table, "Severity", no_wrap=True)
    _col(table, "CIS", min_width=4)
    if split:
        _col(table, "Check (title, id, failing resources or error)", ratio=1)
    else:
        for name, ratio in (("Check", 3), ("Title", 3), ("Failing resources", 2),
                            ("Reason", 2)):
            _col(table, name, ratio=ratio)  # wrap long values, never cut them
    for f in sort_findings(findings):
        failing = ""
        if f.status in (Status.FAIL, Status.MUTED) and f.resources:
            failing = f"{len(f.resources)}: {target_label(f)}"
        reason = f.reason or "" if f.status in (Status.ERROR, Status.MUTED) else ""
        cells = [
            _t(f.status.value, STATUS_STYLE[f.status]),
            _t(f.severity.value, SEVERITY_STYLE[f.severity]),
            _t(", ".join(f.cis)),
        ]
        if split:
            cell = _t(f.title, "bold")
            cell.append("\n")
            cell.append(printable(f.rule_id), "dim")
            why = "muted: " if f.status is Status.MUTED else "error: "
            for extra, label in ((failing, "failing "), (reason, why)):
                if extra:
                    cell.append("\n" + label + printable(extra))
            cells.append(cell)
        else:
            cells += [_t(f.rule_id), _t(f.title), _t(failing), _t(reason)]
        table.add_row(*cells)
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
        console.print(build(rows[:MAX_TABLE_ROWS], console.width))
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
        console.print(_t("details (what an event means, how to respond): trailguard explain EVENT"))
