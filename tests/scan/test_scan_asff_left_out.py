"""A finding ASFF cannot carry (no account id anywhere) is left out, reported, and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from trailguard.cli import app

NO_ACCOUNT = {
    "eventVersion": "1.09", "eventSource": "iam.amazonaws.com", "eventName": "DeleteSSHPublicKey",
    "eventTime": "2026-11-20T10:00:00Z", "awsRegion": "us-east-1", "eventID": "e1",
    "requestParameters": {"userName": "bob", "sSHPublicKeyId": "APKAEXAMPLE1"},
    "userIdentity": {"type": "IAMUser", "userName": "alice"},
}
WITH_ACCOUNT = {
    **NO_ACCOUNT, "eventID": "e2", "eventTime": "2026-11-20T10:05:00Z",
    "recipientAccountId": "111122223333",
    "requestParameters": {"userName": "carol", "sSHPublicKeyId": "APKAEXAMPLE2"},
    "userIdentity": {"type": "IAMUser", "userName": "carol", "accountId": "111122223333",
                     "arn": "arn:aws:iam::111122223333:user/carol"},
}


def test_asff_leaves_out_what_it_cannot_express_and_says_so(tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    logs.write_text("\n".join(json.dumps(r) for r in (NO_ACCOUNT, WITH_ACCOUNT)) + "\n")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["scan", str(logs), "-f", "asff", "-o", str(out),
                                      "--fail-on", "critical"])
    assert result.exit_code == 2
    written = json.loads(out.read_text())
    assert [f["AwsAccountId"] for f in written] == ["111122223333"]
    assert "left out of the report" in result.output


def test_fail_on_none_never_exits_1_for_findings(tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    logs.write_text(json.dumps(WITH_ACCOUNT) + "\n")
    out = tmp_path / "r.json"
    strict = CliRunner().invoke(app, ["scan", str(logs), "-f", "json", "-o", str(out),
                                      "--fail-on", "low"])
    lenient = CliRunner().invoke(app, ["scan", str(logs), "-f", "json", "-o", str(out),
                                       "--fail-on", "none"])
    assert (strict.exit_code, lenient.exit_code) == (1, 0)
    assert json.loads(out.read_text())["findings"]  # the findings are still reported
