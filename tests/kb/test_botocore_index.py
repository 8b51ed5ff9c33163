"""The botocore operation index behind `explain` for uncurated events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trailguard.kb import botocore_index as bi


def test_operation_index_maps_names_to_services() -> None:
    index = bi.operation_index()
    assert index["CreateAccessKey"] == ("iam",)
    assert "ec2" in index["CreateTags"] and "workspaces" in index["CreateTags"]
    assert len(index) > 10_000


def test_find_operation_prefers_exact_spelling() -> None:
    assert bi.find_operation("DeleteSSHPublicKey") == [("DeleteSSHPublicKey", "iam")]
    loose = bi.find_operation("deletesshpublickey")
    assert ("DeleteSSHPublicKey", "iam") in loose and ("DeleteSshPublicKey", "transfer") in loose
    assert bi.find_operation("NoSuchThingAtAll") == []


def test_closest_names_include_curated_names_first() -> None:
    names = bi.closest_names("StopLoging", extra=["StopLogging"])
    assert names[0] == "StopLogging"


@pytest.mark.parametrize(
    ("name", "read_only"),
    [
        ("ListUsers", True),
        ("DescribeTrails", True),
        ("GetSessionToken", False),  # issues credentials
        ("BatchGetItem", True),
        ("DeleteUser", False),
        ("Getaway", True),  # inferred from the prefix only: documented as inferred
    ],
)
def test_read_only_is_inferred_from_the_name(name: str, read_only: bool) -> None:
    assert bi.is_read_only(name) is read_only


def test_event_sources() -> None:
    assert bi.event_source("iam") == "iam.amazonaws.com"
    assert bi.event_source("cloudwatch") == "monitoring.amazonaws.com"
    assert bi.event_source("ses") == "ses.amazonaws.com"


def test_summary_strips_html_and_keeps_the_first_paragraph() -> None:
    doc = "<p>Creates a <a href='x'>thing</a> &amp; more.</p><p>Second paragraph.</p>"
    assert bi.summarize(doc) == "Creates a thing & more."
    long = "<p>" + "A sentence here. " * 60 + "</p>"
    assert len(bi.summarize(long)) <= 400 and bi.summarize(long).endswith(".")


def test_operation_info_lists_parameters() -> None:
    info = bi.operation_info("iam", "DeleteSSHPublicKey")
    assert [(p.name, p.type, p.required) for p in info.parameters] == [
        ("UserName", "string", True),
        ("SSHPublicKeyId", "string", True),
    ]
    assert info.cli_reference.endswith("/iam/delete-ssh-public-key.html")
    assert not info.pageable
    assert bi.operation_info("iam", "ListUsers").pageable


def test_index_is_cached_on_disk_and_rebuilt_when_corrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def fake_build() -> dict[str, list[str]]:
        calls.append(1)
        return {"FakeOp": ["fakesvc"]}

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(bi, "_build_index", fake_build)
    bi.operation_index.cache_clear()
    bi._lower_index.cache_clear()
    try:
        assert bi.operation_index() == {"FakeOp": ("fakesvc",)}
        cache = bi._cache_file()
        assert cache.parent == tmp_path / "trailguard"
        assert json.loads(cache.read_text()) == {"FakeOp": ["fakesvc"]}
        bi.operation_index.cache_clear()
        assert bi.operation_index() == {"FakeOp": ("fakesvc",)}
        assert len(calls) == 1  # second load came from disk
        cache.write_text("{not json")
        bi.operation_index.cache_clear()
        assert bi.operation_index() == {"FakeOp": ("fakesvc",)}
        assert len(calls) == 2
    finally:
        bi.operation_index.cache_clear()
        bi._lower_index.cache_clear()
