"""Records handed over as Python objects (LookupEvents, real time) survive hostile values."""

from __future__ import annotations

from scan_helpers import collection, record

from trailguard.findings.model import Severity
from trailguard.scan.convert import RuleMeta, finding_from_correlation
from trailguard.scan.engine import Scanner
from trailguard.sigma import Detector
from trailguard.sigma.match import Match, RuleRef


def _deep(levels: int) -> dict:
    value: dict = {"x": 1}
    for _ in range(levels):
        value = {"a": value}
    return value


def test_deep_values_and_huge_integers_do_not_stop_a_batch() -> None:
    scanner = Scanner(Detector(collection()))
    recs = [record("DeleteSSHPublicKey", 1, requestParameters={
                "userName": "bob", "sSHPublicKeyId": "APKA1", "deep": _deep(400)}),
            record("DeleteSSHPublicKey", 2, requestParameters={
                "userName": "bob", "sSHPublicKeyId": "APKA2", "big": 2**80}),
            record("DeleteSSHPublicKey", 3, requestParameters={
                "userName": "bob", "sSHPublicKeyId": "APKA3", "deep": _deep(5000)}),
            record("StopLogging", 4)]
    try:
        scanner.add_records(recs, "lookup")
        findings = scanner.finish()
    finally:
        scanner.close()
    assert scanner.stats.records_skipped == 0
    assert sum(f.count for f in findings) == 4
    assert sorted({f.event_name for f in findings}) == ["DeleteSSHPublicKey", "StopLogging"]


def test_a_grouped_user_agent_is_redacted_too() -> None:
    meta = RuleMeta(rule_id="r", title="t", severity=Severity.high, mitre=[], cis=[],
                    description=None, explain=[])
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    match = Match(rule=RuleRef(id="r", name="r", title="t"), is_correlation=True,
                  group={"ua": f"curl/8 key={secret}"}, paths={"ua": "userAgent"})
    finding = finding_from_correlation(meta, match)
    assert finding.actor is not None and secret not in (finding.actor.user_agent or "")
    assert "<redacted>" in (finding.actor.user_agent or "")
