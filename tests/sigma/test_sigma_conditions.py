"""Conditions: 1 of / all of / not, and Sigma's treatment of missing fields under not."""

from __future__ import annotations

import pytest
from sigma_helpers import make_rule, record

from trailguard.sigma import RuleCompileError, compile_rule


def test_one_of_and_all_of(matches):
    det = (
        "  sel_create:\n    eventName: CreateUser\n"
        "  sel_delete:\n    eventName: DeleteUser\n"
        "  sel_iam:\n    eventSource: iam.amazonaws.com\n"
    )
    one = make_rule(det + "  condition: 1 of sel_*\n")
    allof = make_rule(det.replace("sel_delete", "other") + "  condition: all of sel_*\n")
    recs = [
        record(eventID="c"),
        record(eventID="d", eventName="DeleteUser"),
        record(eventID="s3", eventName="CreateUser", eventSource="s3.amazonaws.com"),
        record(eventID="neg", eventName="GetUser", eventSource="sts.amazonaws.com"),
    ]
    assert matches(one, recs) == ["c", "d", "s3"]
    assert matches(allof, recs) == ["c"]


def test_not_on_missing_field_is_true(matches):
    # Sigma: a missing field does not equal the value, so "not" of it holds (SQL NULL would not)
    rule = make_rule(
        "  sel:\n    eventName: CreateUser\n  filter:\n    errorCode: AccessDenied\n"
        "  condition: sel and not filter\n"
    )
    recs = [
        record(eventID="ok"),
        record(eventID="denied", errorCode="AccessDenied"),
        record(eventID="other", errorCode="Throttling"),
    ]
    assert matches(rule, recs) == ["ok", "other"]


def test_not_of_group(matches):
    rule = make_rule(
        "  sel:\n    eventSource: iam.amazonaws.com\n"
        "  a:\n    eventName: CreateUser\n  b:\n    userIdentity.type: AWSService\n"
        "  condition: sel and not (a or b)\n"
    )
    recs = [
        record(eventID="pos", eventName="DeleteUser"),
        record(eventID="neg1"),
        record(eventID="neg2", eventName="DeleteUser", userIdentity={"type": "AWSService"}),
    ]
    assert matches(rule, recs) == ["pos"]


def test_multiple_conditions_are_or(matches):
    rule = make_rule(
        "  a:\n    eventName: CreateUser\n  b:\n    eventName: DeleteUser\n"
        "  condition:\n    - a\n    - b\n"
    )
    recs = [record(eventID="a"), record(eventID="b", eventName="DeleteUser")]
    recs.append(record(eventID="neg", eventName="GetUser"))
    assert matches(rule, recs) == ["a", "b"]


def test_keyword_detection_is_rejected_clearly():
    rule = make_rule("  keywords:\n    - mimikatz\n  condition: keywords\n", title="kw rule")
    with pytest.raises(RuleCompileError, match=r"kw rule.*keyword \(field-less\)"):
        compile_rule(rule)


def test_unknown_top_level_field_names_rule_and_field():
    rule = make_rule("  sel:\n    eventname: CreateUser\n  condition: sel\n", title="typo rule")
    with pytest.raises(RuleCompileError, match=r"typo rule.*'eventname'"):
        compile_rule(rule)


def test_unknown_struct_member_is_rejected():
    rule = make_rule("  sel:\n    userIdentity.nope: x\n  condition: sel\n", title="bad member")
    with pytest.raises(RuleCompileError, match=r"bad member.*userIdentity.nope"):
        compile_rule(rule)


def test_wrong_logsource_is_rejected():
    from sigma.rule import SigmaRule

    rule = SigmaRule.from_yaml(
        "title: win\nlogsource: {product: windows, service: security}\n"
        "detection:\n  sel:\n    EventID: 4624\n  condition: sel\n"
    )
    with pytest.raises(RuleCompileError, match="product 'aws', service 'cloudtrail'"):
        compile_rule(rule)


def test_compile_does_not_modify_rule_and_is_repeatable():
    rule = make_rule("  sel:\n    requestParameters.userName: bob\n  condition: sel\n")
    first = compile_rule(rule)
    assert compile_rule(rule) == first
    assert rule.detection.detections["sel"].detection_items[0].field == "requestParameters.userName"
    assert first == "lower((requestParameters->>'$.userName')) = 'bob'"
