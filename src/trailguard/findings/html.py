"""The ``html`` format: one self-contained report file, safe to open and to mail around.

No CDN and no fetch: CSS, the filter script and the SVG timeline are inline. Every value from
logs is attacker-controlled, so the template is rendered with Jinja2 autoescaping on, and a
Content-Security-Policy allows only the report's own script (by its SHA-256 hash): even a value
that slipped through escaping could not run. Each distinct event gets a section with the
knowledge base's guidance, anchored ``#event-<EventName>``, that the findings link to.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from typing import IO, Any

import jinja2

from trailguard import __version__
from trailguard.findings.common import (
    actor_label,
    iso_z,
    short_arn,
    short_time,
    sort_findings,
)
from trailguard.findings.html_rows import anchor, detection_rows_html
from trailguard.findings.model import Finding, Report, Severity, Status
from trailguard.findings.summary import summarize
from trailguard.findings.timeline import SEVERITY_COLOR, build_timeline

TEMPLATE = "report.html.j2"

# Filters rows by the data-* attributes the template writes; no value is ever parsed as HTML.
FILTER_SCRIPT = """
(function () {
  var form = document.getElementById('filters');
  if (!form) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.finding'));
  var shown = document.getElementById('shown');
  function apply() {
    var want = {};
    form.querySelectorAll('select').forEach(function (s) { want[s.name] = s.value; });
    var text = form.querySelector('input[name=q]').value.toLowerCase();
    var n = 0;
    rows.forEach(function (row) {
      var ok = Object.keys(want).every(function (k) {
        return !want[k] || row.getAttribute('data-' + k) === want[k];
      });
      if (ok && text) { ok = row.textContent.toLowerCase().indexOf(text) !== -1; }
      row.hidden = !ok;
      var detail = document.getElementById(row.id + '-detail');
      if (detail) { detail.hidden = !ok; }
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
  }
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  form.addEventListener('input', apply);
  form.addEventListener('reset', function () { setTimeout(apply, 0); });
  apply();
})();
"""


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _get_entry(name: str) -> tuple[Any | None, str | None]:
    """The knowledge-base entry for an event, or (None, why not) without failing the report."""
    try:
        from trailguard.kb.loader import get_entry
    except ImportError:  # pragma: no cover - the knowledge base ships with trailguard
        return None, None
    try:
        return get_entry(name), None
    except Exception as exc:  # noqa: BLE001 - a broken KB file must not lose the report
        return None, f"the knowledge base could not be read: {exc}"


@dataclass
class EventSection:
    """One event's guidance section."""

    name: str
    anchor: str
    entry: Any | None
    error: str | None
    findings: int


def _event_sections(findings: list[Finding]) -> list[EventSection]:
    counts: dict[str, int] = {}
    for f in findings:
        for name in dict.fromkeys(n for n in (f.event_name, f.explain) if n):
            counts[name] = counts.get(name, 0) + 1
    sections = []
    for name in sorted(counts):
        entry, error = _get_entry(name)
        sections.append(EventSection(name, anchor(name), entry, error, counts[name]))
    return sections


def _posture_row(i: int, f: Finding) -> dict[str, Any]:
    return {
        "id": f"f{i}",
        "f": f,
        "targets": [r.name or short_arn(r.id) for r in f.resources],
        "observed": short_time(f.observed_at),
        "event_anchor": anchor(f.explain) if f.explain else "",
    }


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("trailguard", "templates"),
        autoescape=True,  # every value from logs is attacker-controlled
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: Report) -> str:
    """Render the report as one self-contained HTML document."""
    findings = sort_findings(report.findings)
    detections = [f for f in findings if f.kind == "detection"]
    posture = [f for f in findings if f.kind == "posture"]
    pos_rows = [_posture_row(len(detections) + i, f) for i, f in enumerate(posture)]

    def distinct(values: list[str]) -> list[str]:
        return sorted({v for v in values if v})

    filters = {
        "severity": [s.value for s in reversed(list(Severity))
                     if any(f.severity is s for f in findings)],
        "status": [s.value for s in Status if any(f.status is s for f in posture)],
        "rule": distinct([f.title for f in findings]),
        "actor": distinct([actor_label(f.actor) for f in detections]),
        "event": distinct([f.event_name or f.explain or "" for f in detections]),
    }
    sections = _event_sections(findings)
    title = f"trailguard {report.command} report"
    return _environment().get_template(TEMPLATE).render(
        title=title,
        report=report,
        version=__version__,
        generated=iso_z(report.generated_at),
        summary=summarize(report),
        det_rows=detections,
        detection_rows=detection_rows_html(detections),
        pos_rows=pos_rows,
        filters=filters,
        timeline=build_timeline(detections),
        severity_color={s.value: c for s, c in SEVERITY_COLOR.items()},
        severities=[s.value for s in reversed(list(Severity))],
        sections=sections,
        section_names={s.name for s in sections},
        anchor=anchor,
        script=FILTER_SCRIPT,
        script_hash=_csp_hash(FILTER_SCRIPT),
    )


def write_html(report: Report, stream: IO[str]) -> None:
    """Write the report as one self-contained HTML file."""
    stream.write(render_html(report))
