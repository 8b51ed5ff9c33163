"""The sample-log generator: CloudTrail's S3 layout, the story's events, and every rule firing."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sigma.correlations import SigmaCorrelationRule

from trailguard.samples.__main__ import main
from trailguard.samples.generate import SampleSet, generate
from trailguard.samples.records import CURATED_EVENTS
from trailguard.sigma import Detector, compile_rule, records_to_table

NAME_RE = re.compile(
    r"^AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
    r"\1_CloudTrail_\2_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SampleSet:
    return generate(tmp_path_factory.mktemp("samples"), seed=7, routine_events=400)


@pytest.fixture(scope="module")
def records(sample) -> list[dict]:
    return sample.all_records


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def test_log_files_follow_cloudtrail_delivery_layout(sample) -> None:
    assert len(sample.log_files) > 20
    for path in sample.log_files:
        rel = path.relative_to(sample.out_dir).as_posix()
        m = NAME_RE.match(rel)
        assert m, rel
        delivered = datetime.strptime(m.group(6), "%Y%m%dT%H%MZ")
        assert delivered.minute % 5 == 0
        body = json.loads(gzip.decompress(path.read_bytes()))
        assert list(body) == ["Records"] and body["Records"]
        for rec in body["Records"]:
            t = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
            assert delivered - timedelta(minutes=5) <= t < delivered  # ~5-minute files
            assert rec["awsRegion"] == m.group(2)


def test_organization_trail_and_digest_are_present(sample) -> None:
    rels = [p.relative_to(sample.out_dir).as_posix() for p in sample.log_files]
    org = [r for r in rels if r.startswith("AWSLogs/o-exampleorg1/444455556666/CloudTrail/")]
    assert org
    assert [
        p.relative_to(sample.out_dir).as_posix().split("/")[2] for p in sample.digest_files
    ] == ["CloudTrail-Digest"]
    digest = json.loads(gzip.decompress(sample.digest_files[0].read_bytes()))
    assert "Records" not in digest and digest["awsAccountId"] == "111122223333"


def test_bad_files_are_really_bad(sample) -> None:
    truncated, not_json, flow = sample.bad_files
    with pytest.raises((EOFError, zlib.error, OSError)):
        gzip.decompress(truncated.read_bytes())
    with pytest.raises(json.JSONDecodeError):
        json.loads(gzip.decompress(not_json.read_bytes()))
    assert "vpcflowlogs" in flow.as_posix()
    assert gzip.decompress(flow.read_bytes()).startswith(b"version account-id interface-id")


def test_same_seed_same_bytes_other_seed_other_data(tmp_path) -> None:
    a = generate(tmp_path / "a", seed=3, routine_events=50)
    b = generate(tmp_path / "b", seed=3, routine_events=50)
    c = generate(tmp_path / "c", seed=4, routine_events=50)
    assert _tree_digest(a.out_dir) == _tree_digest(b.out_dir)
    assert _tree_digest(a.out_dir) != _tree_digest(c.out_dir)
    assert a.records == b.records == c.records


def test_routine_volume_is_configurable(sample) -> None:
    assert sample.records == len(sample.all_records)
    routine = sum(1 for r in sample.all_records if r.get("readOnly"))
    assert routine >= 400


def test_every_identity_type_appears(records) -> None:
    types = Counter(r["userIdentity"]["type"] for r in records)
    for t in (
        "IAMUser",
        "AssumedRole",
        "Root",
        "FederatedUser",
        "AWSService",
        "AWSAccount",
        "IdentityCenterUser",
    ):
        assert types[t] > 0, t


def _actor_acts_on_self(rec: dict) -> bool:
    target = (rec.get("requestParameters") or {}).get("userName")
    return target is None or target == rec["userIdentity"].get("userName")


def test_each_curated_event_has_a_benign_and_a_malicious_variant(sample) -> None:
    benign = {r["eventName"] for r in sample.benign if "errorCode" not in r}
    assert set(CURATED_EVENTS) <= benign
    self_service = {r["eventName"] for r in sample.benign if _actor_acts_on_self(r)}
    assert {"CreateAccessKey", "DeleteAccessKey", "DeleteSSHPublicKey"} <= self_service
    attack = {r["eventName"] for r in sample.malicious if "errorCode" not in r}
    assert set(CURATED_EVENTS) <= attack
    by_mallory = [
        r for r in sample.malicious if r["userIdentity"].get("arn", "").endswith("/mallory")
    ]
    on_others = {
        r["eventName"] for r in by_mallory if (r.get("requestParameters") or {}).get("userName")
    }
    assert {"DeleteSSHPublicKey", "DeleteAccessKey", "DeactivateMFADevice"} <= on_others
    assert {r["sourceIPAddress"] for r in by_mallory} == {"203.0.113.66"}


def test_story_has_failures_no_mfa_login_and_stop_logging(sample) -> None:
    mal = sample.malicious
    assert sum(1 for r in mal if r.get("errorCode") == "AccessDenied") >= 3
    assert any(
        r["eventName"] == "ConsoleLogin"
        and r["additionalEventData"]["MFAUsed"] == "No"
        and r["userIdentity"]["type"] == "IAMUser"
        for r in mal
    )
    assert any(r["eventName"] == "StopLogging" and "errorCode" not in r for r in mal)


def test_every_rule_fires_on_the_sample_data(records, catalog) -> None:
    con = duckdb.connect()
    records_to_table(con, records)
    silent = []
    for info in catalog.rules:
        if isinstance(info.rule, SigmaCorrelationRule):
            continue
        (n,) = con.execute(
            f"SELECT count(*) FROM events WHERE {compile_rule(info.rule)}"
        ).fetchone()
        if n == 0:
            silent.append(info.title)
    detector = Detector(catalog.collection)
    detector.run(con)
    fired = Counter(m.rule.name for m in detector.finish())
    silent += [i.title for i in catalog.rules if i.kind == "correlation" and not fired[i.name]]
    assert not silent, f"rules that never fire on the sample data: {silent}"
    assert fired["tg_burst_credential_deletions"] == 1


def test_module_entry_point(tmp_path, capsys) -> None:
    assert main([str(tmp_path / "out"), "--seed", "11", "--routine-events", "20"]) == 0
    out = capsys.readouterr().out
    assert "CloudTrail files under" in out and "3 deliberately bad files" in out
    assert list((tmp_path / "out" / "AWSLogs").iterdir())


def test_module_entry_point_rejects_negative_volume(tmp_path) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path), "--routine-events", "-1"])
    assert exc.value.code == 2
