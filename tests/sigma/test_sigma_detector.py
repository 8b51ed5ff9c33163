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
    matches = det.run(con)
    found = sorted((m.title, m.record["eventID"]) for m in matches)
    assert found == [("Access key deleted", "k1"), ("User created", "u1")]
    assert det.run(con) == [] and det.duplicates == 2  # the same events again count once
    user = next(m for m in matches if m.title == "User created")
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


def test_detector_agrees_with_each_rule_alone(con):
    """The single guarded pass returns exactly what every rule's own predicate selects."""
    from trailguard.sigma import compile_rule

    names = ["CreateUser", "DeleteUser", "CreateAccessKey", "DeleteAccessKey", "StopLogging"]
    docs = [
        f"title: r{i}\nid: 7e3c9a4b-1d1a-4c1e-9a3e-{i:012d}\n"
        "logsource: {product: aws, service: cloudtrail}\n"
        f"detection:\n  sel:\n    eventName: {n}\n  condition: sel\n"
        for i, n in enumerate(names)
    ]
    docs.append(
        "title: any root\nid: 7e3c9a4b-1d1a-4c1e-9a3e-000000000100\n"
        "logsource: {product: aws, service: cloudtrail}\n"
        "detection:\n  sel:\n    userIdentity.type: root\n  filter:\n    eventName: GetUser\n"
        "  condition: sel and not filter\n"
    )
    docs.append(
        "title: deletes but not users\nid: 7e3c9a4b-1d1a-4c1e-9a3e-000000000101\n"
        "logsource: {product: aws, service: cloudtrail}\n"
        "detection:\n  sel:\n    eventName|startswith: delete\n  not_user:\n"
        "    eventName: DeleteUser\n  condition: sel and not not_user\n"
    )
    collection = SigmaCollection.from_yaml("---\n".join(docs))
    det = Detector(collection)
    assert det.guard is not None and len(det.guard.rules) == 5  # the five pinned rules are guarded
    recs = []
    for i, n in enumerate(names + ["GetUser", "DeleteTrail", "deleteuser", "CREATEUSER"]):
        for t in ("IAMUser", "Root"):
            recs.append(record(eventID=f"{i}-{t}", eventName=n, userIdentity={"type": t}))
    records_to_table(con, recs)
    got = sorted((m.title, m.record["eventID"]) for m in det.run(con))
    want = []
    for rule in collection.rules:
        pred = compile_rule(rule)
        for (eid,) in con.execute(f"SELECT eventID FROM events WHERE {pred}").fetchall():
            want.append((rule.title, eid))
    assert got == sorted(want)
    assert ("r0", "8-IAMUser") in got and ("r0", "8-Root") in got  # case-insensitive
    assert ("deletes but not users", "6-IAMUser") in got  # DeleteTrail
    assert not any(t == "deletes but not users" and e.startswith("1-") for t, e in got)


def test_run_restores_connection_settings(con):
    det = Detector(SigmaCollection.from_yaml(RULES))
    records_to_table(con, [record(eventID="k1", eventName="DeleteAccessKey")])
    con.execute("SET preserve_insertion_order = true")
    assert len(det.run(con)) == 1
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (True,)


def test_shared_lower_columns_only_rename_lower_calls():
    from trailguard.sigma import compile_rule

    docs = [
        f"title: r{i}\nid: 8e3c9a4b-1d1a-4c1e-9a3e-{i:012d}\n"
        "logsource: {product: aws, service: cloudtrail}\n"
        f"detection:\n  sel:\n    eventSource: iam.amazonaws.com\n    eventName: E{i}\n"
        "  self:\n    requestParameters.userName|fieldref: userIdentity.userName\n"
        "  condition: sel and not self\n"
        for i in range(4)
    ]
    det = Detector(SigmaCollection.from_yaml("---\n".join(docs)))
    assert list(det.lowered) == ['"eventName"']  # JSON paths and struct members are not shared
    for rule, pred in zip(det.rules, det.predicates, strict=True):
        assert pred.replace("__tg_l0", 'lower("eventName")') == compile_rule(rule)
