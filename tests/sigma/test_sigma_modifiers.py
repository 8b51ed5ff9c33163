"""One test per Sigma modifier and value type, on real DuckDB, with matching and other records."""

from __future__ import annotations

import pytest
from sigma_helpers import make_rule, record


def test_plain_equality_is_case_insensitive(matches):
    rule = make_rule("  sel:\n    eventName: deleteaccesskey\n  condition: sel\n")
    recs = [
        record(eventID="pos", eventName="DeleteAccessKey"),
        record(eventID="pos2", eventName="DELETEACCESSKEY"),
        record(eventID="neg", eventName="DeleteAccessKeys"),
    ]
    assert matches(rule, recs) == ["pos", "pos2"]


def test_value_in_rule_upper_case_matches_lower_case_record(matches):
    rule = make_rule("  sel:\n    userIdentity.userName: ALICE\n  condition: sel\n")
    recs = [record(eventID="pos"), record(eventID="neg", userIdentity={"userName": "alicia"})]
    assert matches(rule, recs) == ["pos"]


def test_list_is_or(matches):
    rule = make_rule("  sel:\n    eventName: [CreateUser, DeleteUser]\n  condition: sel\n")
    recs = [
        record(eventID="a", eventName="CreateUser"),
        record(eventID="b", eventName="DeleteUser"),
        record(eventID="neg", eventName="GetUser"),
    ]
    assert matches(rule, recs) == ["a", "b"]


def test_wildcards_star_and_question_mark(matches):
    rule = make_rule("  sel:\n    eventName: 'Create*Key?'\n  condition: sel\n")
    recs = [
        record(eventID="pos", eventName="CreateAccessKeys"),
        record(eventID="neg1", eventName="CreateAccessKey"),
        record(eventID="neg2", eventName="DeleteAccessKeys"),
    ]
    assert matches(rule, recs) == ["pos"]


def test_like_metacharacters_in_values_are_literal(matches):
    rule = make_rule("  sel:\n    userAgent|contains: '100%_x\\y'\n  condition: sel\n")
    recs = [
        record(eventID="pos", userAgent="agent 100%_x\\y/1"),
        record(eventID="neg1", userAgent="agent 1000ax\\y"),  # % and _ must not be wildcards
        record(eventID="neg2", userAgent="agent 100%_xy"),  # backslash is literal
    ]
    assert matches(rule, recs) == ["pos"]


def test_single_quote_in_value(matches):
    rule = make_rule('  sel:\n    userAgent: "o\'brien"\n  condition: sel\n')
    recs = [record(eventID="pos", userAgent="O'Brien"), record(eventID="neg", userAgent="obrien")]
    assert matches(rule, recs) == ["pos"]


def test_escaped_wildcard_is_literal(matches):
    rule = make_rule("  sel:\n    userAgent: 'a\\*b'\n  condition: sel\n")
    recs = [record(eventID="pos", userAgent="a*b"), record(eventID="neg", userAgent="axxb")]
    assert matches(rule, recs) == ["pos"]


def test_contains(matches):
    rule = make_rule("  sel:\n    userAgent|contains: Boto3\n  condition: sel\n")
    recs = [
        record(eventID="pos", userAgent="Boto3/1.34 Python/3.11"),
        record(eventID="pos2", userAgent="x boto3 y"),
        record(eventID="neg", userAgent="aws-cli/2"),
    ]
    assert matches(rule, recs) == ["pos", "pos2"]


def test_startswith(matches):
    rule = make_rule("  sel:\n    eventName|startswith: delete\n  condition: sel\n")
    recs = [
        record(eventID="pos", eventName="DeleteUser"),
        record(eventID="neg", eventName="BatchDeleteUser"),
    ]
    assert matches(rule, recs) == ["pos"]


def test_endswith(matches):
    rule = make_rule("  sel:\n    eventName|endswith: KEY\n  condition: sel\n")
    recs = [
        record(eventID="pos", eventName="CreateAccessKey"),
        record(eventID="neg", eventName="CreateAccessKeys"),
    ]
    assert matches(rule, recs) == ["pos"]


def test_all(matches):
    rule = make_rule("  sel:\n    userAgent|contains|all: [aws-cli, linux]\n  condition: sel\n")
    recs = [
        record(eventID="pos", userAgent="aws-cli/2 Linux/6"),
        record(eventID="neg", userAgent="aws-cli/2 Darwin/23"),
    ]
    assert matches(rule, recs) == ["pos"]


def test_re_is_case_sensitive_by_default(matches):
    rule = make_rule("  sel:\n    userAgent|re: '^aws-cli/2\\.[0-9]+'\n  condition: sel\n")
    recs = [
        record(eventID="pos", userAgent="aws-cli/2.15.0 Python"),
        record(eventID="neg1", userAgent="AWS-CLI/2.15.0"),
        record(eventID="neg2", userAgent="x aws-cli/2.15"),
    ]
    assert matches(rule, recs) == ["pos"]


def test_re_i_flag(matches):
    rule = make_rule("  sel:\n    userAgent|re|i: 'aws-cli'\n  condition: sel\n")
    recs = [record(eventID="pos", userAgent="AWS-CLI/2"), record(eventID="neg", userAgent="boto3")]
    assert matches(rule, recs) == ["pos"]


def test_re_m_and_s_flags(matches):
    m_rule = make_rule("  sel:\n    errorMessage|re|m: '^denied$'\n  condition: sel\n")
    s_rule = make_rule("  sel:\n    errorMessage|re|s: 'start.end'\n  condition: sel\n")
    recs = [
        record(eventID="ml", errorMessage="line one\ndenied\nline three"),
        record(eventID="dot", errorMessage="start\nend"),
    ]
    assert matches(m_rule, recs) == ["ml"]
    assert matches(s_rule, recs) == ["dot"]
    plain = make_rule("  sel:\n    errorMessage|re: 'start.end'\n  condition: sel\n")
    assert matches(plain, recs) == []


def test_cased(matches):
    rule = make_rule("  sel:\n    eventName|cased: CreateUser\n  condition: sel\n")
    recs = [record(eventID="pos"), record(eventID="neg", eventName="createuser")]
    assert matches(rule, recs) == ["pos"]


def test_cased_with_wildcard(matches):
    rule = make_rule("  sel:\n    eventName|cased|startswith: Create\n  condition: sel\n")
    recs = [record(eventID="pos"), record(eventID="neg", eventName="createUser")]
    assert matches(rule, recs) == ["pos"]


def test_exists_true_and_false(matches):
    yes = make_rule("  sel:\n    errorCode|exists: true\n  condition: sel\n")
    no = make_rule("  sel:\n    errorCode|exists: false\n  condition: sel\n")
    recs = [record(eventID="err", errorCode="AccessDenied"), record(eventID="ok")]
    assert matches(yes, recs) == ["err"]
    assert matches(no, recs) == ["ok"]


def test_exists_in_json_column(matches):
    rule = make_rule("  sel:\n    requestParameters.policyArn|exists: true\n  condition: sel\n")
    recs = [
        record(eventID="pos", requestParameters={"policyArn": "arn:aws:iam::aws:policy/X"}),
        record(eventID="neg"),
    ]
    assert matches(rule, recs) == ["pos"]


def test_null_value(matches):
    rule = make_rule("  sel:\n    errorCode: null\n  condition: sel\n")
    recs = [record(eventID="pos"), record(eventID="neg", errorCode="AccessDenied")]
    assert matches(rule, recs) == ["pos"]


def test_cidr_ipv4_and_hostnames_do_not_error(matches):
    rule = make_rule("  sel:\n    sourceIPAddress|cidr: 10.16.0.0/12\n  condition: sel\n")
    recs = [
        record(eventID="pos", sourceIPAddress="10.20.1.2"),
        record(eventID="neg1", sourceIPAddress="10.32.0.1"),
        record(eventID="neg2", sourceIPAddress="iam.amazonaws.com"),
        record(eventID="neg3", sourceIPAddress="110.20.1.2"),
        record(eventID="neg4", sourceIPAddress="AWS Internal"),
    ]
    assert matches(rule, recs) == ["pos"]


def test_cidr_ipv6(matches):
    rule = make_rule("  sel:\n    sourceIPAddress|cidr: '2001:db8::/32'\n  condition: sel\n")
    recs = [
        record(eventID="pos", sourceIPAddress="2001:db8:1::5"),
        record(eventID="pos2", sourceIPAddress="2001:DB8:ffff::1"),
        record(eventID="neg", sourceIPAddress="2001:db9::1"),
        record(eventID="neg2", sourceIPAddress="cloudtrail.amazonaws.com"),
    ]
    assert matches(rule, recs) == ["pos", "pos2"]


@pytest.mark.parametrize(
    ("mod", "expected"),
    [("gt", ["ten"]), ("gte", ["five", "ten"]), ("lt", ["one"]), ("lte", ["five", "one"])],
)
def test_numeric_compare(matches, mod, expected):
    rule = make_rule(f"  sel:\n    requestParameters.maxItems|{mod}: 5\n  condition: sel\n")
    recs = [
        record(eventID="one", requestParameters={"maxItems": 1}),
        record(eventID="five", requestParameters={"maxItems": "5"}),
        record(eventID="ten", requestParameters={"maxItems": 10}),
        record(eventID="text", requestParameters={"maxItems": "many"}),  # no error, no match
        record(eventID="none"),
    ]
    assert matches(rule, recs) == expected


def test_base64(matches):
    # "secret" base64-encoded is c2VjcmV0
    rule = make_rule("  sel:\n    requestParameters.data|base64: secret\n  condition: sel\n")
    recs = [
        record(eventID="pos", requestParameters={"data": "c2VjcmV0"}),
        record(eventID="neg", requestParameters={"data": "secret"}),
    ]
    assert matches(rule, recs) == ["pos"]


def test_base64offset_contains(matches):
    rule = make_rule(
        "  sel:\n    requestParameters.userData|base64offset|contains: curl\n  condition: sel\n"
    )
    import base64

    hits = [base64.b64encode(p + b"curl http://x").decode() for p in (b"", b"a", b"ab")]
    recs = [
        record(eventID=f"pos{i}", requestParameters={"userData": v}) for i, v in enumerate(hits)
    ]
    recs.append(record(eventID="neg", requestParameters={"userData": "Y3VybA"[:3] + "zzzz"}))
    assert matches(rule, recs) == ["pos0", "pos1", "pos2"]


def test_fieldref_equal_and_not_equal(matches):
    same = make_rule(
        "  sel:\n    requestParameters.userName|fieldref: userIdentity.userName\n  condition: sel\n"
    )
    other = make_rule(
        "  sel:\n    eventName: CreateAccessKey\n"
        "  self:\n    requestParameters.userName|fieldref: userIdentity.userName\n"
        "  condition: sel and not self\n"
    )
    recs = [
        record(
            eventID="self", eventName="CreateAccessKey", requestParameters={"userName": "Alice"}
        ),
        record(eventID="other", eventName="CreateAccessKey", requestParameters={"userName": "bob"}),
    ]
    assert matches(same, recs) == ["self"]
    assert matches(other, recs) == ["other"]


def test_fieldref_startswith_endswith_contains(matches):
    recs = [
        record(eventID="pre", userAgent="alice-tool", requestParameters={"userName": "ALICE"}),
        record(eventID="suf", userAgent="tool-alice", requestParameters={"userName": "alice"}),
        record(eventID="mid", userAgent="x-alice-y", requestParameters={"userName": "alice"}),
    ]

    def rule(mod: str):
        return make_rule(
            f"  sel:\n    userAgent|fieldref|{mod}: requestParameters.userName\n  condition: sel\n"
        )

    assert matches(rule("startswith"), recs) == ["pre"]
    assert matches(rule("endswith"), recs) == ["suf"]
    assert matches(rule("contains"), recs) == ["mid", "pre", "suf"]


def test_boolean_column_with_sigma_booleans(matches):
    ro = make_rule("  sel:\n    readOnly: true\n  condition: sel\n")
    rw = make_rule("  sel:\n    readOnly: false\n  condition: sel\n")
    txt = make_rule("  sel:\n    managementEvent: 'TRUE'\n  condition: sel\n")
    recs = [
        record(eventID="r", readOnly=True),
        record(eventID="w", readOnly=False, managementEvent=False),
        record(eventID="old"),  # older records have no readOnly
    ]
    recs[2].pop("readOnly")
    assert matches(ro, recs) == ["r"]
    assert matches(rw, recs) == ["w"]
    assert matches(txt, recs) == ["old", "r"]


def test_string_boolean_struct_field_with_sigma_boolean(matches):
    rule = make_rule(
        "  sel:\n    userIdentity.sessionContext.attributes.mfaAuthenticated: false\n"
        "  condition: sel\n"
    )
    ctx = {"sessionContext": {"attributes": {"mfaAuthenticated": "false"}}}
    recs = [
        record(eventID="pos", userIdentity={"type": "IAMUser", **ctx}),
        record(
            eventID="neg",
            userIdentity={
                "type": "IAMUser",
                "sessionContext": {"attributes": {"mfaAuthenticated": "true"}},
            },
        ),
    ]
    assert matches(rule, recs) == ["pos"]


def test_number_value_on_text_field(matches):
    rule = make_rule("  sel:\n    requestParameters.durationSeconds: 3600\n  condition: sel\n")
    recs = [
        record(eventID="pos", requestParameters={"durationSeconds": 3600}),
        record(eventID="neg", requestParameters={"durationSeconds": "x"}),
    ]
    assert matches(rule, recs) == ["pos"]


def test_re_not_supported_by_re2_is_rejected_before_query_time():
    # pySigma 2 already validates with RE2 when google-re2 is installed; the backend checks
    # again with DuckDB's own RE2 so a rule can never abort a scan batch at query time.
    from sigma.exceptions import SigmaError

    from trailguard.sigma.backend import _check_re2

    with pytest.raises(SigmaError, match="not supported by RE2"):
        _check_re2("boto(?!core)")
    _check_re2("(?i)^boto[0-9]+$")  # fine
