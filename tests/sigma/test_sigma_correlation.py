"""Correlation rules across batches: event_count, value_count, temporal, temporal_ordered."""

from __future__ import annotations

import dataclasses
import io
import pickle

import pytest
from sigma.collection import SigmaCollection
from sigma_helpers import record

from trailguard.sigma import Detector, RuleCompileError, records_to_table
from trailguard.sigma.match import Match, RuleRef

HEAD = "logsource: {product: aws, service: cloudtrail}\nlevel: medium\n"

CRED_DELETED = f"""
title: IAM credential deleted
id: 0d8a4f0e-2f2e-4c55-9a0e-00000000c001
name: iam_credential_deleted
{HEAD}detection:
  sel:
    eventSource: iam.amazonaws.com
    eventName: [DeleteAccessKey, DeleteLoginProfile, DeleteSSHPublicKey, DeleteSigningCertificate]
  condition: sel
"""

BURST = """
title: Burst of credential deletions by one principal
id: 0d8a4f0e-2f2e-4c55-9a0e-00000000c002
correlation:
  type: event_count
  rules: [iam_credential_deleted]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 5}
level: high
"""

DELETED_FOR_OTHER = f"""
title: Credential of another user deleted
id: 0d8a4f0e-2f2e-4c55-9a0e-00000000c003
name: other_user_key_deleted
{HEAD}detection:
  sel:
    eventName: [DeleteAccessKey, DeleteLoginProfile]
  self:
    requestParameters.userName|fieldref: userIdentity.userName
  condition: sel and not self
"""

CREATED_FOR_OTHER = f"""
title: Access key created for another user
id: 0d8a4f0e-2f2e-4c55-9a0e-00000000c004
name: other_user_key_created
{HEAD}detection:
  sel:
    eventName: CreateAccessKey
  self:
    requestParameters.userName|fieldref: userIdentity.userName
  condition: sel and not self
"""

SWAP = """
title: Credential replaced for a user by someone else
id: 0d8a4f0e-2f2e-4c55-9a0e-00000000c005
correlation:
  type: {ctype}
  rules: [other_user_key_deleted, other_user_key_created]
  group-by: [target_user]
  aliases:
    target_user:
      other_user_key_deleted: requestParameters.userName
      other_user_key_created: requestParameters.userName
  timespan: 1h
level: high
"""


def _delete(eid: str, minute: int, actor: str = "mallory", target: str = "bob", hour: int = 10):
    return record(
        eventID=eid,
        eventName="DeleteAccessKey",
        eventTime=f"2024-07-30T{hour:02d}:{minute:02d}:00Z",
        userIdentity={
            "type": "IAMUser",
            "userName": actor,
            "arn": f"arn:aws:iam::123456789012:user/{actor}",
        },
        requestParameters={"userName": target, "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
    )


def _create(eid: str, minute: int, actor: str = "mallory", target: str = "bob", hour: int = 10):
    rec = _delete(eid, minute, actor, target, hour)
    rec["eventName"] = "CreateAccessKey"
    rec["requestParameters"] = {"userName": target}
    return rec


def _detector(*docs: str) -> Detector:
    return Detector(SigmaCollection.from_yaml("---".join(docs)))


def test_event_count_burst_across_batches(con):
    det = _detector(CRED_DELETED, BURST)
    records_to_table(con, [_delete(f"a{i}", i) for i in range(3)])
    first = det.run(con)
    records_to_table(con, [_delete(f"a{i}", i) for i in range(3, 5)] + [_delete("x", 59)])
    second = det.run(con)
    # the base rule is referenced by a correlation without generate: no single-event matches
    assert first == [] and second == []
    [m] = det.finish()
    assert m.is_correlation
    assert m.title == "Burst of credential deletions by one principal"
    assert m.group == {"userIdentity.arn": "arn:aws:iam::123456789012:user/mallory"}
    assert m.actors == ["arn:aws:iam::123456789012:user/mallory"]
    assert m.paths == {"userIdentity.arn": "userIdentity.arn"}
    assert m.count == 5
    assert (m.first_time, m.last_time) == ("2024-07-30T10:00:00Z", "2024-07-30T10:04:00Z")
    assert m.event_ids == ["a0", "a1", "a2", "a3", "a4"]
    assert m.rules == ["iam_credential_deleted"]


def test_event_count_below_threshold_or_spread_out_or_split_by_principal(con):
    det = _detector(CRED_DELETED, BURST)
    spread = [_delete(f"s{i}", i * 4) for i in range(5)]  # 5 deletions over 16 minutes
    split = [_delete(f"p{i}", 30 + i, actor="eve" if i % 2 else "mallory") for i in range(6)]
    records_to_table(con, spread + split)
    det.run(con)
    assert det.finish() == []


def test_event_count_generate_true_keeps_base_matches(con):
    det = _detector(
        CRED_DELETED, BURST.replace("  timespan: 10m", "  timespan: 10m\n  generate: true")
    )
    records_to_table(con, [_delete("a", 1)])
    assert [m.record["eventID"] for m in det.run(con)] == ["a"]


def test_value_count_distinct_targets(con):
    rule = BURST.replace("type: event_count", "type: value_count").replace(
        "condition: {gte: 5}", "condition: {gte: 3, field: requestParameters.userName}"
    )
    det = _detector(CRED_DELETED, rule)
    same_target = [_delete(f"a{i}", i) for i in range(5)]
    records_to_table(con, same_target)
    det.run(con)
    assert det.finish() == []
    det = _detector(CRED_DELETED, rule)
    many = [_delete(f"b{i}", i, target=f"user{i}") for i in range(3)]
    records_to_table(con, many)
    det.run(con)
    [m] = det.finish()
    assert m.count == 3 and m.event_ids == ["b0", "b1", "b2"]
    assert (m.values, m.value_count, m.value_path) == (
        ["user0", "user1", "user2"], 3, "requestParameters.userName")


def test_value_count_names_a_bounded_sample_of_what_it_counted(con):
    rule = BURST.replace("type: event_count", "type: value_count").replace(
        "condition: {gte: 5}", "condition: {gte: 3, field: requestParameters.userName}"
    )
    det = _detector(CRED_DELETED, rule)
    many = [_delete(f"c{i:02d}", i * 9 // 25, target=f"user{i:02d}") for i in range(25)]
    many += [_delete("c99", 9, target="user07")]  # twice: ranked first; all within 10 min
    records_to_table(con, many)
    det.run(con)
    [m] = det.finish()
    assert m.value_count == 25 and len(m.values) == 20 and m.values[0] == "user07"
    plain = _detector(CRED_DELETED, BURST)
    plain.run(con)
    assert all(w.values == [] and w.value_count == 0 for w in plain.finish())


def test_temporal_ordered_delete_then_create_for_same_user_by_someone_else(con):
    det = _detector(DELETED_FOR_OTHER, CREATED_FOR_OTHER, SWAP.format(ctype="temporal_ordered"))
    records_to_table(
        con,
        [
            _delete("d1", 5),
            _create("self", 10, actor="carol", target="carol"),  # own key: not "someone else"
            _delete("d-other", 6, target="dave"),  # different user, no create follows
        ],
    )
    det.run(con)
    records_to_table(con, [_create("c1", 50)])  # next batch, 45 minutes later
    det.run(con)
    [m] = det.finish()
    assert m.group == {"target_user": "bob"}
    # the alias is resolved to its field; the actor comes from the contributing events
    assert m.paths == {"target_user": "requestParameters.userName"}
    assert m.actors == ["arn:aws:iam::123456789012:user/mallory"]
    assert m.actor_count == 1
    assert m.accounts == ["123456789012"]
    assert m.event_ids == ["d1", "c1"]
    assert m.rules == ["other_user_key_created", "other_user_key_deleted"]


def test_temporal_ordered_needs_order_and_timespan(con):
    det = _detector(DELETED_FOR_OTHER, CREATED_FOR_OTHER, SWAP.format(ctype="temporal_ordered"))
    records_to_table(
        con,
        [
            _create("c-first", 0),  # created before deleted: wrong order
            _delete("d-after", 10),
            _delete("d-late", 0, target="erin"),
            _create("c-late", 30, target="erin", hour=11),  # 90 minutes later: out of timespan
        ],
    )
    det.run(con)
    assert det.finish() == []


def test_temporal_any_order(con):
    det = _detector(DELETED_FOR_OTHER, CREATED_FOR_OTHER, SWAP.format(ctype="temporal"))
    records_to_table(con, [_create("c", 0), _delete("d", 10)])
    det.run(con)
    [m] = det.finish()
    assert m.group == {"target_user": "bob"} and m.event_ids == ["c", "d"]


def test_event_ids_sample_is_bounded(con):
    det = _detector(CRED_DELETED, BURST)
    records_to_table(con, [_delete(f"e{i:03d}", i % 10) for i in range(100)])
    det.run(con)
    [m] = det.finish()
    assert m.count == 100 and len(m.event_ids) == 20


def test_memory_bound_drops_and_counts(con):
    det = Detector(
        SigmaCollection.from_yaml(CRED_DELETED + "---" + BURST), max_correlation_events=4
    )
    records_to_table(con, [_delete(f"e{i}", i) for i in range(6)])
    det.run(con)
    assert det.finish() == []
    assert det.trackers[0].dropped == 2


def test_unknown_group_by_field_is_a_compile_error():
    with pytest.raises(RuleCompileError, match="userIdentity.nope"):
        _detector(CRED_DELETED, BURST.replace("userIdentity.arn", "userIdentity.nope"))


def test_compaction_keeps_memory_bounded_and_results_exact(con):
    coll = SigmaCollection.from_yaml(CRED_DELETED + "---" + BURST)
    det = Detector(coll, max_correlation_events=6, correlation_lateness=3600)
    # three bursts of 5 deletions, two hours apart, arriving in time order over batches
    for burst in range(3):
        records_to_table(con, [_delete(f"b{burst}-{i}", i, hour=8 + 2 * burst) for i in range(5)])
        det.run(con)
        assert det.trackers[0].stored <= 6
    found = det.finish()
    assert [m.event_ids[0] for m in found] == ["b0-0", "b1-0", "b2-0"]
    assert all(m.count == 5 for m in found)
    assert det.trackers[0].dropped == 0


class _RecordingUnpickler(pickle.Unpickler):
    """Notes the module of every class or function the pickle refers to."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.modules: set[str] = set()

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        self.modules.add(module)
        return super().find_class(module, name)


def _comparable(matches: list[Match]) -> list[str]:
    return sorted(repr(dataclasses.replace(m, rule=m.rule_id)) for m in matches)


def test_detached_copy_pickles_without_pysigma_and_finds_the_same(con):
    burst = BURST.replace("  timespan: 10m", "  timespan: 10m\n  generate: true")
    swap = SWAP.format(ctype="temporal_ordered")
    det = _detector(CRED_DELETED, burst, DELETED_FOR_OTHER, CREATED_FOR_OTHER, swap)
    reader = _RecordingUnpickler(pickle.dumps(det.detached()))
    twin = reader.load()
    assert "trailguard.sigma.detector" in reader.modules
    assert not [m for m in reader.modules if m == "sigma" or m.startswith("sigma.")]
    assert all(type(r) is RuleRef for r in twin.rules + [t.rule for t in twin.trackers])
    assert [str(r.id) for r in det.rules] == [r.id for r in twin.rules]
    assert twin.query() == det.query() and twin.row_filter() == det.row_filter()
    records_to_table(con, [_delete(f"a{i}", i) for i in range(5)] + [_create("c1", 50)])
    found = [det.run(con) + det.finish(), twin.run(con) + twin.finish()]
    assert _comparable(found[0]) == _comparable(found[1])
    titles = sorted((m.title, m.is_correlation) for m in found[1])
    assert titles == [("Burst of credential deletions by one principal", True)] + [
        ("Credential replaced for a user by someone else", True)
    ] + [("IAM credential deleted", False)] * 5
    # the original detector's rules were not touched by detaching
    assert not any(isinstance(r, RuleRef) for r in det.rules)
