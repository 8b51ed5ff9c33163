"""Correlation matches -> findings: one per group, naming actor(s), victim and account."""

from __future__ import annotations

from trailguard.findings.model import Severity
from trailguard.scan.convert import (
    FindingGroups,
    RuleMeta,
    account_from_arn,
    finding_from_correlation,
)
from trailguard.sigma.match import Match, RuleRef

META = RuleMeta(
    rule_id="c7a82bb8-e62f-4d90-b152-5557cc465a41",
    title="IAM Credential Replaced by Another Principal",
    severity=Severity.high,
    mitre=["T1098.001"],
    cis=[],
    description=None,
    explain=["CreateAccessKey"],
)
MALLORY = "arn:aws:sts::111122223333:assumed-role/OpsAutomation/mallory"
JANE = "arn:aws:iam::111122223333:user/admin-jane"


RULE = RuleRef(id=META.rule_id, name="iam_credential_replaced", title=META.title)


def _group(victim: str, actors: list[str], accounts: list[str], **values: str) -> Match:
    return Match(
        rule=RULE,
        group={"target_user": victim, **values},
        is_correlation=True,
        actors=actors,
        actor_count=len(actors),
        accounts=accounts,
        paths={"target_user": "requestParameters.userName"},
    )


def _finding(match: Match, count: int = 2):
    match.count = count
    match.first_time, match.last_time = "2026-11-20T09:05:12Z", "2026-11-20T09:25:12Z"
    match.event_ids = ["a", "b"]
    return finding_from_correlation(META, match)


def test_victim_is_the_target_and_actor_comes_from_the_events() -> None:
    f = _finding(_group("bob", [MALLORY], ["111122223333"]))
    assert f.account_id == "111122223333"
    assert f.actor is not None and f.actor.arn == MALLORY
    assert f.actor.identity_type == "AssumedRole" and f.actor.session_name == "mallory"
    assert f.actor.account_id == "111122223333"
    [target] = f.resources
    assert (target.type, target.id, target.name) == (
        "AwsIamUser",
        "arn:aws:iam::111122223333:user/bob",
        "bob",
    )
    assert target.details == {"actors": [MALLORY], "distinct_actors": 1}


def test_account_falls_back_to_the_actor_arn() -> None:
    f = _finding(_group("bob", [JANE], []))
    assert f.account_id == "111122223333"
    assert f.actor is not None and f.actor.user_name == "admin-jane"
    assert f.resources[0].id == "arn:aws:iam::111122223333:user/bob"


def test_group_account_wins_and_several_actors_are_listed() -> None:
    group = _group("bob", [MALLORY, JANE], ["444455556666"], recipientAccountId="123456789012")
    group.paths["recipientAccountId"] = "recipientAccountId"
    f = _finding(group)
    assert f.account_id == "123456789012"
    assert f.actor is not None and f.actor.arn == MALLORY  # the most frequent comes first
    assert f.resources[0].details == {"actors": [MALLORY, JANE], "distinct_actors": 2}


def test_one_finding_per_victim() -> None:
    groups = FindingGroups()
    for victim, count in (("alice", 2), ("bob", 2), ("svc-build", 3), ("dave", 3), ("bob", 2)):
        groups.add(_finding(_group(victim, [MALLORY], ["111122223333"]), count))
    found = {f.resources[0].name: f.count for f in groups.findings()}
    assert found == {"alice": 2, "bob": 4, "svc-build": 3, "dave": 3}


def test_group_by_actor_arn_without_context_still_names_account() -> None:
    f = _finding(Match(rule=RULE, group={"userIdentity.arn": JANE}, is_correlation=True))
    assert f.actor is not None and f.actor.arn == JANE and f.actor.identity_type == "IAMUser"
    assert f.account_id == "111122223333"
    assert [(r.type, r.id) for r in f.resources] == [("AwsAccount", "111122223333")]


def test_account_from_arn() -> None:
    assert account_from_arn(MALLORY) == "111122223333"
    assert account_from_arn("arn:aws:s3:::bucket") is None
    assert account_from_arn(None) is None


def test_sample_logs_correlations_carry_accounts_victims_and_asff(tmp_path) -> None:
    """End to end on the shipped sample logs: every correlation finding can go to ASFF."""
    import json

    from typer.testing import CliRunner

    from trailguard.cli import app
    from trailguard.samples.generate import generate

    generate(tmp_path / "logs", routine_events=200)
    out = tmp_path / "report.json"
    runner = CliRunner()
    runner.invoke(app, ["scan", str(tmp_path / "logs"), "-f", "json", "-o", str(out)])
    findings = json.loads(out.read_text())["findings"]
    replaced = [f for f in findings if f["title"] == META.title]
    assert sorted(f["resources"][0]["name"] for f in replaced) == [
        "alice", "bob", "dave", "svc-build"
    ]
    for f in replaced:
        assert f["actor"]["arn"] == MALLORY and f["account_id"] == "111122223333"
    correlations = [f for f in findings if f["event_name"] is None and f["kind"] == "detection"]
    assert correlations and all(f["account_id"] for f in correlations)
    asff = tmp_path / "report.asff.json"
    result = runner.invoke(app, ["scan", str(tmp_path / "logs"), "-f", "asff", "-o", str(asff)])
    assert "left out" not in result.output
    assert len(json.loads(asff.read_text())) == len(findings)


def test_value_count_findings_list_what_was_counted() -> None:
    match = Match(rule=RULE, group={"actor": MALLORY}, is_correlation=True,
                  paths={"actor": "userIdentity.arn"}, values=["prod/db", "prod/api"],
                  value_count=12, value_path="requestParameters.secretId")
    f = _finding(match, count=12)
    assert f.resources[0].type == "AwsAccount"
    assert f.resources[0].details["counted"] == {
        "field": "requestParameters.secretId", "distinct": 12, "values": ["prod/db", "prod/api"]}
    from trailguard.findings.html_rows import detection_row_html

    html = detection_row_html(0, f)
    assert ("<dt>Counted</dt><dd>12 distinct requestParameters.secretId: prod/db, prod/api "
            "(and 10 more)</dd>") in html
