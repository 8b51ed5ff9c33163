"""ATT&CK names and tactics: every technique a shipped rule cites is known by name."""

from __future__ import annotations

from trailguard.detection.catalog import load_rules
from trailguard.findings.mitre import TACTICS, TECHNIQUES


def test_every_technique_cited_by_a_shipped_rule_has_a_name_and_known_tactics() -> None:
    cited = {t for info in load_rules().rules for t in info.techniques}
    assert cited, "the rules cite ATT&CK techniques"
    assert sorted(cited - set(TECHNIQUES)) == []
    for name, tactics in TECHNIQUES.values():
        assert name and tactics and set(tactics) <= set(TACTICS)


def test_sub_techniques_name_their_parent() -> None:
    for tid, (name, _) in TECHNIQUES.items():
        if "." in tid and tid.split(".")[0] in TECHNIQUES:
            assert name.startswith(TECHNIQUES[tid.split(".")[0]][0] + ": "), tid
