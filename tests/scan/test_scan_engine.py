"""The batching engine on local files: fast path, fallback, isolation, filters, findings."""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scan_helpers import (
    GUARDED_RULES_YAML,
    SSH_RULE_ID,
    TRAIL_RULE_ID,
    collection,
    delivery_bytes,
    record,
    refused_delivery_bytes,
    write,
)
from sigma.collection import SigmaCollection

from trailguard.findings.model import Severity
from trailguard.scan.engine import Scanner, needed_columns
from trailguard.scan.inputs import expand_local
from trailguard.sigma import Detector


def _scan(paths: list[Path] | Path, **kw) -> tuple[Scanner, list]:
    scanner = Scanner(Detector(collection()), **kw)
    sources = paths if isinstance(paths, list) else [paths]
    for src in sources:
        inputs, problems = expand_local(str(src))
        for name, reason in problems:
            scanner.stats.skip(name, reason)
        scanner.scan_inputs(inputs, str(src))
    findings = scanner.finish()
    scanner.close()
    return scanner, findings


def test_every_container_format_is_scanned(tmp_path: Path) -> None:
    def ssh(n: int) -> dict:  # distinct events: the same event twice counts once
        return record("DeleteSSHPublicKey", n)

    env = {"detail-type": "AWS API Call via CloudTrail", "source": "aws.iam", "detail": ssh(4)}
    item = {"EventId": "e", "CloudTrailEvent": json.dumps(record("DeleteSSHPublicKey", 2))}
    write(tmp_path / "a" / "delivery.json.gz", delivery_bytes([ssh(1), record("ListUsers", 3)]))
    write(tmp_path / "a" / "delivery.json", delivery_bytes([ssh(5)], gz=False))
    write(tmp_path / "b" / "lines.jsonl", "\n".join(json.dumps(r) for r in [ssh(6), ssh(7)]) + "\n")
    write(tmp_path / "b" / "array.json", json.dumps([ssh(8)]))
    write(tmp_path / "c" / "bridge.json", json.dumps(env))
    write(tmp_path / "c" / "lookup.json", json.dumps({"Events": [item]}))
    write(tmp_path / "c" / "README.md", "not a log: ignored when walking a folder")
    scanner, findings = _scan(tmp_path)
    assert scanner.stats.files_read == 6
    assert scanner.stats.events == 8
    assert not scanner.stats.data_skipped
    # Delivery files, JSON lines and arrays of bare records are read by DuckDB directly;
    # envelopes (EventBridge, LookupEvents) go through the Python decoder.
    assert scanner.stats.fallback_files == 2
    # Same rule, actor, target, event, error: one grouped finding.
    assert len(findings) == 1
    assert findings[0].rule_id == SSH_RULE_ID
    assert findings[0].count == 7


def test_bad_files_are_reported_and_the_rest_scans(tmp_path: Path) -> None:
    good = delivery_bytes([record("StopLogging", 1)])
    write(tmp_path / "1-good.json.gz", good)
    write(tmp_path / "2-truncated.json.gz", good[: len(good) // 2])
    write(tmp_path / "3-corrupt.json.gz", b"\x1f\x8b\x08\x00" + b"\x00garbage" * 20)
    write(tmp_path / "4-flow.log.gz", gzip.compress(
        b"2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK\n"))
    write(tmp_path / "5-notct.json", json.dumps({"hello": "world"}))
    write(tmp_path / "6-good.json.gz", delivery_bytes([record("StopLogging", 2)]))
    scanner, findings = _scan(tmp_path, batch_files=64)
    stats = scanner.stats
    assert stats.files_read == 2 and stats.files_skipped == 4
    assert stats.events == 2
    reasons = {Path(s.source).name: s.reason for s in stats.skipped}
    assert "gzip" in reasons["2-truncated.json.gz"]
    assert "gzip" in reasons["3-corrupt.json.gz"]
    assert "VPC flow logs" in reasons["4-flow.log.gz"]
    assert "no CloudTrail" in reasons["5-notct.json"]
    assert findings[0].rule_id == TRAIL_RULE_ID and findings[0].count == 2


def test_one_file_duckdb_rejects_does_not_cost_its_batch(tmp_path: Path) -> None:
    # A file DuckDB refuses although Python reads it (see refused_delivery_bytes): the batch
    # is split until the odd file is alone, and that file goes through the Python decoder.
    odd = record("DeleteSSHPublicKey", 9)
    for i in range(5):
        write(tmp_path / f"f{i}.json.gz", delivery_bytes([record("DeleteSSHPublicKey", i)]))
    write(tmp_path / "f2b.json.gz", refused_delivery_bytes([odd]))
    scanner, findings = _scan(tmp_path, batch_files=64)
    assert scanner.stats.files_read == 6 and scanner.stats.files_skipped == 0
    assert scanner.stats.events == 6
    assert scanner.stats.fallback_files == 1
    assert sum(f.count for f in findings) == 6
    # Bisection: [f0 f1 f2] loads, [f2b f3 f4] fails, [f2b] fails (Python path), [f3 f4]
    # loads, then the Python records: three batches, not one per file.
    assert scanner.stats.batches == 3


def test_batches_are_bounded(tmp_path: Path) -> None:
    for i in range(7):
        write(tmp_path / f"f{i}.json.gz", delivery_bytes([record("ListUsers", i)] * 3))
    scanner, _ = _scan(tmp_path, batch_files=2)
    assert scanner.stats.events == 21
    assert scanner.stats.batches == 4  # 2+2+2+1 files


def test_record_batches_are_bounded(tmp_path: Path) -> None:
    # EventBridge envelopes take the Python path, whose records are loaded in batches too.
    lines = "\n".join(
        json.dumps({"detail-type": "AWS API Call via CloudTrail",
                    "detail": record("DeleteSSHPublicKey", i)})
        for i in range(25)
    )
    write(tmp_path / "x.jsonl", lines + "\n")
    scanner, findings = _scan(tmp_path, batch_records=10)
    assert scanner.stats.events == 25
    assert scanner.stats.batches == 3
    assert findings[0].count == 25


def test_time_account_and_region_filters(tmp_path: Path) -> None:
    recs = [
        record("StopLogging", 1, eventTime="2026-11-19T23:59:59Z"),
        record("StopLogging", 2, eventTime="2026-11-20T10:00:00Z"),
        record("StopLogging", 3, eventTime="2026-11-20T10:00:00Z", awsRegion="eu-west-1"),
        record("StopLogging", 4, eventTime="2026-11-20T10:00:00Z", recipientAccountId="1" * 12),
        record("StopLogging", 5, eventTime="2026-11-22T00:00:01Z"),
    ]
    write(tmp_path / "x.json.gz", delivery_bytes(recs))
    scanner, findings = _scan(
        tmp_path,
        since=datetime(2026, 11, 20, tzinfo=UTC),
        until=datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC),
        accounts={"123456789012"},
        regions={"us-east-1"},
    )
    assert scanner.stats.events == 1
    assert findings[0].event_ids == ["ebf3e6f6-0002-47cf-b854-ac4e8529ea7d"]


def test_digests_are_counted_not_errors(tmp_path: Path) -> None:
    digest = {"awsAccountId": "123456789012", "digestStartTime": "x",
              "digestPublicKeyFingerprint": "y", "logFiles": []}
    write(tmp_path / "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/d.json.gz",
          gzip.compress(json.dumps(digest).encode()))
    write(tmp_path / "plain-digest.json", json.dumps(digest))
    scanner, _ = _scan(tmp_path)
    assert scanner.stats.digests_skipped == 2
    assert not scanner.stats.data_skipped


def test_missing_sources_are_reported(tmp_path: Path) -> None:
    scanner, _ = _scan([tmp_path / "nope", tmp_path / "*.none"])
    assert [s.reason for s in scanner.stats.skipped] == [
        "no such file or folder", "no files match this pattern"]


def test_finding_fields_from_the_record(tmp_path: Path) -> None:
    rec = record(
        "DeleteSSHPublicKey", 1,
        userIdentity={
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:mallory",
            "arn": "arn:aws:sts::123456789012:assumed-role/Ops/mallory",
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/Ops"},
                "attributes": {"mfaAuthenticated": "true"},
            },
        },
        errorCode="AccessDenied",
    )
    write(tmp_path / "x.json.gz", delivery_bytes([rec]))
    _, (finding,) = _scan(tmp_path)
    assert finding.severity is Severity.high
    assert finding.mitre == ["T1531"]
    assert finding.error_code == "AccessDenied"
    assert finding.event_time == datetime(2026, 11, 20, 9, 5, 12, tzinfo=UTC)
    assert finding.actor.session_name == "mallory"
    assert finding.actor.session_issuer_arn == "arn:aws:iam::123456789012:role/Ops"
    assert finding.actor.mfa_authenticated is True
    assert {(r.type, r.id) for r in finding.resources} == {
        ("AwsIamUser", "arn:aws:iam::123456789012:user/bob"),
        ("AwsIamSshPublicKey", "APKAEXAMPLEKEY"),
    }
    assert finding.explain == "DeleteSSHPublicKey"
    assert finding.account_id == "123456789012" and finding.region == "us-east-1"


def test_columns_follow_the_rules() -> None:
    cols = needed_columns(Detector(collection()))
    assert cols is not None
    assert {"eventName", "eventSource", "userIdentity", "requestParameters"} <= cols
    assert "tlsDetails" not in cols and "serviceEventDetails" not in cols


@pytest.mark.parametrize("name", ["we[ird].json.gz", "it's.json.gz"])
def test_names_duckdb_would_misread_still_scan(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, delivery_bytes([record("StopLogging", 1)]))
    scanner, findings = _scan(tmp_path)
    assert scanner.stats.events == 1 and findings[0].count == 1


def test_records_missing_fields_scan_on_the_fast_path(tmp_path: Path) -> None:
    sparse = [{"eventVersion": "1.08", "eventName": "StopLogging"},
              {"eventVersion": "1.08", "eventName": "StopLogging", "userIdentity": None,
               "recipientAccountId": "1234567890123"}]
    write(tmp_path / "sparse.json.gz", delivery_bytes(sparse))
    scanner, findings = _scan(tmp_path)
    assert scanner.stats.fallback_files == 0 and scanner.stats.events == 2
    assert sum(f.count for f in findings) == 2
    assert {f.account_id for f in findings} == {None, "1234567890123"}
    assert all(f.event_time is None and f.event_ids == [] for f in findings)


def test_json_lines_that_are_not_what_they_seemed_lose_nothing(tmp_path: Path) -> None:
    # First line a bare record (fast path guess), later an envelope and a foreign object:
    # DuckDB would load those as empty rows, so the file goes through the Python decoder.
    env = {"detail-type": "AWS API Call via CloudTrail", "detail": record("StopLogging", 2)}
    lines = [record("StopLogging", 1), env, {"flow": 1}, record("StopLogging", 3)]
    write(tmp_path / "mixed.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    good = "\n".join(json.dumps(record("StopLogging", 10 + i)) for i in range(3)) + "\n"
    write(tmp_path / "plain.jsonl.gz", gzip.compress(good.encode()))
    write(tmp_path / "truncated.jsonl",
          ("\n".join(json.dumps(record("StopLogging", 20 + i)) for i in range(3)) + "\n")[:-20])
    scanner, findings = _scan(tmp_path)
    assert scanner.stats.events == 3 + 3 + 2
    assert scanner.stats.fallback_files == 2  # mixed.jsonl and truncated.jsonl
    assert scanner.stats.records_skipped == 2
    reasons = {Path(s.source).name: s.reason for s in scanner.stats.skipped}
    assert "no CloudTrail fields" in reasons["mixed.jsonl#3"]
    assert "line 3 is not JSON" in reasons["truncated.jsonl#3"]
    assert sum(f.count for f in findings) == 8


def test_json_array_of_records_is_read_by_duckdb(tmp_path: Path) -> None:
    write(tmp_path / "a.json", json.dumps([record("StopLogging", i) for i in range(4)]))
    scanner, findings = _scan(tmp_path)
    assert scanner.stats.fallback_files == 0 and scanner.stats.events == 4
    assert findings[0].count == 4


def test_delivery_files_joined_in_memory_keep_every_event(tmp_path: Path) -> None:
    write(tmp_path / "a.json.gz", delivery_bytes([record("StopLogging", 1)]))
    write(tmp_path / "b.json.gz", gzip.compress(b'{"Records": [ ]}\n'))
    write(tmp_path / "c.json", '{"Records":[' + json.dumps(record("StopLogging", 2)) + "]}\n")
    # A Records file with an extra key is not joined; the Python decoder reads it.
    extra = {"Records": [record("StopLogging", 3)], "note": "x"}
    write(tmp_path / "d.json.gz", gzip.compress(json.dumps(extra).encode()))
    scanner, findings = _scan(tmp_path)
    assert scanner.stats.files_read == 4 and scanner.stats.events == 3
    assert scanner.stats.fallback_files == 1
    assert findings[0].count == 3


def test_records_span_accepts_only_the_delivery_shape() -> None:
    from trailguard.scan.batches import records_span

    assert records_span(b'{"Records":[1,2]}') == (11, 16)
    assert records_span(b'{ "Records" : [ ] }\n') == (14, 17)
    # '{"Records":[1],"x":[2]}' passes this cheap check, but its joined array is not valid
    # JSON, so DuckDB refuses the batch and the file goes to the Python decoder (d.json.gz).
    assert records_span(b'{"Other":[1]}') is None
    assert records_span(b'{"Records":[1]') is None


def test_bad_files_in_pipelined_batches_lose_nothing(tmp_path: Path) -> None:
    # Small batches: each is joined on the worker thread while the previous one is scanned;
    # rejects found by the worker (corrupt gzip, other shapes) and by DuckDB (bisection)
    # are still reported or decoded in Python, whichever batch they fall in.
    good = delivery_bytes([record("StopLogging", 1)])
    write(tmp_path / "1-good.json.gz", good)
    write(tmp_path / "2-good.json.gz", delivery_bytes([record("StopLogging", 2)]))
    write(tmp_path / "3-truncated.json.gz", good[: len(good) // 2])
    write(tmp_path / "4-good.json.gz", delivery_bytes([record("StopLogging", n) for n in
                                                       (4, 40, 41)]))
    write(tmp_path / "5-odd.json.gz", refused_delivery_bytes([record("StopLogging", 5)]))
    write(tmp_path / "6-good.json.gz", delivery_bytes([record("StopLogging", 6)]))
    write(tmp_path / "7-shape.json.gz", gzip.compress(json.dumps(
        {"Records": [record("StopLogging", 7)], "extra": 1}).encode()))
    write(tmp_path / "8-good.json.gz", delivery_bytes([record("StopLogging", n) for n in (8, 80)]))
    scanner, findings = _scan(tmp_path, batch_files=2)
    stats = scanner.stats
    assert stats.files_skipped == 1 and "gzip" in stats.skipped[0].reason
    assert Path(stats.skipped[0].source).name == "3-truncated.json.gz"
    assert stats.files_read == 7
    assert stats.events == 1 + 1 + 3 + 1 + 1 + 1 + 2
    assert stats.fallback_files == 2  # 5-odd (DuckDB refused it) and 7-shape
    assert sum(f.count for f in findings) == 10


# With a third rule pinning eventName (GUARDED_RULES_YAML) the loader keeps only rows a rule
# can match (Detector.row_filter): the scenarios above must come out the same.
@pytest.mark.parametrize(
    "scenario",
    [
        test_every_container_format_is_scanned,
        test_bad_files_are_reported_and_the_rest_scans,
        test_one_file_duckdb_rejects_does_not_cost_its_batch,
        test_batches_are_bounded,
        test_record_batches_are_bounded,
        test_time_account_and_region_filters,
        test_finding_fields_from_the_record,
        test_records_missing_fields_scan_on_the_fast_path,
        test_json_lines_that_are_not_what_they_seemed_lose_nothing,
        test_json_array_of_records_is_read_by_duckdb,
        test_delivery_files_joined_in_memory_keep_every_event,
        test_bad_files_in_pipelined_batches_lose_nothing,
    ],
)
def test_same_results_when_only_matchable_rows_are_stored(
    scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sys.modules[__name__], "collection", lambda: SigmaCollection.from_yaml(GUARDED_RULES_YAML)
    )
    assert Scanner(Detector(collection())).loader.keep is not None
    scenario(tmp_path)


@pytest.mark.parametrize("pending_rows", [1, 3, 20_000])
def test_rows_set_aside_across_batches_give_the_same_findings(
    tmp_path: Path, pending_rows: int
) -> None:
    for i in range(6):
        recs = [record("ListUsers", 10 * i + k) for k in range(4)]
        recs.append(record("StopLogging", 10 * i + 5))
        if i % 2:
            recs.append(record("DeleteSSHPublicKey", 10 * i + 6))
        write(tmp_path / f"f{i}.json.gz", delivery_bytes(recs))
    scanner = Scanner(
        Detector(SigmaCollection.from_yaml(GUARDED_RULES_YAML)), batch_files=1,
        pending_rows=pending_rows,
    )
    inputs, _ = expand_local(str(tmp_path))
    scanner.scan_inputs(inputs, str(tmp_path))
    findings = scanner.finish()
    scanner.close()
    assert scanner.stats.events == 6 * 5 + 3 and scanner.stats.batches == 6
    counts = {f.rule_id: f.count for f in findings}
    assert counts == {TRAIL_RULE_ID: 6, SSH_RULE_ID: 3}
    assert sorted(findings[0].event_ids)[0].startswith("ebf3e6f6-")


def test_elapsed_time_stops_when_the_scan_finishes(tmp_path: Path) -> None:
    """The report's seconds and events/s and the summary printed after it must agree."""
    import time

    write(tmp_path / "a.json.gz", delivery_bytes([record("ListUsers", 1)]))
    scanner, _ = _scan(tmp_path)
    first = scanner.stats.elapsed
    time.sleep(0.05)
    assert scanner.stats.elapsed == first
    assert scanner.stats.as_dict()["seconds"] == round(first, 3)
