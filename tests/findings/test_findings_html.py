"""HTML: self-contained, escaped, parses, has filters, chart and per-event guidance sections."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from findings_builders import XSS, audit_report, detection, detection_set, posture_set, scan_report

import trailguard.kb.loader as kb_loader
from trailguard.findings.html import FILTER_SCRIPT, anchor, render_html
from trailguard.findings.model import Actor, Report, Severity
from trailguard.findings.output import write_report
from trailguard.findings.timeline import build_timeline
from trailguard.kb.schema import Entry

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SVG_SELF_CLOSING = {"line", "rect", "path", "circle"}


class Doc(HTMLParser):
    """Collects elements, ids, links and script bodies; checks that tags nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag
                and all(a.get(k) == v for k, v in attrs.items())]


def parse(html: str) -> Doc:
    doc = Doc()
    doc.feed(html)
    doc.close()
    assert not doc.errors, doc.errors[:5]
    assert doc.stack == [], doc.stack
    return doc


def _entry(name: str, related: str) -> Entry:
    action = {
        "id": "deactivate-key", "title": "Deactivate the key", "why": "Stops its use.",
        "console": ["IAM > Users > Security credentials > Deactivate"],
        "cli": [{"command": "aws iam update-access-key --user-name bob "
                            "--access-key-id AKIAIOSFODNN7EXAMPLE --status Inactive",
                 "explain": "Deactivate."}],
        "boto3": {"code": "import boto3\n", "moto": {"skip_reason": "test entry"}},
    }
    harden = {**action, "id": "alert-on-keys", "title": "Alert on new access keys"}
    return Entry.model_validate({
        "event_name": name, "event_source": "iam.amazonaws.com", "service": "iam",
        "api_operation": name, "changes_state": True, "category": "credential-creation",
        "severity": "high",
        "mitre_attack": [{"id": "T1098.001", "name": "Additional Cloud Credentials",
                          "tactic": "persistence"}],
        "summary": {"what": f"What {name} means <b>really</b>.", "who_can": "iam:" + name,
                    "actor_fields": [{"field": "userIdentity.arn", "meaning": "who"}],
                    "target_fields": [{"field": "requestParameters.userName",
                                       "meaning": "target"}]},
        "impact": [{"scenario": s, "title": s, "description": s}
                   for s in ("unauthorized_use", "malicious_insider", "accident")],
        "investigation": {
            "fields": [{"field": "requestParameters.userName", "meaning": "The target user."}],
            "related_events": [{"event": related, "window": "1 hour after", "why": "next step"},
                               {"event": "GetCallerIdentity", "window": "after",
                                "why": "testing the key"}],
            "benign": ["rotation"],
        },
        "response": [action], "hardening": [harden],
        "references": [{"title": "docs", "url": "https://docs.aws.amazon.com/IAM/"}],
    })


@pytest.fixture()
def kb(monkeypatch: pytest.MonkeyPatch) -> None:
    """A knowledge base that knows CreateAccessKey only."""
    entries = {"createaccesskey": _entry("CreateAccessKey", "StopLogging")}
    monkeypatch.setattr(kb_loader, "get_entry", lambda name: entries.get(name.lower()))


def test_html_parses_and_is_self_contained(kb, scan_full: Report, tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    write_report(scan_full, "html", path)
    html = path.read_text(encoding="utf-8")
    doc = parse(html)
    for tag, attrs in doc.tags:
        for key in ("src", "href", "action", "data", "poster", "srcset"):
            value = (attrs.get(key) or "").strip().lower()
            assert not re.match(r"^(https?:)?//", value), (tag, key, value)
    assert not doc.find("link") and not doc.find("img") and not doc.find("iframe")
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert not re.search(r"@import", html)
    assert len(doc.find("script")) == 1 and not doc.find("script")[0].get("src")


def test_csp_allows_only_the_report_script(kb, scan_full: Report) -> None:
    doc = parse(render_html(scan_full))
    csp = doc.find("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"]
    assert "default-src 'none'" in csp
    body = doc.scripts[0]
    assert body == FILTER_SCRIPT
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]


def test_attacker_values_are_escaped(kb) -> None:
    hostile = detection(
        title='<img src=x onerror=alert(1)>',
        event_name='Evil"><script>alert(2)</script>',
        explain=None,
        actor=Actor(arn="arn:aws:iam::123456789012:user/<svg/onload=alert(3)>",
                    source_ip="203.0.113.9", user_agent=XSS),
    )
    html = render_html(scan_report([hostile]))
    doc = parse(html)
    assert len(doc.find("script")) == 1  # only ours
    assert not doc.find("img")
    assert [a.get("id") for a in doc.find("svg")] == ["timeline-chart"]  # only our chart
    assert all("onerror" not in a and "onload" not in a for _, a in doc.tags)
    assert "&lt;script&gt;alert(&#39;ua&#39;)&lt;/script&gt;" in html
    assert XSS in "".join(doc.text)  # shown to the analyst as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # the anchor is sanitised; the link and the section agree
    a = anchor('Evil"><script>alert(2)</script>')
    assert re.fullmatch(r"event-[A-Za-z0-9_.-]+", a)
    assert doc.find("a", href=f"#{a}") and a in doc.ids()


def test_filters_and_rows(kb, scan_full: Report) -> None:
    doc = parse(render_html(scan_full))
    names = {a["name"] for a in doc.find("select")}
    assert names == {"severity", "rule", "actor", "event"}
    assert doc.find("input", name="q", type="search")
    rows = doc.find("tr", **{"class": "finding"})
    assert len(rows) == 3
    assert [r["data-severity"] for r in rows] == ["critical", "high", "low"]
    assert rows[1]["data-actor"] == "user/alice" and rows[1]["data-event"] == "CreateAccessKey"
    assert rows[0]["data-actor"] == "assumed-role/Admin/mallory"
    # every option of every filter selects at least one row, by the exact attribute value
    options: dict[str, list[str]] = {}
    current = None
    for tag, attrs in doc.tags:
        if tag == "select":
            current = attrs["name"]
        elif tag == "option" and attrs.get("value"):
            options.setdefault(current, []).append(attrs["value"])
    for name, values in options.items():
        for value in values:
            assert any(r[f"data-{name}"] == value for r in rows), (name, value)
    html = render_html(scan_full)
    assert '<option value="assumed-role/Admin/mallory">assumed-role/Admin/mallory</option>' in html
    assert '<option value="CloudTrail logging stopped">' in html
    assert '<time datetime="2026-11-20T10:15:00Z">2026-11-20 10:15:00</time>' in html
    assert '<time datetime="2026-11-20T12:40:05Z">2026-11-20 12:40:05</time>' in html
    assert '<td class="num">3</td>' in html  # grouped count


def test_event_sections_with_and_without_guidance(kb, scan_full: Report) -> None:
    html = render_html(scan_full)
    doc = parse(html)
    for name in ("CreateAccessKey", "StopLogging", "ConsoleLogin"):
        assert f"event-{name}" in doc.ids()
        assert doc.find("a", href=f"#event-{name}")
    section = html.split('id="event-CreateAccessKey"', 1)[1].split("</section>", 1)[0]
    assert "What CreateAccessKey means &lt;b&gt;really&lt;/b&gt;." in section
    assert "requestParameters.userName" in section and "The target user." in section
    assert '<a href="#event-StopLogging">StopLogging</a>' in section  # related, in report
    assert "<b>GetCallerIdentity</b>" in section  # related, not in report
    assert "Deactivate the key" in section
    assert "aws iam update-access-key --user-name bob" in section
    assert "Alert on new access keys" in section
    stop = html.split('id="event-StopLogging"', 1)[1].split("</section>", 1)[0]
    assert "No curated guidance exists for this event yet" in stop
    assert "<code>trailguard explain StopLogging</code>" in stop


def test_broken_knowledge_base_does_not_lose_the_report(monkeypatch, scan_full) -> None:
    def broken(name: str):
        raise kb_loader.KnowledgeBaseError("knowledge/iam/X.yaml: not valid YAML")

    monkeypatch.setattr(kb_loader, "get_entry", broken)
    html = render_html(scan_full)
    assert "the knowledge base could not be read: knowledge/iam/X.yaml" in html
    assert html.count('class="finding"') == 3


def test_every_curated_entry_renders() -> None:
    """The real knowledge base: each curated event's section shows its guidance, escaped."""
    from markupsafe import escape

    entries = kb_loader.load_entries()
    if not entries:
        pytest.skip("no curated entries yet")
    findings = [detection(event_name=name, explain=name, rule_id=f"r-{name}")
                for name in sorted(entries)]
    html = render_html(scan_report(findings))
    parse(html)
    for name, entry in entries.items():
        section = html.split(f'id="{anchor(name)}"', 1)[1].split("</section>", 1)[0]
        assert str(escape(" ".join(entry.summary.what.split()))) in " ".join(section.split())
        assert str(escape(entry.response[0].title)) in section
        assert str(escape(entry.response[0].cli[0].command)) in section
        assert "No curated guidance" not in section


def test_timeline_chart_in_report(kb, scan_full: Report) -> None:
    doc = parse(render_html(scan_full))
    assert doc.find("svg", id="timeline-chart")
    bars = doc.find("rect", **{"class": "bar"})
    # 10:15-12:40 spread over 3 hours + one bar at 03:00 next day + one at 22:00
    assert len(bars) == 5
    assert {b["fill"] for b in bars} == {"#7f1d1d", "#dc2626", "#3b82f6"}


def test_timeline_hourly_buckets_and_spread() -> None:
    tl = build_timeline(detection_set())
    assert tl is not None and tl.unit == "hour"
    assert tl.bars[0].start == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert len(tl.bars) == 37  # 20th 10:00 .. 21st 22:00
    assert sum(b.total for b in tl.bars) == pytest.approx(5)
    assert [round(b.total, 6) for b in tl.bars[:4]] == [1, 1, 1, 0]
    assert tl.bars[17].counts == {Severity.critical: 1}
    assert tl.max_total == 1


def test_timeline_units_grow_with_span() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    days = build_timeline([detection(first_seen=t0, last_seen=t0 + timedelta(days=20), count=21)])
    assert days.unit == "day" and len(days.bars) == 21
    assert days.bars[0].total == pytest.approx(1)
    weeks = build_timeline([detection(first_seen=t0, last_seen=t0 + timedelta(days=400))])
    assert weeks.unit == "week"
    long = build_timeline([detection(first_seen=t0, last_seen=t0 + timedelta(days=3000))])
    assert long.unit == "30 days" and len(long.bars) <= 101
    assert build_timeline([detection(first_seen=None, last_seen=None, event_time=None)]) is None


def test_scan_summary_and_skipped(kb, scan_full: Report) -> None:
    html = render_html(scan_full)
    doc = parse(html)
    assert "skipped" in doc.ids() and "stats" in doc.ids()
    assert "<code>logs/broken.json.gz</code></td><td>not gzip: bad magic" in html
    assert "<dt>files read</dt><dd>12</dd>" in html
    assert "<b>5</b>matched events" in html


def test_audit_report(kb, audit_full: Report) -> None:
    html = render_html(audit_full)
    doc = parse(html)
    assert {a["name"] for a in doc.find("select")} == {"severity", "status", "rule"}
    assert '<b class="st st-FAIL">2</b>failed' in html
    assert '<b class="st st-ERROR">1</b>errors' in html
    assert '<b class="st st-PASS">1</b>passed' in html
    assert "status-by-severity" in doc.ids()
    assert "5: u0, u1, u2 +2 more" in html
    assert "AccessDenied on cloudtrail:DescribeTrails" in html
    assert not doc.find("svg", id="timeline-chart")
    rows = doc.find("tr", **{"class": "finding"})
    assert [r["data-status"] for r in rows] == ["FAIL", "FAIL", "ERROR", "PASS"]


def test_empty_reports(kb) -> None:
    for report in (scan_report([]), audit_report([])):
        doc = parse(render_html(report))
        assert "no-findings" in doc.ids()
        assert not doc.find("form") and not doc.find("svg")


def test_unicode_is_kept(kb, tmp_path: Path) -> None:
    path = tmp_path / "u.html"
    write_report(scan_report(detection_set()), "html", path)
    text = path.read_bytes().decode("utf-8")
    assert "Zoë’s 東京 office" in text
    assert '<meta charset="utf-8">' in text


def test_mixed_report_renders_both_tables(kb) -> None:
    doc = parse(render_html(scan_report([*detection_set(), *posture_set()])))
    assert {"detections", "posture"} <= doc.ids()
    assert len(doc.find("tr", **{"class": "finding"})) == 7


def test_sigma_filters_are_listed_with_what_they_dropped(kb) -> None:
    from trailguard.findings.model import FilterResult

    report = scan_report([detection()])
    report.filters = [
        FilterResult(title="CI rotates keys", source="filters/ci.yml", description=XSS,
                     rules=["tg_iam_create_access_key"], events_dropped=12,
                     expires=datetime(2027, 3, 1).date()),
        FilterResult(title="Old <b>exception</b>", source="filters/old.yml", applied=False,
                     rules=[f"r{i}" for i in range(5)], expires=datetime(2020, 1, 1).date()),
    ]
    html = render_html(report)
    doc = parse(html)
    assert "sigma-filters" in doc.ids() and len(doc.find("script")) == 1
    assert ("<tr><td>CI rotates keys<br><code>filters/ci.yml</code></td>" in html
            and '<td class="num">12</td>' in html)
    assert "2020-01-01 <b>(expired: not applied)</b>" in html
    assert "Old &lt;b&gt;exception&lt;/b&gt;" in html and "<td>5 rules</td>" in html
    assert "sigma-filters" not in parse(render_html(scan_report([detection()]))).ids()
