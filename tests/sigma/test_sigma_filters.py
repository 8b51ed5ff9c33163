"""Sigma filters in the detector: the same events as pySigma's filtered rules, counted, expiring."""

from __future__ import annotations

import copy
from datetime import date

import yaml
from sigma.collection import SigmaCollection
from sigma_helpers import record

from trailguard.detection.filters import FilterInfo, check_filters, parse_filter
from trailguard.sigma import Detector, records_to_table
from trailguard.sigma.backend import compile_rule

RULES = """
title: Access key created
id: 7e3c9a4b-1d1a-4c1e-9a3e-000000000001
name: key_created
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName: CreateAccessKey
  condition: sel
level: high
---
title: Access key deleted
id: 7e3c9a4b-1d1a-4c1e-9a3e-000000000002
name: key_deleted
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName: DeleteAccessKey
  condition: sel
level: medium
---
title: Burst of key deletions
id: 7e3c9a4b-1d1a-4c1e-9a3e-000000000003
correlation:
  type: event_count
  rules: [key_deleted]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 3}
level: high
"""

CI_FILTER = """
title: CI role rotates keys
id: 7e3c9a4b-1d1a-4c1e-9a3e-0000000000f1
description: accepted (SEC-1)
expires: 2027-03-01
logsource: {product: aws, service: cloudtrail}
filter:
  rules: [key_created, 7e3c9a4b-1d1a-4c1e-9a3e-000000000002]
  selection:
    userIdentity.arn|startswith: 'arn:aws:sts::123456789012:assumed-role/ci/'
  condition: not selection
"""

SCANNER_FILTER = """
title: Office network
logsource: {product: aws, service: cloudtrail}
filter:
  rules: any
  office:
    sourceIPAddress|cidr: 192.0.2.0/24
  condition: not office
"""

TODAY = date(2026, 11, 24)


def _filters(collection: SigmaCollection, *docs: str) -> list[FilterInfo]:
    problems: list[str] = []
    infos = [parse_filter(yaml.safe_load(d), f"f{i}.yml", problems) for i, d in enumerate(docs)]
    check_filters(infos, collection.rules, problems)
    assert problems == []
    return infos


def _event(eid: str, name: str, actor: str, minute: int = 0, ip: str = "198.51.100.7") -> dict:
    return record(
        eventID=eid,
        eventName=name,
        eventTime=f"2026-11-20T10:{minute:02d}:00Z",
        sourceIPAddress=ip,
        userIdentity={"type": "AssumedRole", "arn": actor, "accountId": "123456789012"},
        requestParameters={"userName": "bob"},
    )


CI = "arn:aws:sts::123456789012:assumed-role/ci/run-1"
MALLORY = "arn:aws:sts::123456789012:assumed-role/ops/mallory"


def test_filter_drops_matches_of_named_rules_and_counts_them(con) -> None:
    collection = SigmaCollection.from_yaml(RULES)
    det = Detector(collection, filters=_filters(collection, CI_FILTER), today=TODAY)
    records_to_table(con, [
        _event("c1", "CreateAccessKey", CI),
        _event("c2", "CreateAccessKey", MALLORY),
        _event("d1", "DeleteAccessKey", CI),
    ])
    found = sorted((m.title, m.record["eventID"]) for m in det.run(con))
    assert found == [("Access key created", "c2")]
    assert det.suppressed == 2
    (use,) = det.filters
    assert (use.title, use.events, use.applied, use.expires) == (
        "CI role rotates keys", 2, True, "2027-03-01")
    assert use.rules == ["key_created", "key_deleted"]


def test_dropped_events_do_not_feed_correlations(con) -> None:
    collection = SigmaCollection.from_yaml(RULES)
    det = Detector(collection, filters=_filters(collection, CI_FILTER), today=TODAY)
    records_to_table(con, [_event(f"d{i}", "DeleteAccessKey", CI, i) for i in range(5)])
    assert det.run(con) == []
    assert det.finish() == []  # the burst would fire without the filter
    plain = Detector(SigmaCollection.from_yaml(RULES))
    plain.run(con)
    assert [m.title for m in plain.finish()] == ["Burst of key deletions"]


def test_expired_filter_is_kept_but_not_applied(con) -> None:
    collection = SigmaCollection.from_yaml(RULES)
    det = Detector(collection, filters=_filters(collection, CI_FILTER), today=date(2027, 3, 2))
    records_to_table(con, [_event("c1", "CreateAccessKey", CI)])
    assert [m.record["eventID"] for m in det.run(con)] == ["c1"]
    assert det.filters[0].applied is False and det.suppressed == 0
    assert det.filter_predicates == []
    on_the_day = Detector(collection, filters=_filters(collection, CI_FILTER),
                          today=date(2027, 3, 1))
    assert on_the_day.run(con) == [] and on_the_day.suppressed == 1


def test_two_filters_and_a_row_with_the_field_missing(con) -> None:
    collection = SigmaCollection.from_yaml(RULES)
    det = Detector(collection, filters=_filters(collection, CI_FILTER, SCANNER_FILTER),
                   today=TODAY)
    no_ip = _event("c3", "CreateAccessKey", MALLORY)
    del no_ip["sourceIPAddress"]
    records_to_table(con, [
        _event("c1", "CreateAccessKey", CI, ip="192.0.2.10"),  # both filters drop it
        _event("c2", "CreateAccessKey", MALLORY, ip="192.0.2.11"),  # office filter
        no_ip,  # "not office" holds when the address is missing: kept
        _event("c4", "CreateAccessKey", MALLORY, ip="203.0.113.66"),
    ])
    assert sorted(m.record["eventID"] for m in det.run(con)) == ["c3", "c4"]
    assert det.suppressed == 2
    assert [u.events for u in det.filters] == [1, 2]


def test_detector_keeps_exactly_what_pysigma_filtered_rules_match(con) -> None:
    """Equivalence with Sigma's own semantics: apply the filters with pySigma, compile the
    rewritten rules, and compare with the detector's matches event by event."""
    plain_rules = "---".join(RULES.split("---")[:2])  # no correlation: both rules report
    collection = SigmaCollection.from_yaml(plain_rules)
    infos = _filters(collection, CI_FILTER, SCANNER_FILTER)
    det = Detector(collection, filters=infos, today=TODAY)
    events = [
        _event(f"e{i}", name, actor, i, ip)
        for i, (name, actor, ip) in enumerate(
            (n, a, ip)
            for n in ("CreateAccessKey", "DeleteAccessKey", "GetUser")
            for a in (CI, MALLORY, "arn:aws:iam::123456789012:user/ci")
            for ip in ("192.0.2.1", "198.51.100.7", "10.0.0.1")
        )
    ]
    records_to_table(con, events)
    got = sorted((m.rule.name, m.record["eventID"]) for m in det.run(con))
    want = []
    for rule in SigmaCollection.from_yaml(plain_rules).rules:
        filtered = copy.deepcopy(rule)
        for info in infos:
            filtered = info.filter.apply_on_rule(filtered)
        sql = compile_rule(filtered)
        rows = con.execute(f'SELECT "eventID" FROM events WHERE {sql}').fetchall()
        want += [(rule.name, r[0]) for r in rows]
    assert got == sorted(want)
    assert len(got) == 8  # per rule: mallory and the IAM user "ci", each from 2 other networks


def test_detached_detector_carries_filters_with_fresh_counts(con) -> None:
    collection = SigmaCollection.from_yaml(RULES)
    det = Detector(collection, filters=_filters(collection, CI_FILTER), today=TODAY)
    records_to_table(con, [_event("c1", "CreateAccessKey", CI)])
    det.run(con)
    twin = det.detached()
    assert det.filters[0].events == 1 and twin.filters[0].events == 0
    assert twin.run(con) == [] and twin.filters[0].events == 1
