"""Whom an access-granting event gave access to, in every output format."""

from __future__ import annotations

import csv
import io
import json

from findings_builders import ACCOUNT, detection, scan_report
from test_findings_asff import assert_valid
from test_findings_html import parse

from trailguard.findings.asff import asff_findings
from trailguard.findings.flat import finding_row
from trailguard.findings.granted import grant_label, grant_text
from trailguard.findings.html import render_html
from trailguard.findings.model import Resource
from trailguard.findings.ocsf import ocsf_events
from trailguard.findings.output import write_report

PUBLIC_VPCE = {"granted_to": ["everyone"], "public": True, "conditions": ["aws:SourceVpce"]}
SHARED = {"granted_to": ["444455556666", "999988887777"], "outside_account": True}


def share(details: dict, **kw) -> object:
    """A snapshot-share detection whose target holds ``details``."""
    return detection(
        title="EBS Snapshot Shared Outside the Account", event_name="ModifySnapshotAttribute",
        event_source="ec2.amazonaws.com", explain="ModifySnapshotAttribute",
        resources=[Resource(type="AwsEc2Snapshot", id="snap-0a1b2c3d4e5f60718",
                            name="snap-0a1b2c3d4e5f60718", account_id=ACCOUNT,
                            region="us-east-1", details=details)], **kw)


def test_wording() -> None:
    assert grant_text(PUBLIC_VPCE) == "everyone (public, limited by aws:SourceVpce)"
    assert grant_text({"granted_to": ["everyone"], "public": True}) == "everyone (public)"
    tls = {"granted_to": ["everyone"], "public": True, "conditions": ["aws:SecureTransport"],
           "limited_by": []}
    assert grant_text(tls) == "everyone (public; conditions aws:SecureTransport do not limit who)"
    mixed = {**tls, "conditions": ["aws:SecureTransport", "aws:SourceVpce"],
             "limited_by": ["aws:SourceVpce"]}
    assert grant_text(mixed) == "everyone (public, limited by aws:SourceVpce)"
    assert grant_text({**tls, "limited_by": "not a list"}) == (
        "everyone (public; conditions aws:SecureTransport do not limit who)")
    assert grant_text(SHARED) == "444455556666, 999988887777 (outside the account)"
    assert grant_text({"granted_to": ["ec2.amazonaws.com"]}) == "ec2.amazonaws.com"
    # tg_snapshot_shared_outside_account cannot compare accounts in Sigma: the text says so
    assert grant_text({"granted_to": [ACCOUNT], "outside_account": False}) == (
        f"{ACCOUNT} (own account only)")
    assert grant_text({"actors": ["arn:aws:iam::1:user/a"]}) == ""
    assert grant_text({"granted_to": "not a list"}) == ""
    assert grant_label(share(SHARED)) == (
        "granted to 444455556666, 999988887777 (outside the account)")
    assert grant_label(share(SHARED, error_code="Client.UnauthorizedOperation")).startswith(
        "tried to grant to 444455556666")
    assert grant_label(detection()) == ""


def test_table_shows_the_grant_below_the_target(tmp_path) -> None:
    path = tmp_path / "r.txt"
    write_report(scan_report([share(PUBLIC_VPCE)]), "table", path)
    text = path.read_text()
    assert "snap-0a1b2c3d4e5f60718" in text and "granted to everyone (public" in text
    assert "aws:SourceVpce" in text


def test_csv_granted_to_column(tmp_path) -> None:
    assert finding_row(share(SHARED))["granted_to"] == (
        "444455556666, 999988887777 (outside the account)")
    assert finding_row(detection())["granted_to"] == ""
    path = tmp_path / "r.csv"
    write_report(scan_report([share(PUBLIC_VPCE)]), "csv", path)
    (row,) = csv.DictReader(io.StringIO(path.read_text()))
    assert row["granted_to"] == "everyone (public, limited by aws:SourceVpce)"


def test_json_and_ocsf_carry_the_details(tmp_path) -> None:
    path = tmp_path / "r.json"
    write_report(scan_report([share(PUBLIC_VPCE)]), "json", path)
    assert json.loads(path.read_text())["findings"][0]["resources"][0]["details"] == PUBLIC_VPCE
    (event,) = ocsf_events(scan_report([share(SHARED)]))
    assert event["resources"][0]["data"] == SHARED


def test_asff_other_map_joins_grantees_and_stays_valid() -> None:
    (finding,) = asff_findings(scan_report([share(SHARED)]))
    assert_valid([finding])
    assert finding["Resources"][0]["Details"]["Other"] == {
        "name": "snap-0a1b2c3d4e5f60718", "granted_to": "444455556666, 999988887777",
        "outside_account": "True"}
    out = asff_findings(scan_report([share(PUBLIC_VPCE), share({"granted_to": [], "x": {}})]))
    assert_valid(out)
    assert out[0]["Resources"][0]["Details"]["Other"]["conditions"] == "aws:SourceVpce"


def test_html_shows_the_grant_escaped() -> None:
    hostile = {"granted_to": ["<img src=x onerror=alert(1)>"], "outside_account": True}
    html = render_html(scan_report([share(PUBLIC_VPCE), share(hostile)]))
    assert "granted to everyone (public, limited by aws:SourceVpce)" in html
    assert not parse(html).find("img")
    assert "granted to &lt;img src=x onerror=alert(1)&gt; (outside the account)" in html
