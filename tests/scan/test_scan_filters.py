"""`trailguard scan --filters`: Sigma filters tune the shipped rules, and every scan says so."""

from __future__ import annotations

import json
from pathlib import Path

from scan_helpers import delivery_bytes, record, write
from typer.testing import CliRunner

from trailguard.cli import app

SSH_RULE = "tg_iam_delete_ssh_public_key"
FILTER = f"""
title: Key clean-up from the admin network
id: 9d1e5b0a-4f4f-4c55-9a51-0d3f1f0e9a77
description: Admins remove old SSH keys from 198.51.100.0/24 (ticket SEC-42).
expires: {{expires}}
logsource: {{{{product: aws, service: cloudtrail}}}}
filter:
  rules: [{SSH_RULE}]
  admin_network:
    sourceIPAddress|cidr: 198.51.100.0/24
  condition: not admin_network
"""


def _logs(tmp_path: Path) -> Path:
    recs = [record("DeleteSSHPublicKey", i) for i in range(3)]  # from 198.51.100.24
    recs.append(record("DeleteSSHPublicKey", 9, sourceIPAddress="203.0.113.66"))
    write(tmp_path / "logs" / "a.json.gz", delivery_bytes(recs))
    return tmp_path / "logs"


def _scan(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["scan", str(_logs(tmp_path)), "-f", "json", "-o", str(out), "--fail-on", "none",
              *args])
    report = json.loads(out.read_text()) if out.exists() else {}
    return result.exit_code, report, result.output


def _ssh(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["event_name"] == "DeleteSSHPublicKey"
            and f["title"] == "IAM SSH Public Key Deleted"]


def test_filter_drops_accepted_events_and_the_report_counts_them(tmp_path: Path) -> None:
    flt = write(tmp_path / "filters" / "admins.yml", FILTER.format(expires="2999-01-01"))
    code, report, output = _scan(tmp_path, "--filters", str(flt.parent))
    assert code == 0, output
    (finding,) = _ssh(report)
    assert (finding["count"], finding["actor"]["source_ip"]) == (1, "203.0.113.66")
    (used,) = report["filters"]
    assert used["title"] == "Key clean-up from the admin network"
    assert used["source"] == str(flt)
    assert used["events_dropped"] == 3 and used["applied"] is True
    assert used["rules"] == [SSH_RULE]
    assert report["stats"]["events_dropped_by_filters"] == 3
    assert "filters: 3 rule match(es) dropped by 1 filter(s)" in output
    assert f"filter 'Key clean-up from the admin network' dropped 3 match(es) of {SSH_RULE}" \
        in output


def test_without_filters_every_event_is_reported(tmp_path: Path) -> None:
    code, report, output = _scan(tmp_path)
    assert code == 0, output
    assert sum(f["count"] for f in _ssh(report)) == 4
    assert report["filters"] == [] and "events_dropped_by_filters" not in report["stats"]
    assert "filters:" not in output


def test_expired_filter_is_reported_and_not_applied(tmp_path: Path) -> None:
    flt = write(tmp_path / "admins.yml", FILTER.format(expires="2020-01-31"))
    code, report, output = _scan(tmp_path, "--filters", str(flt))
    assert code == 0, output
    assert sum(f["count"] for f in _ssh(report)) == 4
    (used,) = report["filters"]
    assert used["applied"] is False and used["events_dropped"] == 0
    assert "expired on 2020-01-31: NOT applied" in output


def test_editing_a_filter_is_not_hidden_by_the_rule_cache(tmp_path: Path) -> None:
    flt = write(tmp_path / "admins.yml", FILTER.format(expires="2999-01-01"))
    assert _scan(tmp_path, "--filters", str(flt))[1]["filters"][0]["events_dropped"] == 3
    flt.write_text(FILTER.format(expires="2999-01-01").replace("198.51.100.0/24",
                                                               "203.0.113.0/24"))
    _, report, _ = _scan(tmp_path, "--filters", str(flt))
    assert report["filters"][0]["events_dropped"] == 1
    assert sum(f["count"] for f in _ssh(report)) == 3


def test_bad_filters_are_usage_errors_without_traceback(tmp_path: Path) -> None:
    typo = write(tmp_path / "typo.yml", FILTER.format(expires="2999-01-01").replace(
        SSH_RULE, "tg_iam_delete_ssh_key"))
    code, report, output = _scan(tmp_path, "--filters", str(typo))
    assert code == 2 and report == {}
    assert "rule 'tg_iam_delete_ssh_key' is not loaded" in output
    bad = write(tmp_path / "bad.yml", FILTER.format(expires="2999-01-01").replace(
        "condition: not admin_network", "condition: not admin_netwerk"))
    code, _, output = _scan(tmp_path, "--filters", str(bad))
    assert code == 2 and "Traceback" not in output
    assert "filter 'Key clean-up from the admin network' (" in output
    assert "Detection 'admin_netwerk' not defined" in output
    code, _, output = _scan(tmp_path, "--filters", str(tmp_path / "missing.yml"))
    assert code == 2 and "missing.yml: no such file or folder" in output


def test_the_shipped_example_filter_is_valid_and_drops_only_the_pipeline(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "filters"
    role = "arn:aws:sts::111122223333:assumed-role/iam-provisioner/run-7"
    ident = {"type": "AssumedRole", "arn": role, "accountId": "111122223333"}
    recs = [record("CreateAccessKey", i, userIdentity=ident, sourceIPAddress=ip,
                   requestParameters={"userName": "svc-build"})
            for i, ip in enumerate(("198.51.100.3", "198.51.100.4", "203.0.113.66"))]
    write(tmp_path / "logs" / "b.json", delivery_bytes(recs, gz=False))
    code, report, output = _scan(tmp_path, "--filters", str(example))
    assert code == 0, output
    (used,) = report["filters"]
    assert used["events_dropped"] == 2
    title = "IAM Credential Created for Another User"
    other = [f for f in report["findings"] if f["title"] == title]
    assert [(f["count"], f["actor"]["source_ip"]) for f in other] == [(1, "203.0.113.66")]
