"""Hunting with `scan --actor/--access-key/--source-ip`: a principal's events, in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from scan_helpers import ACCOUNT, delivery_bytes, record, write
from sigma.collection import SigmaCollection
from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.detection.hunt import hunt_rule

ROLE = f"arn:aws:iam::{ACCOUNT}:role/OpsAutomation"


def _session(name: str, role: str = "OpsAutomation", key: str = "ASIAOPSEXAMPLE") -> dict:
    return {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn":
                                             f"arn:aws:iam::{ACCOUNT}:role/{role}"}},
    }


def _logs(tmp_path: Path) -> Path:
    recs: list[dict[str, Any]] = [
        record("ListBuckets", 1, userIdentity=_session("mallory"), sourceIPAddress="203.0.113.66",
               eventTime="2026-11-20T10:01:00Z"),
        record("ListBuckets", 2, userIdentity=_session("mallory"), sourceIPAddress="203.0.113.66",
               eventTime="2026-11-20T10:02:00Z"),
        record("GetCallerIdentity", 3, userIdentity=_session("ci-run", key="ASIACIEXAMPLE"),
               sourceIPAddress="198.51.100.9", eventTime="2026-11-20T09:00:00Z"),
        record("ListUsers", 4, userIdentity=_session("x", role="Other", key="ASIAOTHER"),
               sourceIPAddress="203.0.113.66", eventTime="2026-11-20T10:03:00Z"),
        record("ListUsers", 5),  # alice, an IAM user
    ]
    write(tmp_path / "logs" / "a.json.gz", delivery_bytes(recs))
    return tmp_path / "logs"


def _hunt(tmp_path: Path, *args: str) -> tuple[int, list[tuple[str, int, str]], str]:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["scan", str(_logs(tmp_path)), "-f", "json", "-o", str(out),
                                      *args])
    if not out.exists():
        return result.exit_code, [], result.output
    found = [(f["event_name"], f["count"], f["actor"]["arn"].rsplit("/", 1)[-1])
             for f in json.loads(out.read_text())["findings"] if f["title"].startswith("Hunt")]
    return result.exit_code, found, result.output


def test_a_role_arn_finds_every_session_of_the_role_grouped_in_time_order(tmp_path) -> None:
    code, found, output = _hunt(tmp_path, "--actor", ROLE)
    assert code == 0, output  # info findings do not fail the scan
    assert found == [("GetCallerIdentity", 1, "ci-run"), ("ListBuckets", 2, "mallory")]
    assert "hunt: 3 event(s) matched, in 2 info finding(s)" in " ".join(output.split())


def test_hunt_options_combine_and_wildcards_work(tmp_path) -> None:
    _, found, _ = _hunt(tmp_path, "--access-key", "ASIAOPSEXAMPLE", "--source-ip",
                        "203.0.113.0/24")
    assert found == [("ListBuckets", 2, "mallory")]
    _, found, _ = _hunt(tmp_path, "--source-ip", "203.0.113.66")
    assert [(n, c) for n, c, _ in found] == [("ListBuckets", 2), ("ListUsers", 1)]
    _, found, _ = _hunt(tmp_path, "--actor", f"arn:aws:sts::{ACCOUNT}:assumed-role/*/x",
                        "--actor", f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert sorted(found) == [("ListUsers", 1, "alice"), ("ListUsers", 1, "x")]


def test_nothing_matched_and_bad_address(tmp_path) -> None:
    code, found, output = _hunt(tmp_path, "--access-key", "AKIANOTHERE")
    assert code == 0 and found == []
    assert "hunt: no event matched" in output
    code, _, output = _hunt(tmp_path, "--source-ip", "203.0.113.999")
    assert code == 2 and "is not an IP address or CIDR range" in output


def test_rules_hunt_prints_the_same_plain_sigma_rule() -> None:
    result = CliRunner().invoke(app, ["rules", "hunt", "--actor", ROLE, "--source-ip",
                                      "203.0.113.66"])
    assert result.exit_code == 0, result.output
    assert result.stdout == hunt_rule([ROLE], [], ["203.0.113.66"])
    doc = yaml.safe_load(result.stdout)
    assert doc["detection"]["condition"] == "(actor_arn or actor_issuer) and source_ip"
    assert doc["detection"]["source_ip"] == {"sourceIPAddress|cidr": ["203.0.113.66/32"]}
    (rule,) = SigmaCollection.from_yaml(result.stdout).rules
    assert rule.level.name == "INFORMATIONAL" and str(rule.id) == doc["id"]


def test_hunts_ignore_filters_and_the_fail_threshold_and_need_values(tmp_path) -> None:
    any_filter = write(tmp_path / "any.yml", """
title: Drop everything from 203.0.113.0/24
logsource: {product: aws, service: cloudtrail}
filter:
  rules: any
  sel:
    sourceIPAddress|cidr: 203.0.113.0/24
  condition: not sel
""")
    code, found, output = _hunt(tmp_path, "--source-ip", "203.0.113.66", "--filters",
                                str(any_filter), "--fail-on", "info")
    assert [(n, c) for n, c, _ in found] == [("ListBuckets", 2), ("ListUsers", 1)]
    assert code == 0, output  # only hunt results: they are answers, not alerts
    for option in ("--actor", "--access-key", "--source-ip"):
        code, _, output = _hunt(tmp_path, option, " ")
        assert code == 2 and "needs a value" in output


def test_the_printed_hunt_rule_exports_to_sql(tmp_path) -> None:
    folder = write(tmp_path / "hunts" / "h.yml", hunt_rule([], ["ASIAOPSEXAMPLE"])).parent
    result = CliRunner().invoke(app, ["rules", "export", "-t", "duckdb", "--rules-dir",
                                      str(folder)])
    assert result.exit_code == 0, result.output
    assert "lower((userIdentity->>'$.accessKeyId')) = 'asiaopsexample'" in result.stdout
