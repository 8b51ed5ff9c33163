"""The rule catalog: what ships, and what the loader refuses."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from rules_helpers import RECORD, make_rule
from sigma.backends.test import TextQueryTestBackend

from trailguard.detection.catalog import CatalogError, load_rules
from trailguard.samples.records import CURATED_EVENTS, USER_TARGETED

CORRELATION_FILE_RULE = "tg_burst_credential_deletions"


def test_every_curated_event_has_its_own_rule(catalog) -> None:
    single = {
        i.event_names[0] for i in catalog.rules if i.kind == "detection" and len(i.event_names) == 1
    }
    assert set(CURATED_EVENTS) <= single
    assert len(CURATED_EVENTS) == 59


def test_rule_counts_by_kind(catalog) -> None:
    kinds = Counter(i.kind for i in catalog.rules)
    assert kinds["correlation"] == 5
    assert kinds["correlation-input"] == 4
    assert kinds["detection"] >= 59 + 15


def test_ids_are_fixed_unique_uuid4(catalog) -> None:
    ids = [i.id for i in catalog.rules]
    assert len(ids) == len(set(ids))
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_rules_are_cloudtrail_sigma_with_attack_tags(catalog) -> None:
    for info in catalog.rules:
        rule = info.rule
        if info.kind != "correlation":
            assert (rule.logsource.product, rule.logsource.service) == ("aws", "cloudtrail")
        assert info.techniques, info.title
        assert info.tactics, info.title
        assert rule.author == "trailguard"
        assert info.level in ("informational", "low", "medium", "high", "critical")


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("tg_iam_deactivate_mfa_device", "high"),
        ("tg_cloudtrail_stop_logging", "critical"),
        ("tg_cloudtrail_delete_trail", "critical"),
        ("tg_iam_change_password", "low"),
        ("tg_signin_console_login", "informational"),
    ],
)
def test_levels_follow_the_risk(catalog, name, level) -> None:
    assert next(i for i in catalog.rules if i.name == name).level == level


def test_per_event_rules_have_a_failed_call_as_negative_example(catalog) -> None:
    per_event = [
        i
        for i in catalog.rules
        if i.source.startswith(
            (
                "trailguard/rules/iam/",
                "trailguard/rules/cloudtrail/",
                "trailguard/rules/guardduty/",
                "trailguard/rules/config/",
                "trailguard/rules/ec2/",
                "trailguard/rules/s3/",
                "trailguard/rules/kms/",
                "trailguard/rules/sts/",
                "trailguard/rules/logs/",
                "trailguard/rules/rds/",
                "trailguard/rules/secretsmanager/",
                "trailguard/rules/lambda/",
                "trailguard/rules/securityhub/",
                "trailguard/rules/organizations/",
            )
        )
    ]
    assert len(per_event) == 58 + 2
    for info in per_event:
        failed = [e for e in info.examples if not e.match and e.events[0].get("errorCode")]
        assert failed, f"{info.title}: no failed-call negative example"


def test_examples_use_fake_accounts_and_documentation_addresses(catalog) -> None:
    allowed_accounts = {"111122223333", "444455556666"}
    for info in catalog.rules:
        for example in info.examples:
            for rec in example.events:
                assert rec.get("recipientAccountId") in allowed_accounts
                ip = rec.get("sourceIPAddress", "")
                if ip[:1].isdigit():
                    assert ip.startswith(("192.0.2.", "198.51.100.", "203.0.113.")), ip


def test_explain_for_prefers_the_matched_event(catalog) -> None:
    info = next(i for i in catalog.rules if i.name == "tg_other_user_credential_deleted")
    assert info.explain_for("DeactivateMFADevice") == "DeactivateMFADevice"
    assert info.explain_for("ListUsers") == info.explain[0]
    assert set(info.explain) <= USER_TARGETED


def test_trailguard_keys_survive_parsing_and_stay_out_of_siem_queries(catalog) -> None:
    rule = next(i for i in catalog.rules if i.name == "tg_iam_delete_ssh_public_key").rule
    assert rule.custom_attributes["explain"] == "DeleteSSHPublicKey"
    assert len(rule.custom_attributes["examples"]) >= 2
    queries = TextQueryTestBackend().convert(catalog.collection)
    assert len(queries) == sum(1 for i in catalog.rules if i.kind != "correlation-input")
    text = "\n".join(str(q) for q in queries)
    assert "DeleteSSHPublicKey" in text
    assert "111122223333" not in text  # example records are not part of any query
    assert "examples" not in text


def test_extra_rule_dir_is_loaded(rules_dir) -> None:
    cat = load_rules([rules_dir(make_rule())])
    assert cat.by_id("0b6f3c6e-8d0a-4c55-9a51-0d3f1f0e9a01").source.endswith("rule_0.yml")
    only = load_rules([rules_dir(make_rule())], include_shipped=False)
    assert len(only) == 1


def _problems(*files) -> list[str]:
    with pytest.raises(CatalogError) as exc:
        load_rules(files, include_shipped=False)
    return exc.value.problems


def test_rule_without_examples_is_rejected(rules_dir) -> None:
    problems = _problems(rules_dir(make_rule(examples=None)))
    assert any("no 'examples'" in p for p in problems)
    # ...unless the caller loads third-party rules explicitly without that requirement
    d = rules_dir(make_rule(examples=None))
    assert len(load_rules([d], include_shipped=False, require_examples=False)) == 1


def test_plain_third_party_sigma_rule_loads_leniently(rules_dir) -> None:
    """A SigmaHQ-style rule has neither `explain` nor `examples`: strict loading refuses it,
    lenient loading (scan --rules) accepts it, with no explain hint."""
    plain = make_rule(examples=None, explain=None)
    problems = _problems(rules_dir(plain))
    assert any("'explain' must name" in p for p in problems)
    cat = load_rules([rules_dir(plain)], include_shipped=False, require_examples=False)
    (info,) = list(cat.rules)
    assert info.explain == []
    assert info.explain_for("DeleteAccessKey") is None


def test_rule_needs_both_a_matching_and_a_non_matching_example(rules_dir) -> None:
    only_positive = [{"name": "deleted", "match": True, "event": RECORD}]
    problems = _problems(rules_dir(make_rule(examples=only_positive)))
    assert any("match: false" in p for p in problems)


def test_malformed_example_is_rejected(rules_dir) -> None:
    bad = [{"name": "x", "match": "yes", "event": RECORD}, {"name": "y", "match": False}]
    problems = _problems(rules_dir(make_rule(examples=bad)))
    assert any("'match' must be true or false" in p for p in problems)
    assert any("'event' must be a CloudTrail record" in p for p in problems)


def test_duplicate_id_is_rejected(rules_dir) -> None:
    d = rules_dir(make_rule(), make_rule(title="Copy"))
    assert any("already used" in p for p in _problems(d))


def test_duplicate_of_a_shipped_id_is_rejected(rules_dir, catalog) -> None:
    shipped = catalog.rules[0].id
    with pytest.raises(CatalogError, match="already used"):
        load_rules([rules_dir(make_rule(id=shipped))])


def test_invalid_level_is_rejected(rules_dir) -> None:
    problems = _problems(rules_dir(make_rule(level="severe")))
    assert problems  # pySigma refuses the value, or our own check does
    assert any("level" in p for p in problems)


def test_missing_level_is_rejected(rules_dir) -> None:
    assert any("level must be one of" in p for p in _problems(rules_dir(make_rule(level=None))))


def test_explain_must_name_a_real_event(rules_dir) -> None:
    problems = _problems(rules_dir(make_rule(explain="DeleteAccesKey")))
    assert any("DeleteAccesKey" in p for p in problems)
    assert any("'explain'" in p for p in _problems(rules_dir(make_rule(explain=None))))


@pytest.mark.parametrize(("source", "event"), [("codecommit.amazonaws.com", "GitPush"),
                                               ("signin.amazonaws.com", "CredentialChallenge")])
def test_explain_may_name_a_cloudtrail_event_that_is_no_api(rules_dir, source, event) -> None:
    """Sign-in and Git events have no botocore operation; the one list of them
    (kb.botocore_index.NON_API_EVENTS) makes them known names."""
    hit = dict(RECORD, eventSource=source, eventName=event)
    rule = make_rule(
        detection={"selection": {"eventSource": source, "eventName": event},
                   "condition": "selection"},
        explain=event,
        examples=[{"name": "hit", "match": True, "event": hit},
                  {"name": "other", "match": False, "event": RECORD}])
    (info,) = load_rules([rules_dir(rule)], include_shipped=False).rules
    assert info.explain == [event]


def test_explain_must_be_one_of_the_rules_events(rules_dir) -> None:
    problems = _problems(rules_dir(make_rule(explain="CreateAccessKey")))
    assert any("not one of the rule's eventName values" in p for p in problems)


def test_yaml_syntax_error_names_the_file(rules_dir, tmp_path) -> None:
    d = rules_dir(make_rule())
    (d / "broken.yml").write_text("title: [unclosed\n")
    problems = _problems(d)
    assert any("broken.yml" in p for p in problems)


def test_correlation_to_unknown_rule_is_rejected(rules_dir) -> None:
    corr = {
        "title": "Burst",
        "id": "0b6f3c6e-8d0a-4c55-9a51-0d3f1f0e9a02",
        "author": "t",
        "date": "2026-11-24",
        "correlation": {
            "type": "event_count",
            "rules": ["no_such_rule"],
            "group-by": ["userIdentity.arn"],
            "timespan": "10m",
            "condition": {"gte": 5},
        },
        "level": "high",
        "explain": "DeleteAccessKey",
        "examples": [
            {"name": "a", "match": True, "events": [RECORD]},
            {"name": "b", "match": False, "events": [RECORD]},
        ],
    }
    problems = _problems(rules_dir(make_rule(), corr))
    assert any("no_such_rule" in p for p in problems)


def test_missing_rule_dir_is_reported(tmp_path) -> None:
    assert any("not a directory" in p for p in _problems(tmp_path / "nope"))


# pySigma's ATT&CK and D3FEND tag validators download their data sets; the CI machine is offline.
NEEDS_NETWORK = {"attacktag", "d3_fendtag"}


def test_pysigma_validators_find_no_issue(catalog) -> None:
    from sigma.validation import SigmaValidator
    from sigma.validators.core import validators

    chosen = [v for name, v in validators.items() if name not in NEEDS_NETWORK]
    issues = SigmaValidator(chosen).validate_rules(catalog.collection.rules)
    assert not issues, [f"{type(i).__name__}: {[r.title for r in i.rules]}" for i in issues]


SEVERITY_ORDER = ["info", "low", "medium", "high", "critical"]


def test_every_explain_name_has_a_curated_knowledge_base_entry(catalog) -> None:
    from trailguard.kb.loader import get_entry

    names = {n for info in catalog.rules for n in info.explain}
    assert names >= set(CURATED_EVENTS)
    assert [n for n in sorted(names) if get_entry(n) is None] == []


def test_per_event_rule_level_stays_near_the_knowledge_base_severity(catalog) -> None:
    """A rule may tune the KB's default severity for alerting, but by one step at most."""
    from trailguard.kb.loader import get_entry

    checked = 0
    for info in catalog.rules:
        if info.kind != "detection" or len(info.event_names) != 1 or len(info.explain) != 1:
            continue
        if info.name not in {f"tg_{p}" for p in _PER_EVENT_NAMES}:
            continue
        entry = get_entry(info.explain[0])
        rule_rank = SEVERITY_ORDER.index(info.level.replace("informational", "info"))
        kb_rank = SEVERITY_ORDER.index(entry.severity.value)
        assert abs(rule_rank - kb_rank) <= 1, (info.title, info.level, entry.severity.value)
        if entry.severity.value == "critical":  # what `explain` calls critical, scan does too
            assert info.level == "critical", (info.title, info.level)
        checked += 1
    assert checked == len(CURATED_EVENTS)


def _snake(event: str) -> str:
    """``UpdateFunctionCode20150331v2`` -> ``update_function_code`` (Lambda's API version off)."""
    import re

    event = re.sub(r"\d{8}(v\d+)?$", "", event)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", event).lower()


def _per_event_names() -> set[str]:
    """``<service>_<snake_event>`` of each curated event, the service from its KB entry."""
    from trailguard.kb.loader import get_entry

    return {f"{get_entry(e).service}_{_snake(e)}" for e in CURATED_EVENTS}


_PER_EVENT_NAMES = _per_event_names()


def test_rules_for_an_event_most_severe_first(catalog) -> None:
    rules = catalog.for_event("deactivatemfadevice")
    names = [i.name for i in rules]
    assert "tg_iam_deactivate_mfa_device" in names
    assert "tg_other_user_credential_deleted" in names
    assert "tg_burst_credential_deletions" in names
    assert "tg_iam_credential_deletion" not in names  # correlation input, never alerts alone
    levels = [i.level for i in rules]
    assert levels == sorted(
        levels, key=["informational", "low", "medium", "high", "critical"].index, reverse=True
    )
    assert catalog.for_event("ListUsers") == []
