"""A wrong path never gives a clean pass; other extensions are counted; BOMs are accepted."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from scan_helpers import delivery_bytes, record, write
from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.scan.decode import decode_bytes
from trailguard.scan.inputs import expand_local, expand_local_counted


def _run(args: list[str]):
    return CliRunner().invoke(app, ["scan", *args])


def test_empty_folder_exits_2_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    out = tmp_path / "r.json"
    result = _run([str(tmp_path / "logs"), "-f", "json", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert f"no CloudTrail log files found under {tmp_path / 'logs'}" in result.output
    report = json.loads(out.read_text())
    assert report["skipped"][0]["source"] == str(tmp_path / "logs")


def test_folder_of_other_files_exits_2_and_counts_them(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write(logs / "notes.txt", "hello")
    write(logs / "sub" / "export.csv", "a,b\n1,2\n")
    write(logs / ".DS_Store", "x")  # hidden: not counted
    out = tmp_path / "r.json"
    result = _run([str(logs), "-f", "json", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "no CloudTrail log files found under" in result.output
    assert "2 file(s) not scanned (extension)" in result.output
    assert json.loads(out.read_text())["stats"]["files_not_scanned_extension"] == 2


def test_other_extensions_next_to_logs_are_reported_not_silent(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write(logs / "a.json.gz", delivery_bytes([record("ListUsers", 1)]))
    write(logs / "b.log", delivery_bytes([record("ListUsers", 2)], gz=False))
    write(logs / "c", delivery_bytes([record("ListUsers", 3)], gz=False))
    inputs, problems, ignored = expand_local_counted(str(logs))
    assert [i.path.name for i in inputs] == ["a.json.gz"] and not problems
    assert sorted(p.name for p in ignored) == ["b.log", "c"]
    assert expand_local(str(logs))[0] == inputs  # the old interface is unchanged
    out = tmp_path / "r.json"
    result = _run([str(logs), "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output  # a log was read: a note, not a failure
    assert "2 file(s) not scanned (extension)" in result.output
    assert "b.log" in result.output
    # named directly, the same file is read whatever its extension
    result = _run([str(logs / "b.log"), "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["stats"]["events"] == 1


def test_glob_matching_only_an_empty_folder_is_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "2026").mkdir()
    result = _run([str(tmp_path / "20*")])
    assert result.exit_code == 2, result.output
    assert "no CloudTrail log files found under" in result.output


def test_empty_s3_prefix_exits_2(aws: str, tmp_path: Path) -> None:
    boto3.client("s3").create_bucket(Bucket="ct-logs")
    out = tmp_path / "r.json"
    result = _run(["s3://ct-logs/nothing-here", "-f", "json", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "no CloudTrail log files found under s3://ct-logs/nothing-here" in result.output


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_mark_is_accepted(encoding: str, tmp_path: Path) -> None:
    text = json.dumps({"Records": [record("ListUsers", 1), record("GetUser", 2)]})
    data = text.encode(encoding)
    chunks = decode_bytes("export.json", data)
    assert [r["eventName"] for c in chunks for r in c.records] == ["ListUsers", "GetUser"]
    lines = "\n".join(json.dumps(record("ListUsers", n)) for n in range(3)) + "\n"
    chunks = decode_bytes("export.jsonl", lines.encode(encoding))
    assert sum(len(c.records) for c in chunks) == 3
    path = write(tmp_path / "ps.json", data)
    out = tmp_path / "r.json"
    result = _run([str(path), "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    stats = json.loads(out.read_text())["stats"]
    assert stats["events"] == 2 and stats["files_skipped"] == 0


@pytest.mark.parametrize("name", ["a.json", "a.jsonl"])
def test_record_with_every_field_null_is_skipped_and_counted(name: str, tmp_path: Path) -> None:
    good = record("ListUsers", 1)
    nulls = {k: None for k in good}
    if name.endswith(".jsonl"):
        data = json.dumps(good) + "\n" + json.dumps(nulls) + "\n"
    else:
        data = json.dumps({"Records": [good, nulls]})
    chunks = decode_bytes(name, data.encode())
    assert sum(len(c.records) for c in chunks) == 1
    assert "no CloudTrail field has a value" in chunks[0].problems[0].reason
    out = tmp_path / "r.json"
    result = _run([str(write(tmp_path / name, data)), "-f", "json", "-o", str(out)])
    assert result.exit_code == 2, result.output  # data was skipped
    report = json.loads(out.read_text())
    assert report["stats"]["events"] == 1 and report["stats"]["records_skipped"] == 1
