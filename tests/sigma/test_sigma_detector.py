"""Detector: one pass over the table, matches with records, correlation across batches."""

from __future__ import annotations

from sigma.collection import SigmaCollection
from sigma_helpers import record

from trailguard.sigma import Detector, records_to_table

RULES = """
title: Access key deleted
id: 6e3c9a4b-1d1a-4c1e-9a3e-000000000001
name: access_key_deleted
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventSource: iam.amazonaws.com
    eventName: DeleteAccessKey
  condition: sel
level: medium
---
title: User created
id: 6e3c9a4b-1d1a-4c1e-9a3e-000000000002
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName: CreateUser
  condition: sel
level: low
"""


def test_run_returns_each_rule_match_with_record(con):
    det = Detector(SigmaCollection.from_yaml(RULES))
    records_to_table(
        con,
        [
            record(eventID="k1", eventName="DeleteAccessKey"),
            record(eventID="u1", requestParameters={"userName": "carol", "n": 1}),
            record(eventID="x", eventName="GetUser"),
        ],
    )
    found = sorted((m.title, m.record["eventID"]) for m in det.run(con))
    assert found == [("Access key deleted", "k1"), ("User created", "u1")]
    user = next(m for m in det.run(con) if m.title == "User created")
    assert user.record["requestParameters"] == {"userName": "carol", "n": 1}
    assert user.record["userIdentity"] == {
        "type": "IAMUser",
        "userName": "alice",
        "arn": "arn:aws:iam::123456789012:user/alice",
        "accountId": "123456789012",
    }
    assert "errorCode" not in user.record
    assert user.is_correlation is False
    assert user.rule_id == "6e3c9a4b-1d1a-4c1e-9a3e-000000000002"


def test_query_is_a_single_select(con):
    det = Detector(SigmaCollection.from_yaml(RULES))
    sql = det.query()
    assert sql.count("SELECT") == 1
    assert "deleteaccesskey" in sql and "createuser" in sql
