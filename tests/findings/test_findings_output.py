"""write_report dispatch, summaries, and the json/jsonl/csv/table formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from findings_builders import XSS, audit_report, detection, posture, scan_report

from trailguard.findings.flat import CSV_COLUMNS
from trailguard.findings.model import Report, Severity
from trailguard.findings.output import FORMATS, summarize, write_report


def render(report: Report, fmt: str, tmp_path: Path) -> str:
    out = tmp_path / f"report.{fmt}"
    write_report(report, fmt, out)
    return out.read_text(encoding="utf-8")


def test_formats_are_the_documented_seven() -> None:
    assert FORMATS == ("table", "json", "jsonl", "csv", "ocsf", "asff", "html")


def test_unknown_format_names_valid_ones(scan_full: Report, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'.*table, json, jsonl"):
        write_report(scan_full, "xml", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_format_name_is_case_insensitive(scan_full: Report, tmp_path: Path) -> None:
    assert json.loads(render(scan_full, "JSON", tmp_path))["command"] == "scan"


def test_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    import trailguard.findings.flat as flat

    def boom(report, stream):
        stream.write("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(flat, "write_json", boom)
    with pytest.raises(RuntimeError):
        write_report(scan_report([detection()]), "json", tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_json_round_trips_the_whole_report(scan_full: Report, tmp_path: Path) -> None:
    text = render(scan_full, "json", tmp_path)
    again = Report.model_validate_json(text)
    assert again == scan_full
    assert '\n  "command": "scan"' in text  # indented


def test_json_keeps_unicode(scan_full: Report, tmp_path: Path) -> None:
    text = render(scan_full, "json", tmp_path)
    assert "Zoë’s 東京 office" in json.loads(text)["findings"][2]["title"]


def test_json_to_stdout(scan_full: Report, capsys) -> None:
    write_report(scan_full, "json", None)
    assert json.loads(capsys.readouterr().out)["stats"]["events"] == 4200


def test_jsonl_one_finding_per_line(scan_full: Report, tmp_path: Path) -> None:
    lines = render(scan_full, "jsonl", tmp_path).splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first["count"] == 3
    assert first["first_seen"] == "2026-11-20T10:15:00Z"
    assert first["actor"]["arn"].endswith(":user/alice")


def test_jsonl_empty_report_is_empty(tmp_path: Path) -> None:
    assert render(scan_report([]), "jsonl", tmp_path) == ""


def test_csv_stable_columns_and_values(scan_full: Report, audit_full: Report,
                                       tmp_path: Path) -> None:
    report = scan_report([*scan_full.findings, *audit_full.findings])
    rows = list(csv.DictReader(io.StringIO(render(report, "csv", tmp_path), newline="")))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 7
    first = rows[0]
    assert first["count"] == "3"
    assert first["first_seen"] == "2026-11-20T10:15:00Z"
    assert first["last_seen"] == "2026-11-20T12:40:05Z"
    assert first["actor_mfa_authenticated"] == "false"
    assert first["resource_ids"] == "arn:aws:iam::123456789012:user/bob"
    login = rows[2]
    assert login["event_time"] == "2026-11-21T22:00:00Z"  # naive time rendered as UTC
    assert login["title"].endswith("Zoë’s 東京 office")
    mfa = next(r for r in rows if r["rule_id"] == "iam_user_mfa_console")
    assert mfa["resource_count"] == "5"
    assert mfa["resource_ids"].count(";") == 4
    err = next(r for r in rows if r["status"] == "ERROR")
    assert err["reason"] == "AccessDenied on cloudtrail:DescribeTrails"
    assert err["cis"] == "3.1"


def test_csv_neutralises_spreadsheet_formulas(tmp_path: Path) -> None:
    f = detection()
    f.actor.user_agent = '=HYPERLINK("http://evil.example","x")'
    f.actor.session_name = "@SUM(1)"
    rows = list(csv.DictReader(io.StringIO(render(scan_report([f]), "csv", tmp_path))))
    assert rows[0]["user_agent"] == "'" + f.actor.user_agent
    assert rows[0]["actor_session_name"] == "'@SUM(1)"


def test_csv_empty_report_has_header_only(tmp_path: Path) -> None:
    text = render(audit_report([]), "csv", tmp_path)
    assert text.splitlines() == [",".join(CSV_COLUMNS)]


def test_summarize_scan(scan_full: Report) -> None:
    s = summarize(scan_full)
    assert s["findings"] == 3
    assert s["occurrences"] == 5
    assert s["by_severity"] == {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 0}
    assert list(s["by_severity"]) == ["critical", "high", "medium", "low", "info"]
    assert s["highest"] == "critical"
    assert s["skipped"] == 1
    assert s["stats"]["events"] == 4200


def test_summarize_audit(audit_full: Report) -> None:
    s = summarize(audit_full)
    assert s["by_status"]["PASS"]["total"] == 1
    assert s["by_status"]["FAIL"]["total"] == 2
    assert s["by_status"]["ERROR"]["total"] == 1
    assert s["by_status"]["FAIL"]["by_severity"]["high"] == 1
    assert s["by_status"]["PASS"]["by_severity"]["critical"] == 1
    # open findings are the failures only: the passing critical check does not count
    assert s["by_severity"] == {"critical": 0, "high": 1, "medium": 1, "low": 0, "info": 0}
    assert s["highest"] == "high"


def test_summarize_empty() -> None:
    s = summarize(scan_report([]))
    assert s["findings"] == 0 and s["occurrences"] == 0 and s["highest"] is None


def test_table_detections_to_file(scan_full: Report, tmp_path: Path) -> None:
    text = render(scan_full, "table", tmp_path)
    assert "Detections" in text
    assert "\x1b[" not in text  # plain text in a file
    lines = text.splitlines()
    stop = next(i for i, ln in enumerate(lines) if "StopLogging" in ln)
    key = next(i for i, ln in enumerate(lines) if "CreateAccessKey" in ln)
    assert stop < key  # critical before high
    assert "2026-11-20 12:40:05" in lines[key]  # last seen
    assert "user/alice" in lines[key] and "203.0.113.7" in lines[key]
    assert "trailguard explain" not in lines[2]  # no duplicate explain column
    assert "│ CreateAccessKey" in lines[key]  # the event name is the explain key
    assert "details (what an event means, how to respond): trailguard explain EVENT" in text
    assert "assumed-role/Admin/mallory" in text
    assert "3 finding(s) from 5 matched event(s): 1 critical, 1 high, 1 low" in text
    assert "logs/broken.json.gz: not gzip: bad magic" in text
    assert "Zoë’s" in text and "東" in text and "京" in text  # folded, never cut


def test_table_posture(audit_full: Report, tmp_path: Path) -> None:
    text = render(audit_full, "table", tmp_path)
    assert "Posture checks" in text
    assert "5: u0, u1, u2 +2 more" in text
    assert "AccessDenied on cloudtrail:DescribeTrails" in text
    assert "1 passed, 2 failed, 1 error(s)" in text
    lines = text.splitlines()
    fail = next(i for i, ln in enumerate(lines) if "iam_user_mfa_console" in ln)
    ok = next(i for i, ln in enumerate(lines) if "iam_root_mfa_enabled" in ln)
    assert fail < ok  # a failing high check before a passing critical one
    assert "1.10" in lines[fail]


def test_table_does_not_interpret_markup_or_escapes(tmp_path: Path) -> None:
    f = detection(title="[bold red]pwned[/] \x1b[2J", event_name="Create[x]")
    text = render(scan_report([f]), "table", tmp_path)
    assert "[bold red]pwned[/]" in text
    assert "\x1b" not in text


def test_table_to_stdout(scan_full: Report, capsys) -> None:
    write_report(scan_full, "table")
    out = capsys.readouterr().out
    assert "StopLogging" in out and XSS[:8] not in out  # user agent is not a table column


def test_table_empty(tmp_path: Path) -> None:
    text = render(audit_report([]), "table", tmp_path)
    assert "No findings." in text
    assert "0 passed, 0 failed, 0 error(s)" in text


SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_outputs_secrets(fmt: str, tmp_path: Path) -> None:
    details = {
        "userName": "bob",
        "password": "hunter2-Secret!",
        "passwordResetRequired": True,
        "credentials": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": SECRET,
                        "sessionToken": "FwoGZXIvYXdzEXAMPLETOKEN"},
        "nested": [{"privateKey": "-----BEGIN RSA PRIVATE KEY-----"}],
    }
    f = detection()
    f.resources[0].details = details
    text = render(scan_report([f, posture()]), fmt, tmp_path)
    for secret in ("hunter2", SECRET, "FwoGZXIvYXdz", "BEGIN RSA PRIVATE KEY"):
        assert secret not in text, (fmt, secret)
    assert details["password"] == "hunter2-Secret!"  # the caller's report is not modified
    if fmt == "json":
        got = json.loads(text)["findings"][0]["resources"][0]["details"]
        assert got["password"] == "[REDACTED]" and got["credentials"] == "[REDACTED]"
        assert got["passwordResetRequired"] is True and got["userName"] == "bob"
        assert got["nested"] == [{"privateKey": "[REDACTED]"}]


def test_jsonl_posture(audit_full: Report, tmp_path: Path) -> None:
    lines = [json.loads(x) for x in render(audit_full, "jsonl", tmp_path).splitlines()]
    assert [x["status"] for x in lines] == ["FAIL", "PASS", "FAIL", "ERROR"]
    assert lines[3]["reason"] == "AccessDenied on cloudtrail:DescribeTrails"
    assert lines[0]["observed_at"] == "2026-11-24T08:00:00Z"


def test_table_caps_rows_and_says_so(tmp_path: Path, monkeypatch) -> None:
    import trailguard.findings.table as table

    monkeypatch.setattr(table, "MAX_TABLE_ROWS", 2)
    report = scan_report([detection(rule_id=f"r{i}", title=f"Rule number {i}") for i in range(4)]
                         + [detection(rule_id="crit", title="The critical one",
                                      severity=Severity.critical)])
    text = render(report, "table", tmp_path)
    assert "The critical one" in text  # most urgent kept
    assert sum(f"Rule number {i}" in text for i in range(4)) == 1
    assert "3 more finding(s) of lower urgency are not shown in this table (all 5" in text
    assert "5 finding(s) from 15 matched event(s)" in text


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", ["scan", "audit"])
def test_every_format_handles_an_empty_report(fmt: str, command: str, tmp_path: Path) -> None:
    report = scan_report([]) if command == "scan" else audit_report([])
    text = render(report, fmt, tmp_path)
    if fmt == "json":
        assert json.loads(text)["findings"] == [] and json.loads(text)["command"] == command
    elif fmt in ("ocsf", "asff"):
        assert json.loads(text) == []
    elif fmt == "jsonl":
        assert text == ""
    elif fmt == "csv":
        assert text.count("\n") == 1
    elif fmt == "table":
        assert "No findings." in text
    else:
        assert "No findings." in text and text.rstrip().endswith("</html>")


def test_dash_means_stdout_and_files_are_owner_only(scan_full: Report, tmp_path: Path,
                                                    capsys) -> None:
    write_report(scan_full, "jsonl", Path("-"))
    assert len(capsys.readouterr().out.splitlines()) == 3
    out = tmp_path / "r.jsonl"
    write_report(scan_full, "jsonl", out)
    assert out.stat().st_mode & 0o777 == 0o600


def test_writing_to_a_device_writes_through_and_keeps_the_device(tmp_path) -> None:
    """--output /dev/null must not replace the device with a regular file (atomic rename)."""
    import os
    import stat
    import threading

    from trailguard.findings.model import Report
    from trailguard.findings.output import write_report

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    report = Report(command="scan", generated_at="2026-11-20T10:00:00Z")
    write_report(report, "json", fifo)
    reader.join(timeout=10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not replaced by a file
    assert '"command": "scan"' in received[0]
    write_report(report, "json", Path(os.devnull))
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
