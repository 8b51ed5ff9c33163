"""The terminal table stays readable at 80, 120 and 200 columns (QA item 5)."""

from __future__ import annotations

import io
import re

import pytest
from findings_builders import detection, detection_set, posture_set, scan_report
from rich.console import Console

from trailguard.findings.output import write_report
from trailguard.findings.table import (
    SPLIT_FROM,
    WIDE_FROM,
    detections_table,
    posture_table,
)

LONG = detection(
    rule_id="long", title="IAM Service-Specific Credential Created For Another User Today",
    event_name="CreateServiceSpecificCredential", explain="CreateServiceSpecificCredential",
)


def render(table, width: int) -> str:
    console = Console(width=width, record=True, no_color=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 120, 200])
def test_detections_keep_severity_title_and_event_whole(width: int) -> None:
    findings = [*detection_set(), LONG]
    text = render(detections_table(findings, width), width)
    lines = text.splitlines()
    assert max(len(ln) for ln in lines) <= width
    # severity, count and event names never wrap: each is whole on one line
    for f in findings:
        assert any(f.event_name in ln for ln in lines), (width, f.event_name)
        assert any(re.search(rf"\b{f.severity.value}\b", ln) for ln in lines)
    # a title may wrap between words but every word is whole and in order
    flat = " ".join(re.sub(r"[│┃|]", " ", text).split())
    for f in findings:
        for word in f.title.split():
            assert word in flat, (width, word)
    # no duplicate "trailguard explain" column; the event name appears once per finding
    assert "trailguard explain" not in text
    assert sum(ln.count("CreateServiceSpecificCredential") for ln in lines) == 1


@pytest.mark.parametrize("width", [80, 120, 200])
def test_headers_are_not_broken_mid_word(width: int) -> None:
    text = render(detections_table(detection_set(), width), width)
    for word in ("Severity", "Count"):
        assert word in text
    assert "Sever" not in text.replace("Severity", "")


def test_low_value_columns_only_on_wide_terminals() -> None:
    narrow = render(detections_table(detection_set(), 80), 80)
    medium = render(detections_table(detection_set(), SPLIT_FROM), SPLIT_FROM)
    wide = render(detections_table(detection_set(), WIDE_FROM), WIDE_FROM)
    assert "Source IP" not in narrow and "Account/Region" not in narrow
    assert "Source IP" not in medium and "Actor" in medium and "Target" in medium
    assert "Source IP" in wide and "Account/Region" in wide and "198.51.100.9" in wide
    assert "assumed-role/Admin/mallory" in narrow.replace("\n", "") or "mallory" in narrow
    assert "main" in narrow  # the target is still named in the compact layout


@pytest.mark.parametrize("width", [80, 120, 200])
def test_posture_table_readable(width: int) -> None:
    text = render(posture_table(posture_set(), width), width)
    lines = text.splitlines()
    assert max(len(ln) for ln in lines) <= width
    headers = ["Status", "Severity", "CIS", "Check"]
    if width >= SPLIT_FROM:
        headers += ["Title", "Failing", "resources", "Reason"]
    for header in headers:
        assert header in text, (width, header)
    for value in ("FAIL", "PASS", "ERROR", "iam_user_mfa_console", "iam_root_mfa_enabled",
                  "Console users have MFA", "5: u0, u1, u2 +2 more",
                  "AccessDenied on cloudtrail:DescribeTrails"):
        assert any(value in ln for ln in lines), (width, value)


def test_explain_hint_said_once_below_table(tmp_path) -> None:
    out = tmp_path / "t.txt"
    write_report(scan_report(detection_set()), "table", out)
    text = out.read_text()
    assert text.count("trailguard explain EVENT") == 1
    assert text.rstrip().endswith("trailguard explain EVENT")
