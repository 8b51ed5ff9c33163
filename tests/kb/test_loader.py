"""Loading entries: validation errors name the file and field; lookups ignore case."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailguard.kb import loader
from trailguard.kb.loader import KnowledgeBaseError, get_entry, load_entries, load_entries_from

FIXTURE_ENTRY = Path(__file__).parent / "fixtures" / "knowledge" / "iam" / "DeleteSSHPublicKey.yaml"


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_fixture_kb_loads(fixture_kb: Path) -> None:
    entries = load_entries()
    assert sorted(entries) == ["DeleteSSHPublicKey", "DeleteTrail"]
    assert entries["DeleteTrail"].service == "cloudtrail"


def test_get_entry_is_case_insensitive(fixture_kb: Path) -> None:
    entry = get_entry("deletesshpublickey")
    assert entry is not None and entry.event_name == "DeleteSSHPublicKey"
    assert get_entry("  DELETETRAIL ") is not None
    assert get_entry("RunInstances") is None


def test_schema_error_names_file_and_field(tmp_path: Path) -> None:
    text = FIXTURE_ENTRY.read_text().replace("severity: low", "severity: urgent")
    _write(tmp_path, "iam/DeleteSSHPublicKey.yaml", text)
    with pytest.raises(KnowledgeBaseError) as exc:
        load_entries_from(tmp_path)
    message = str(exc.value)
    assert "knowledge/iam/DeleteSSHPublicKey.yaml" in message
    assert "severity:" in message


def test_nested_field_error_has_its_path(tmp_path: Path) -> None:
    text = FIXTURE_ENTRY.read_text().replace("id: restore-key", "id: Restore_Key")
    _write(tmp_path, "iam/DeleteSSHPublicKey.yaml", text)
    with pytest.raises(KnowledgeBaseError, match=r"response\.0\.id: .*kebab-case"):
        load_entries_from(tmp_path)


def test_file_name_must_match_event(tmp_path: Path) -> None:
    _write(tmp_path, "iam/DeleteSshKey.yaml", FIXTURE_ENTRY.read_text())
    with pytest.raises(KnowledgeBaseError, match="differs from the file name 'DeleteSshKey'"):
        load_entries_from(tmp_path)


def test_directory_must_match_service(tmp_path: Path) -> None:
    _write(tmp_path, "sts/DeleteSSHPublicKey.yaml", FIXTURE_ENTRY.read_text())
    with pytest.raises(KnowledgeBaseError, match="differs from the directory 'sts'"):
        load_entries_from(tmp_path)


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "iam/Broken.yaml", "event_name: [unclosed\n")
    with pytest.raises(KnowledgeBaseError, match=r"iam/Broken.yaml: not valid YAML"):
        load_entries_from(tmp_path)


def test_non_mapping_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "iam/List.yaml", "- a\n- b\n")
    with pytest.raises(KnowledgeBaseError, match="expected a mapping"):
        load_entries_from(tmp_path)


def test_packaged_entries_load_via_importlib_resources() -> None:
    loader.clear_cache()
    entries = load_entries()
    files = list(loader.iter_entry_files())
    assert len(entries) == len(files)
    for name, entry in entries.items():
        assert get_entry(name.upper()) is entry


def _versioned_kb(root: Path, *names: str) -> None:
    """Entries whose event names carry an API version suffix, like Lambda's."""
    text = FIXTURE_ENTRY.read_text()
    for name in names:
        _write(root, f"iam/{name}.yaml", text.replace("event_name: DeleteSSHPublicKey",
                                                      f"event_name: {name}"))


def test_an_entry_is_found_by_its_api_operation_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _versioned_kb(tmp_path, "DeleteSSHPublicKey20150331v2")
    monkeypatch.setattr(loader, "knowledge_root", lambda: tmp_path)
    loader.clear_cache()
    try:
        entry = get_entry("DeleteSSHPublicKey20150331v2")
        assert entry is not None and get_entry("deletesshpublickey") is entry
        assert sorted(load_entries()) == ["DeleteSSHPublicKey20150331v2"]
    finally:
        loader.clear_cache()


def test_an_operation_name_never_shadows_an_event_or_picks_between_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _versioned_kb(tmp_path, "DeleteSSHPublicKey20150331", "DeleteSSHPublicKey20150331v2")
    monkeypatch.setattr(loader, "knowledge_root", lambda: tmp_path)
    loader.clear_cache()
    try:
        assert get_entry("DeleteSSHPublicKey") is None  # two entries claim it: ambiguous
        _versioned_kb(tmp_path, "DeleteSSHPublicKey")
        loader.clear_cache()
        entry = get_entry("DeleteSSHPublicKey")
        assert entry is not None and entry.event_name == "DeleteSSHPublicKey"
    finally:
        loader.clear_cache()


def test_lambda_entries_are_found_by_event_and_by_operation_name() -> None:
    """Shipped entries: CloudTrail's versioned Lambda names and the API names lead to one page."""
    import json

    from typer.testing import CliRunner

    from trailguard.cli import app

    loader.clear_cache()
    for name in ("UpdateFunctionCode20150331v2", "UpdateFunctionCode", "updatefunctioncode"):
        entry = get_entry(name)
        assert entry is not None and entry.event_name == "UpdateFunctionCode20150331v2"
    entry = get_entry("AddPermission")
    assert entry is not None and entry.event_name == "AddPermission20150331v2"
    assert get_entry("DeleteSSHPublicKey") is not None  # event names are untouched
    result = CliRunner().invoke(app, ["explain", "UpdateFunctionCode", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["event_name"] == "UpdateFunctionCode20150331v2"
