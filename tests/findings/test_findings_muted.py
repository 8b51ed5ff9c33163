"""MUTED posture results (accepted risks, audit exceptions) in every output format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from findings_builders import ACCOUNT, XSS, audit_report, posture
from test_findings_asff import assert_valid
from test_findings_html import parse

from trailguard.findings.asff import asff_findings
from trailguard.findings.html import render_html
from trailguard.findings.ids import finding_ids
from trailguard.findings.model import Report, Resource, Severity, Status
from trailguard.findings.ocsf import ocsf_events
from trailguard.findings.output import write_report

CHECK = "iam_user_mfa_enabled_console_access"
REASON = "accepted: break-glass, password in the safe (RISK-42) (exception expires 2099-12-31)"


def _users(*names: str) -> list[Resource]:
    return [Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/{n}", name=n,
                     account_id=ACCOUNT) for n in names]


def muted_report(reason: str = REASON) -> Report:
    """A FAIL split by an exception (alice and bob FAIL, break-glass MUTED), plus a PASS."""
    base = dict(rule_id=CHECK, title="Console users have MFA", severity=Severity.high,
                cis=["1.10"], remediation="mfa-enforce-policy")
    return audit_report([
        posture(**base, resources=_users("alice", "bob")),
        posture(**base, status=Status.MUTED, resources=_users("break-glass"), reason=reason),
        posture(rule_id="iam_root_mfa_enabled", title="Root has MFA", status=Status.PASS,
                resources=[]),
    ])


def _write(report: Report, fmt: str, tmp_path: Path) -> str:
    out = tmp_path / f"r.{fmt}"
    write_report(report, fmt, out)
    return out.read_text()


def test_table_shows_muted_status_resources_and_reason(tmp_path: Path) -> None:
    text = _write(muted_report(), "table", tmp_path)
    lines = [line for line in text.splitlines() if "MUTED" in line]
    assert len(lines) == 1 and "1: break-glass" in lines[0] and "accepted: break-glass" in lines[0]
    assert text.index("2: alice, bob") < text.index("1: break-glass")  # FAIL first


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_flat_formats_carry_the_status(fmt: str, tmp_path: Path) -> None:
    text = _write(muted_report(), fmt, tmp_path)
    if fmt == "json":
        rows = json.loads(text)["findings"]
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["status"], r["reason"] or None) for r in rows] == [
        ("FAIL", None), ("MUTED", REASON), ("PASS", None)]


def test_ocsf_muted_is_suppressed_and_still_fails_the_control() -> None:
    events = ocsf_events(muted_report())
    fail, muted = events[0], events[1]
    assert (muted["status_id"], muted["status"], muted["status_code"]) == (3, "Suppressed",
                                                                          "MUTED")
    assert (muted["compliance"]["status_id"], muted["compliance"]["status"]) == (3, "Fail")
    assert muted["status_detail"] == REASON == muted["compliance"]["status_detail"]
    assert [r["name"] for r in muted["resources"]] == ["break-glass"]
    assert (fail["status_id"], fail["compliance"]["status_id"]) == (1, 3)


def test_asff_muted_is_suppressed_failed_and_valid() -> None:
    found = asff_findings(muted_report())
    assert_valid(found)
    fail, muted = found[0], found[1]
    assert (muted["Workflow"]["Status"], muted["Compliance"]["Status"]) == ("SUPPRESSED",
                                                                            "FAILED")
    assert (fail["Workflow"]["Status"], fail["Compliance"]["Status"]) == ("NEW", "FAILED")
    assert muted["ProductFields"]["trailguard/Status"] == "MUTED"
    assert muted["Description"].endswith(f"Muted: {REASON}")
    assert [r["Id"] for r in muted["Resources"]] == [f"arn:aws:iam::{ACCOUNT}:user/break-glass"]


def test_split_fail_keeps_its_id_and_whole_muted_result_keeps_the_checks_id() -> None:
    report = muted_report()
    unsplit = audit_report([report.findings[0].model_copy(
        update={"resources": _users("alice", "bob", "break-glass")})])
    ids = finding_ids(report)
    assert ids[0] == finding_ids(unsplit)[0] and len(set(ids)) == 3
    whole = audit_report([report.findings[1]])
    assert finding_ids(whole) == finding_ids(unsplit)  # re-import updates the same finding


def test_html_muted_row_is_distinct_with_its_reason_and_escaped() -> None:
    html = render_html(muted_report(reason=f"accepted: {XSS} (exception has no expiry)"))
    doc = parse(html)
    rows = doc.find("tr", **{"class": "finding"})
    assert [r["data-status"] for r in rows] == ["FAIL", "MUTED", "PASS"]
    assert '<td class="st st-MUTED">MUTED</td>' in html
    assert "1: break-glass" in html
    assert "accepted: &lt;script&gt;alert(&#39;ua&#39;)&lt;/script&gt;" in html
    assert XSS not in html and len(doc.find("script")) == 1
    assert '<b class="st st-MUTED">1</b>muted (accepted risk)' in html
    assert '<td class="st st-MUTED">MUTED</td><td class="num">' in html  # status-by-severity
    assert ".st-MUTED {" in html and 'tr[data-status="MUTED"] > td' in html
    assert "muted (accepted risk)" not in render_html(audit_report([posture()]))


def test_summary_line_counts_muted_results() -> None:
    from trailguard.findings.summary import summary_lines

    assert summary_lines(muted_report())[0] == (
        "1 passed, 1 failed, 0 error(s), 1 muted (accepted by an exception); "
        "failing by severity: 1 high")
    plain = audit_report([posture(rule_id=CHECK, title="t", severity=Severity.high)])
    assert "muted" not in summary_lines(plain)[0]
