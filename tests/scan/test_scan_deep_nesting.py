"""Hostile nesting (thousands of levels) in one record never loses the rest of the input."""

from __future__ import annotations

import json
from pathlib import Path

from scan_helpers import record, write
from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.sigma.records import DEEP_PLACEHOLDER, flatten_deep

DEEP = '{"a":' * 3000 + "1" + "}" * 3000


def _scan(path: Path, tmp_path: Path) -> tuple[int, dict, str]:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["scan", str(path), "-f", "json", "-o", str(out)])
    return result.exit_code, json.loads(out.read_text()), result.output


def test_a_deep_json_line_is_one_skipped_record_and_the_other_lines_are_scanned(tmp_path):
    stop = json.dumps(record("StopLogging", 2))
    path = write(tmp_path / "x.jsonl", '{"eventName": "DeleteTrail", "deep": ' + DEEP + "}\n"
                 + stop + "\n")
    code, report, output = _scan(path, tmp_path)
    assert code == 1, output  # the StopLogging finding (critical) is there
    assert [f["event_name"] for f in report["findings"]] == ["StopLogging"]
    assert [s["source"] for s in report["skipped"]] == [f"{path}#1"]
    assert "Traceback" not in output


def test_a_deep_value_inside_a_delivery_file_is_replaced_not_fatal(tmp_path):
    deep = record("DeleteTrail", 1)
    deep["eventSource"] = "cloudtrail.amazonaws.com"
    deep["requestParameters"] = {"name": "main", "deep": "DEEP"}
    body = json.dumps({"Records": [deep, record("StopLogging", 2)]}).replace('"DEEP"', DEEP)
    code, report, output = _scan(write(tmp_path / "d.json", body), tmp_path)
    assert code == 1, output
    assert sorted(f["event_name"] for f in report["findings"]) == ["DeleteTrail", "StopLogging"]


def test_flatten_deep_keeps_strings_and_shallow_parts() -> None:
    text = '{"s": "}]\\\\\\"{[", "n": [[[[1]]]], "k": 2}'
    assert json.loads(flatten_deep(text, 2)) == {
        "s": '}]\\"{[', "n": [json.loads(DEEP_PLACEHOLDER)], "k": 2}
    assert flatten_deep(text, 10) == text
