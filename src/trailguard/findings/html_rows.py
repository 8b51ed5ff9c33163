"""The detections table rows of the html report, written in Python because they are most of it.

A scan report can hold tens of thousands of detections; through the Jinja2 template each row
cost ~45 attribute lookups, filter calls and escapes (5 s for 20,000 findings). Here each row
is one f-string in which every value from a finding goes through ``_e`` (the escaping of
``markupsafe.escape``, which Jinja2's autoescaping calls, so the bytes are the same).
Only literal markup written in this file is left unescaped. The result is a ``Markup`` string
the template inserts as it is; everything else in the report stays in the template.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from trailguard.findings.common import (
    actor_label,
    first_seen,
    iso_z,
    last_seen,
    short_arn,
    short_time,
)
from trailguard.findings.granted import grant_label
from trailguard.findings.model import Finding

_ANCHOR_RE = re.compile(r"[^A-Za-z0-9_.-]")


def anchor(event_name: str) -> str:
    """The fragment id of an event's section: ``event-CreateAccessKey``."""
    return "event-" + _ANCHOR_RE.sub("_", event_name)


def _e(value: Any) -> str:
    """Escaped text of a value from a finding (None: empty).

    The same five replacements, with the same entities, as ``markupsafe.escape`` (which the
    template's autoescaping uses), ``&`` first; 2-3 times faster here than building a Markup
    per value. A value that is already Markup is escaped again: shown literally, never run.
    """
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def _join(values: list[Any]) -> str:
    """Values escaped one by one and joined by ``, `` (Jinja2's ``join`` under autoescape)."""
    return ", ".join(_e(v) for v in values)


def _targets_cell(targets: list[str], granted: str) -> str:
    cell = _join(targets[:3])
    if len(targets) > 3:
        cell += f" +{len(targets) - 3} more"
    if granted:
        cell += f'<br><span class="granted">{_e(granted)}</span>'
    return cell


def _actor_details(f: Finding, first: str, last: str) -> str:
    a = f.actor
    if a is None:
        return ""
    since = f"first {_e(first)}, " if first else ""
    out = [f"<dt>Seen (UTC)</dt><dd>{since}last {_e(last)}</dd>\n"]
    if a.identity_type:
        out.append(f"<dt>Identity type</dt><dd>{_e(a.identity_type)}</dd>")
    if a.arn:
        out.append(f"<dt>Actor ARN</dt><dd><code>{_e(a.arn)}</code></dd>")
    if a.session_issuer_arn:
        out.append(f"<dt>Session issuer</dt><dd><code>{_e(a.session_issuer_arn)}</code></dd>")
    if a.access_key_id:
        out.append(f"<dt>Access key id</dt><dd><code>{_e(a.access_key_id)}</code></dd>")
    if a.mfa_authenticated is not None:
        out.append(f"<dt>MFA</dt><dd>{'yes' if a.mfa_authenticated else 'no'}</dd>")
    if a.invoked_by:
        out.append(f"<dt>Invoked by</dt><dd>{_e(a.invoked_by)}</dd>")
    return "".join(out)


def _counted(f: Finding) -> str:
    """"12 distinct requestParameters.secretId: a, b, ... (and 2 more)" for value_count rules."""
    for r in f.resources:
        c = r.details.get("counted") if isinstance(r.details, dict) else None
        if isinstance(c, dict) and c.get("values"):
            values = [str(v) for v in c["values"]]
            more = int(c.get("distinct") or len(values)) - len(values)
            tail = f" (and {more} more)" if more > 0 else ""
            return f"{c.get('distinct')} distinct {c.get('field')}: {', '.join(values)}{tail}"
    return ""


def _details(f: Finding, first: str, last: str, granted: str) -> str:
    """The <dl> of a detection's details row."""
    out = []
    if f.description:
        out.append(f"<dt>Description</dt><dd>{_e(f.description)}</dd>")
    out.append(f"  <dt>Rule id</dt><dd><code>{_e(f.rule_id)}</code></dd>\n")
    if f.event_source:
        out.append(f"<dt>Event source</dt><dd>{_e(f.event_source)}</dd>")
    if f.error_code:
        out.append(f"<dt>Error code</dt><dd>{_e(f.error_code)}</dd>")
    out.append(_actor_details(f, first, last))
    if f.actor and f.actor.user_agent:
        out.append(f'<dt>User agent</dt><dd><code class="ua">{_e(f.actor.user_agent)}</code></dd>')
    if f.resources:
        res = "<br>".join(f"<code>{_e(r.id)}</code> ({_e(r.type)})" for r in f.resources)
        out.append(f"<dt>Resources</dt><dd>{res}</dd>")
    if granted:
        out.append(f"<dt>Access</dt><dd>{_e(granted)}</dd>")
    counted = _counted(f)
    if counted:
        out.append(f"<dt>Counted</dt><dd>{_e(counted)}</dd>")
    if f.mitre:
        out.append(f"<dt>MITRE ATT&amp;CK</dt><dd>{_join(f.mitre)}</dd>")
    if f.event_ids:
        sample = f" (sample of {f.count})" if f.count > len(f.event_ids) else ""
        out.append(f"<dt>Event ids</dt><dd><code>{_join(f.event_ids)}</code>{sample}</dd>")
    elif f.event_id:
        out.append(f"<dt>Event id</dt><dd><code>{_e(f.event_id)}</code></dd>")
    if f.remediation:
        out.append(f"<dt>Remediation</dt><dd>{_e(f.remediation)}</dd>")
    if f.explain:
        out.append(f"<dt>Explain</dt><dd><code>trailguard explain {_e(f.explain)}</code></dd>")
    return "".join(out)


def detection_row_html(i: int, f: Finding) -> str:
    """The two table rows (summary, then details) of detection ``f``, row id ``f<i>``."""
    rid, sev = f"f{i}", _e(f.severity.value)
    granted = grant_label(f)
    first_dt, last_dt = first_seen(f), last_seen(f)
    first, last = short_time(first_dt), short_time(last_dt)
    seen = ""
    if first and first != last:
        seen = (f'<time datetime="{_e(iso_z(first_dt) or "")}">{_e(first)}</time><br>'
                '<span class="muted">to</span> ')
    seen += f'<time datetime="{_e(iso_z(last_dt) or "")}">{_e(last)}</time>'
    name = f.event_name or f.explain or ""
    event = f'<a href="#{_e(anchor(name))}">{_e(name)}</a>' if name else ""
    actor = _e(actor_label(f.actor))
    where = _e(f.account_id or "") + ("<br>" if f.account_id and f.region else "") + _e(
        f.region or "")
    targets = [r.name or short_arn(r.id) for r in f.resources]
    return (
        f'<tr class="finding" id="{rid}" data-severity="{sev}" '
        f'data-status="{_e(f.status.value)}" data-rule="{_e(f.title)}" '
        f'data-actor="{actor}" data-event="{_e(name)}">\n'
        f'  <td><span class="sev sev-{sev}">{sev}</span></td>\n'
        f'  <td class="num">{_e(f.count)}</td>\n'
        f"  <td>{seen}</td>\n"
        f"  <td>{_e(f.title)}</td>\n"
        f"  <td>{event}</td>\n"
        f"  <td>{actor}</td>\n"
        f"  <td>{_e(f.actor.source_ip if f.actor else '')}</td>\n"
        f"  <td>{_targets_cell(targets, granted)}</td>\n"
        f"  <td>{where}</td>\n"
        "</tr>\n"
        f'<tr class="detail" id="{rid}-detail"><td colspan="9"><details><summary>Details'
        '</summary>\n<dl class="kv">\n'
        f"{_details(f, first, last, granted)}</dl>\n"
        "</details></td></tr>\n"
    )


def detection_rows_html(findings: list[Finding]) -> Markup:
    """Every detection's rows, ids ``f0``, ``f1``..., ready for the template (escaped)."""
    return Markup("".join(detection_row_html(i, f) for i, f in enumerate(findings)))
