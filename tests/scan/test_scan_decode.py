"""Format detection and the robust decoder: every container, every kind of bad input."""

from __future__ import annotations

import gzip
import json

import pytest
from scan_helpers import delivery_bytes, record

from trailguard.scan.decode import (
    DigestFile,
    InputError,
    decode_bytes,
    is_delivery_file,
    is_digest,
    read_head,
    unwrap,
)


def _records(name: str, data: bytes) -> list[dict]:
    return [r for chunk in decode_bytes(name, data) for r in chunk.records]


def test_delivery_format_gz_and_plain() -> None:
    recs = [record("DeleteSSHPublicKey", 1), record("ListUsers", 2)]
    for gz in (True, False):
        out = _records("x.json", delivery_bytes(recs, gz=gz))
        assert [r["eventName"] for r in out] == ["DeleteSSHPublicKey", "ListUsers"]


def test_fast_path_sniffing() -> None:
    assert is_delivery_file(read_head(delivery_bytes([record()])))
    assert is_delivery_file(b'{ "Records" : [ ] }')
    assert not is_delivery_file(b'{"Records": [{"foo": 1}]}')  # not CloudTrail: robust path
    assert not is_delivery_file(b'[{"eventVersion": "1.08"}]')


def test_json_lines() -> None:
    text = "\n".join(json.dumps(record("ListUsers", i)) for i in range(3)) + "\n"
    out = _records("x.jsonl", gzip.compress(text.encode()))
    assert [r["eventID"][:13] for r in out] == [f"ebf3e6f6-{i:04d}" for i in range(3)]


def test_json_array() -> None:
    out = _records("x.json", json.dumps([record("A", 1), record("B", 2)]).encode())
    assert [r["eventName"] for r in out] == ["A", "B"]


def test_eventbridge_envelopes() -> None:
    env = {
        "version": "0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "detail": record("DeleteSSHPublicKey", 7),
    }
    assert _records("e.json", json.dumps(env).encode())[0]["eventName"] == "DeleteSSHPublicKey"
    lines = (json.dumps(env) + "\n") * 2
    assert len(_records("e.jsonl", lines.encode())) == 2


def test_lookup_events_items_and_response() -> None:
    item = {
        "EventId": "x",
        "EventName": "StopLogging",
        "CloudTrailEvent": json.dumps(record("StopLogging", 3)),
    }
    assert _records("l.json", json.dumps(item).encode())[0]["eventName"] == "StopLogging"
    saved = {"Events": [item, item], "NextToken": "abc"}
    assert len(_records("l.json", json.dumps(saved).encode())) == 2


def test_single_record_with_missing_fields_still_scans() -> None:
    out = _records("one.json", b'{"eventName": "DeleteSSHPublicKey"}')
    assert out == [{"eventName": "DeleteSSHPublicKey"}]


def test_invalid_looking_values_are_kept() -> None:
    rec = record("ListUsers", 1, recipientAccountId="1234567890123", awsRegion="ap-central-2r")
    out = _records("x.json", delivery_bytes([rec]))
    assert out[0]["recipientAccountId"] == "1234567890123"
    assert out[0]["awsRegion"] == "ap-central-2r"


def test_wrong_kinds_are_set_aside_not_fatal() -> None:
    rec = unwrap({"eventName": "X", "userIdentity": "root", "readOnly": "maybe"})
    assert isinstance(rec, dict)
    assert "userIdentity" not in rec and "readOnly" not in rec
    assert rec["_malformed"] == {"userIdentity": "root", "readOnly": "maybe"}
    assert unwrap({"eventName": "X", "readOnly": "TRUE"})["readOnly"] is True


def test_digest_files_are_recognised() -> None:
    digest = json.dumps(
        {
            "awsAccountId": "123456789012",
            "digestStartTime": "2026-11-20T08:00:00Z",
            "digestEndTime": "2026-11-20T09:00:00Z",
            "digestPublicKeyFingerprint": "abc",
            "logFiles": [],
        }
    ).encode()
    assert is_digest("any.json.gz", gzip.compress(digest)[:0] + digest)
    assert is_digest("AWSLogs/1/CloudTrail-Digest/us-east-1/x.json.gz", b"{}")
    with pytest.raises(DigestFile):
        decode_bytes("d.json.gz", gzip.compress(digest))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (gzip.compress(delivery_bytes([record()], gz=False))[:40], "gzip"),
        (b"\x1f\x8b\x08\x00garbage-garbage-garbage", "gzip"),
        (delivery_bytes([record()], gz=False)[:-30], "not valid JSON"),
        (b"2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1600000000 "
         b"1600000060 ACCEPT OK\n", "VPC flow logs"),
        (b"", "empty file"),
        (json.dumps({"version": 1, "flows": [1, 2]}).encode(), "no CloudTrail records"),
        (json.dumps([{"srcaddr": "10.0.0.1"}, {"srcaddr": "10.0.0.2"}]).encode(),
         "no CloudTrail records"),
    ],
    ids=["truncated-gzip", "corrupt-gzip", "truncated-json", "vpc-flow-logs", "empty",
         "json-without-cloudtrail", "array-without-cloudtrail"],
)
def test_bad_inputs_raise_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        decode_bytes("bad.json.gz", data)


def test_bad_lines_are_reported_and_the_rest_scans() -> None:
    text = json.dumps(record("A", 1)) + "\n{not json\n" + json.dumps({"foo": 1}) + "\n"
    text += json.dumps(record("B", 2)) + "\n"
    chunks = decode_bytes("x.jsonl", text.encode())
    assert [r["eventName"] for c in chunks for r in c.records] == ["A", "B"]
    problems = [p for c in chunks for p in c.problems]
    assert [p.index for p in problems] == [1, 2]
    assert "not JSON" in problems[0].reason
    assert "no CloudTrail fields" in problems[1].reason


def test_s3_event_notifications_are_not_cloudtrail() -> None:
    note = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
                         "eventName": "ObjectCreated:Put"}]}
    with pytest.raises(InputError, match="S3/SQS event notification"):
        decode_bytes("n.json", json.dumps(note).encode())


def test_reasons_never_quote_file_content() -> None:
    secret = b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    for data in (secret, b"[default]\n" + secret):
        with pytest.raises(InputError) as err:
            decode_bytes("credentials", data)
        assert "wJalr" not in str(err.value) and "JSON" in str(err.value)


def test_delivery_documents_written_back_to_back() -> None:
    """``zcat *.json.gz | trailguard scan -``: documents with no separator, or one per line."""
    a = json.dumps({"Records": [record("ListUsers", 1), record("ListUsers", 2)]},
                   separators=(",", ":")).encode()
    b = json.dumps({"Records": [record("ListUsers", 3)]}, separators=(",", ":")).encode()
    for data in (a + b + a, a + b"\n" + b + b"\n", gzip.compress(a) + gzip.compress(b)):
        ids = [r["eventID"] for r in _records("<stdin>", data)]
        assert len(ids) == (5 if data.count(b'"Records"') == 3 else 3), data[:40]


def test_pretty_printed_documents_back_to_back() -> None:
    """Other concatenations are read document by document (records, arrays, envelopes)."""
    docs = [{"Records": [record("ListUsers", 1)]}, [record("ListUsers", 2)], record("ListUsers", 3)]
    data = b"\n".join(json.dumps(d, indent=2).encode() for d in docs)
    assert sorted(r["eventID"] for r in _records("x.json", data)) == sorted(
        record("ListUsers", n)["eventID"] for n in (1, 2, 3))


def test_concatenation_that_is_not_json_is_still_reported() -> None:
    a = json.dumps({"Records": [record("ListUsers", 1)]}).encode()
    with pytest.raises(InputError, match="not valid JSON"):
        _records("x.json", a + a[:-5])
