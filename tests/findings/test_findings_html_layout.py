"""The HTML findings tables fit a 1400 px window (QA item 17): fixed layout, wrapping cells."""

from __future__ import annotations

import re

from findings_builders import audit_report, detection, posture_set, scan_report

from trailguard.findings.html import render_html
from trailguard.findings.model import Actor, Resource

LONG_ARN = ("arn:aws:s3:::" + "very-long-bucket-name-without-any-break-" * 4
            + "/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/object.json.gz")


def _table(html: str, table_id: str) -> str:
    return html.split(f'<table id="{table_id}"', 1)[1].split("</table>", 1)[0]


def _header_count(table: str) -> int:
    return len(re.findall(r"<th>", table.split("</thead>", 1)[0]))


def _long_finding():
    return detection(
        actor=Actor(identity_type="AssumedRole",
                    arn="arn:aws:sts::111122223333:assumed-role/" + "A" * 80 + "/session",
                    source_ip="2001:db8:85a3:0000:0000:8a2e:0370:7334"),
        resources=[Resource(type="AwsS3Object", id=LONG_ARN)],
    )


def test_detections_table_has_fixed_layout_and_a_width_per_column() -> None:
    html = render_html(scan_report([_long_finding()]))
    table = _table(html, "detections")
    assert 'class="findings"' in html.split('<table id="detections"', 1)[1][:40]
    cols = re.findall(r"<col class=\"(c-[a-z]+)\">", table)
    assert len(cols) == _header_count(table) == 9
    # the details row spans every column
    assert f'colspan="{len(cols)}"' in table
    css = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert re.search(r"table\.findings\s*\{\s*table-layout:\s*fixed", css)
    assert re.search(r"table\.findings td[^{]*\{[^}]*overflow-wrap:\s*anywhere", css)
    for short in ("c-sev", "c-count", "c-seen", "c-ip", "c-where"):
        assert re.search(rf"col\.{short} \{{ width: \d+px; \}}", css), short
    # long values are all still in the page, in full (wrapped by CSS, never cut)
    assert LONG_ARN in html and "A" * 80 in html
    assert "Account / Region" in table and "123456789012<br>us-east-1" in table


def test_seen_column_shows_first_and_last_once_each() -> None:
    html = render_html(scan_report([_long_finding()]))
    row = _table(html, "detections").split('class="detail"', 1)[0]
    assert '<time datetime="2026-11-20T10:15:00Z">2026-11-20 10:15:00</time>' in row
    assert '<time datetime="2026-11-20T12:40:05Z">2026-11-20 12:40:05</time>' in row
    assert "Seen (UTC)" in html


def test_posture_table_fixed_layout() -> None:
    html = render_html(audit_report(posture_set()))
    table = _table(html, "posture")
    cols = re.findall(r"<col class=\"(c-[a-z]+)\">", table)
    assert len(cols) == _header_count(table) == 7
    assert f'colspan="{len(cols)}"' in table
