"""`trailguard scan` end to end: reports, exit codes, summary, usage errors, S3 sources."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from scan_helpers import delivery_bytes, delivery_key, record, write
from typer.testing import CliRunner

from trailguard.cli import app

RULE_ID = "33333333-3333-4333-8333-333333333333"
RULE = f"""
title: Test ListUsers Called
id: {RULE_ID}
status: test
level: high
tags:
  - attack.discovery
  - attack.t1087.004
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: ListUsers
  condition: selection
explain: ListUsers
"""
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture()
def rules_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "rules" / "list_users.yml", RULE).parent


def _run(args: list[str]):
    return CliRunner().invoke(app, ["scan", *args])


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


def _ours(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["rule_id"] == RULE_ID]


def test_findings_exit_1_and_json_report(tmp_path: Path, rules_dir: Path) -> None:
    recs = [record("ListUsers", i, requestParameters={"secretAccessKey": SECRET})
            for i in range(30)]
    write(tmp_path / "logs" / "a.json.gz", delivery_bytes(recs))
    out = tmp_path / "report.json"
    result = _run([str(tmp_path / "logs"), "--rules", str(rules_dir), "-f", "json", "-o",
                   str(out)])
    assert result.exit_code == 1, result.output
    report = _report(out)
    (finding,) = _ours(report)
    assert finding["count"] == 30
    assert len(finding["event_ids"]) == 20  # a bounded sample, never all of them
    assert finding["mitre"] == ["T1087.004"]
    assert finding["actor"]["arn"] == "arn:aws:iam::123456789012:user/alice"
    assert report["stats"]["events"] == 30 and report["stats"]["files_read"] == 1
    assert SECRET not in out.read_text() and SECRET not in result.output
    assert "1 file(s) read" in result.output and "events/s" in result.output


def test_fail_on_threshold_exit_0(tmp_path: Path, rules_dir: Path) -> None:
    write(tmp_path / "a.json", json.dumps([record("ListUsers", 1)]))
    out = tmp_path / "r.json"
    result = _run([str(tmp_path / "a.json"), "--rules", str(rules_dir), "--fail-on",
                   "critical", "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(_ours(_report(out))) == 1


def test_skipped_input_exit_2_report_still_written(tmp_path: Path, rules_dir: Path) -> None:
    write(tmp_path / "logs" / "ok.json", json.dumps([record("ListUsers", 1)]))
    write(tmp_path / "logs" / "bad.json.gz", b"\x1f\x8b\x08\x00 definitely not gzip")
    out = tmp_path / "r.json"
    result = _run([str(tmp_path / "logs"), "--rules", str(rules_dir), "--fail-on", "critical",
                   "-f", "json", "-o", str(out)])
    assert result.exit_code == 2, result.output
    report = _report(out)
    assert len(_ours(report)) == 1
    assert report["skipped"][0]["source"].endswith("bad.json.gz")
    assert "gzip" in report["skipped"][0]["reason"]
    assert "bad.json.gz" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give at least one SOURCE"),
        (["x", "--since", "last tuesday"], "invalid time"),
        (["x", "--since", "2026-11-02", "--until", "2026-11-01"], "is after --until"),
        (["s3://"], "no bucket"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = _run(args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_s3_source_with_window(aws: str, tmp_path: Path, rules_dir: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="logs")
    for n, day in enumerate(["2026-11-01", "2026-11-02", "2026-11-03"]):
        body = delivery_bytes([record("ListUsers", n, eventTime=f"{day}T08:00:00Z")])
        s3.put_object(Bucket="logs", Key=delivery_key(day, n, org="o-abc123def4"), Body=body)
    out = tmp_path / "r.json"
    result = _run(["s3://logs/", "--since", "2026-11-02", "--until", "2026-11-02",
                   "--rules", str(rules_dir), "-f", "json", "-o", str(out)])
    assert result.exit_code == 1, result.output
    report = _report(out)
    # The 11-03 folder is read too (late events of 11-02 are delivered after midnight); its
    # event is outside the window.
    assert report["stats"]["files_read"] == 2 and report["stats"]["events"] == 1
    assert _ours(report)[0]["first_seen"].startswith("2026-11-02T08:00:00")
    assert report["stats"]["api_calls"] >= 1


def test_s3_without_credentials_is_reported_not_a_traceback(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out = tmp_path / "r.json"
    result = _run(["s3://logs/", "-f", "json", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "Unable to locate credentials" in result.output
    assert "Traceback" not in result.output
    assert _report(out)["skipped"][0]["source"] == "s3://logs/"


@pytest.mark.parametrize("gz", [True, False])
def test_dash_reads_standard_input(tmp_path: Path, rules_dir: Path, gz: bool) -> None:
    """``zcat *.json.gz | trailguard scan -`` and gzipped bytes piped in both work."""
    body = delivery_bytes([record("ListUsers", i) for i in range(3)], gz=gz)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app, ["scan", "-", "--rules", str(rules_dir), "-f", "json", "-o", str(out)], input=body
    )
    assert result.exit_code == 1, result.output
    report = _report(out)
    assert report["stats"]["files_read"] == 1 and report["stats"]["events"] == 3
    assert _ours(report)[0]["count"] == 3


def test_dash_with_json_lines_and_a_folder(tmp_path: Path, rules_dir: Path) -> None:
    write(tmp_path / "logs" / "a.json.gz", delivery_bytes([record("ListUsers", 1)]))
    lines = "\n".join(json.dumps(record("ListUsers", i)) for i in range(2, 6)) + "\n"
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        ["scan", "-", str(tmp_path / "logs"), "--rules", str(rules_dir), "-f", "json", "-o",
         str(out)],
        input=lines,
    )
    assert result.exit_code == 1, result.output
    report = _report(out)
    assert report["stats"]["files_read"] == 2 and report["stats"]["events"] == 5


def test_local_mirror_reads_only_the_days_the_window_needs(
    tmp_path: Path, rules_dir: Path
) -> None:
    """As for S3: delivery folders outside --since/--until are not read, and say so."""
    mirror = tmp_path / "mirror"
    times = {"2026-11-01": "10:00", "2026-11-02": "10:00", "2026-11-03": "00:00",
             "2026-11-04": "10:00"}
    for n, (day, hhmm) in enumerate(times.items()):
        # 11-03's file holds a late event of 11-02, delivered after midnight
        when = "2026-11-02T23:58:00Z" if day == "2026-11-03" else f"{day}T{hhmm}:00Z"
        write(mirror / delivery_key(day, n), delivery_bytes([record("ListUsers", n,
                                                                   eventTime=when)]))
    write(tmp_path / "loose.json", json.dumps([record("ListUsers", 9,
                                                      eventTime="2026-11-02T12:00:00Z")]))
    out = tmp_path / "r.json"
    result = _run([str(mirror), str(tmp_path / "loose.json"), "--since", "2026-11-02",
                   "--until", "2026-11-02", "--rules", str(rules_dir), "-f", "json", "-o",
                   str(out)])
    assert result.exit_code == 1, result.output
    report = _report(out)
    # 11-02, 11-03 (the late event) and the loose file outside the layout; not 11-01, 11-04
    assert report["stats"]["files_read"] == 3 and report["stats"]["events"] == 3
    assert report["stats"]["files_outside_window"] == 2
    assert "2 file(s) not read" in result.output


def test_local_mirror_with_nothing_in_the_window_says_so(
    tmp_path: Path, rules_dir: Path
) -> None:
    write(tmp_path / delivery_key("2026-11-01"), delivery_bytes([record("ListUsers", 1)]))
    result = _run([str(tmp_path), "--since", "2026-11-05", "--rules", str(rules_dir)])
    assert result.exit_code == 2
    assert "no CloudTrail log files found under" in result.output
    assert "(within --since/--until)" in result.output
    assert "not CloudTrail" not in result.output  # they are CloudTrail, just outside the window


@pytest.mark.parametrize("error", [KeyboardInterrupt, lambda: RuntimeError("Query interrupted")])
def test_ctrl_c_stops_cleanly_with_exit_130(
    tmp_path: Path, rules_dir: Path, monkeypatch: pytest.MonkeyPatch, error: type
) -> None:
    """Ctrl-C (DuckDB turns it into 'Query interrupted' mid-query): one line, no traceback."""
    from trailguard.scan.engine import Scanner

    def interrupted(self, *_a, **_k):  # type: ignore[no-untyped-def]
        raise error()  # a fresh exception: a shared one would keep this scan's frames alive

    monkeypatch.setattr(Scanner, "scan_inputs", interrupted)
    write(tmp_path / "a.json", json.dumps([record("ListUsers", 1)]))
    out = tmp_path / "r.json"
    result = _run([str(tmp_path / "a.json"), "--rules", str(rules_dir), "-o", str(out)])
    assert result.exit_code == 130
    assert "interrupted" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_overlapping_inputs_count_each_event_once(tmp_path: Path) -> None:
    """An organization trail and an account trail deliver the same events: same eventIDs."""
    recs = [record("DeleteSSHPublicKey", i, eventTime=f"2026-11-20T09:0{i}:00Z")
            for i in range(4)]  # a burst needs 5
    write(tmp_path / "org" / "a.json.gz", delivery_bytes(recs))
    write(tmp_path / "acct" / "a.json.gz", delivery_bytes(recs))
    once, twice = tmp_path / "once.json", tmp_path / "twice.json"
    _run([str(tmp_path / "org"), "-f", "json", "-o", str(once)])
    result = _run([str(tmp_path / "org"), str(tmp_path / "acct"), str(tmp_path / "org"),
                   "-f", "json", "-o", str(twice)])
    counts = [sorted((f["title"], f["count"]) for f in _report(p)["findings"])
              for p in (once, twice)]
    assert counts[0] == counts[1] and counts[0]
    assert not any(t.startswith("Burst") for t, _ in counts[1])  # 4 deletions, not 12
    assert _report(twice)["stats"]["duplicate_events_ignored"] > 0
    assert "were counted once" in " ".join(result.output.split())
