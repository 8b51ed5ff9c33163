"""The CloudTrail pipeline: field paths -> SQL, and loading records with the scan schema."""

from __future__ import annotations

import pytest
from sigma_helpers import make_rule, record

from trailguard.sigma import UnknownFieldError, field_sql, records_to_table
from trailguard.sigma.pipeline import kind_of_sql


@pytest.mark.parametrize(
    ("path", "sql"),
    [
        ("eventName", '"eventName"'),
        ("requestParameters.userName", "(requestParameters->>'$.userName')"),
        ("responseElements.accessKey.keyId", "(responseElements->>'$.accessKey.keyId')"),
        ("additionalEventData.x-amz-id", "(additionalEventData->>'$.\"x-amz-id\"')"),
        (
            "userIdentity.sessionContext.attributes.mfaAuthenticated",
            "(userIdentity->>'$.sessionContext.attributes.mfaAuthenticated')",
        ),
        ("userIdentity.type", "(userIdentity->>'$.type')"),
    ],
)
def test_field_paths_map_to_sql(path, sql):
    assert field_sql(path) == sql


@pytest.mark.parametrize(
    "path",
    ["eventname", "foo.bar", "eventName.x", "userIdentity.sessionContext.nope", "", "resources.x"],
)
def test_unknown_fields_are_errors(path):
    with pytest.raises(UnknownFieldError):
        field_sql(path)


def test_kinds_of_columns():
    assert kind_of_sql('"readOnly"') == "boolean"
    assert kind_of_sql("requestParameters") == "json"
    # userIdentity is JSON of a known shape: objects in it are records, not values
    assert kind_of_sql("userIdentity") == "struct"
    assert kind_of_sql("(userIdentity->'$.sessionContext')") == "struct"
    assert kind_of_sql("(userIdentity->'$.onBehalfOf')") == "json"
    assert kind_of_sql("(userIdentity->>'$.type')") == "scalar"
    assert kind_of_sql('"eventName"') == "scalar"


def test_json_key_with_dash_matches(matches):
    rule = make_rule("  sel:\n    additionalEventData.x-amz-id: abc\n  condition: sel\n")
    recs = [
        record(eventID="pos", additionalEventData={"x-amz-id": "ABC"}),
        record(eventID="neg", additionalEventData={"x_amz_id": "abc"}),
    ]
    assert matches(rule, recs) == ["pos"]


def test_whole_json_column_matches_as_text(matches):
    rule = make_rule("  sel:\n    requestParameters|contains: policyarn\n  condition: sel\n")
    recs = [
        record(eventID="pos", requestParameters={"policyArn": "x"}),
        record(eventID="neg", requestParameters={"userName": "x"}),
        record(eventID="null", requestParameters=None),
    ]
    assert matches(rule, recs) == ["pos"]


def test_struct_as_value_is_a_compile_error():
    from trailguard.sigma import RuleCompileError, compile_rule

    rule = make_rule("  sel:\n    userIdentity: x\n  condition: sel\n", title="struct value")
    with pytest.raises(RuleCompileError, match="struct value.*nested record"):
        compile_rule(rule)


def test_timestamp_part_on_event_time(matches):
    hour = make_rule("  sel:\n    eventTime|hour: 3\n  condition: sel\n")
    night = make_rule("  sel:\n    eventTime|hour|lt: 6\n  condition: sel\n")
    recs = [
        record(eventID="three", eventTime="2024-07-30T03:10:00Z"),
        record(eventID="noon", eventTime="2024-07-30T12:00:00Z"),
        record(eventID="bad", eventTime="yesterday"),
    ]
    assert matches(hour, recs) == ["three"]
    assert matches(night, recs) == ["three"]


def test_records_to_table_schema_and_unknown_keys(con):
    records_to_table(con, [record(eventID="a", brandNewField={"x": 1}), {"eventName": "Bare"}])
    cols = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall())
    assert cols["readOnly"] == "BOOLEAN"
    assert cols["requestParameters"] == "JSON"
    assert cols["userIdentity"] == "JSON"
    assert "brandNewField" not in cols
    rows = con.execute("SELECT eventID, eventName FROM events ORDER BY eventName").fetchall()
    assert rows == [(None, "Bare"), ("a", "CreateUser")]


def test_records_to_table_empty(con):
    records_to_table(con, [], table="other")
    assert con.execute("SELECT count(*) FROM other").fetchone() == (0,)
    assert len(con.execute("DESCRIBE other").fetchall()) == 27


def test_resources_list_matches_as_a_whole(matches):
    rule = make_rule("  sel:\n    resources|contains: 'user/Alice'\n  condition: sel\n")
    res = [{"ARN": "arn:aws:iam::123456789012:user/alice", "type": "AWS::IAM::User"}]
    recs = [record(eventID="pos", resources=res), record(eventID="neg")]
    assert matches(rule, recs) == ["pos"]
