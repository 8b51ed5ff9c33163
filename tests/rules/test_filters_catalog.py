"""Loading Sigma filters with the catalog: found, resolved, refused when they would do nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from trailguard.detection.catalog import CatalogError, load_rules

FILTER = """
title: CI role rotates keys
id: 5a0c3f7e-1111-4c55-9a51-0d3f1f0e9aff
description: accepted, ticket SEC-1
expires: 2027-03-01
logsource: {{product: aws, service: cloudtrail}}
filter:
  rules: {rules}
  selection:
    userIdentity.arn|startswith: 'arn:aws:sts::111122223333:assumed-role/ci/'
  condition: not selection
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _problems(**kw) -> str:
    with pytest.raises(CatalogError) as err:
        load_rules(**kw)
    return "\n".join(err.value.problems)


def test_filter_file_is_loaded_resolved_and_not_applied_to_the_rules(tmp_path: Path) -> None:
    path = _write(tmp_path / "ci.yml", FILTER.format(
        rules="[tg_iam_create_access_key, {id}]"))
    plain = load_rules()
    deleted = next(i for i in plain.rules if i.name == "tg_iam_delete_access_key")
    path.write_text(path.read_text().replace("{id}", deleted.id))
    catalog = load_rules(filter_paths=[path])
    (info,) = catalog.filters
    assert (info.title, info.source, info.expires) == (
        "CI role rotates keys", str(path), date(2027, 3, 1))
    assert info.description == "accepted, ticket SEC-1"
    assert info.rules == ["tg_iam_create_access_key", "tg_iam_delete_access_key"]
    rule = catalog.by_id(plain.rules[0].id).rule
    assert rule.detection.condition == plain.rules[0].rule.detection.condition  # untouched
    assert plain.filters == []  # the shipped rules hold no filter


def test_filter_inside_a_rules_folder_counts_as_a_filter(tmp_path: Path) -> None:
    _write(tmp_path / "mine" / "ci.yml", FILTER.format(rules="any"))
    catalog = load_rules([tmp_path / "mine"], require_examples=False)
    (info,) = catalog.filters
    assert info.references == [] and len(info.rules) == len(
        [r for r in catalog.rules if r.kind != "correlation"])


def test_a_folder_of_filters_is_read_recursively(tmp_path: Path) -> None:
    _write(tmp_path / "f" / "a.yml", FILTER.format(rules="[tg_iam_create_access_key]"))
    _write(tmp_path / "f" / "team" / "b.yaml", FILTER.replace(
        "5a0c3f7e-1111", "5a0c3f7e-2222").format(rules="[tg_iam_delete_access_key]"))
    catalog = load_rules(filter_paths=[tmp_path / "f"])
    assert [i.rules for i in catalog.filters] == [
        ["tg_iam_create_access_key"], ["tg_iam_delete_access_key"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FILTER.format(rules="[tg_no_such_rule]"), "rule 'tg_no_such_rule' is not loaded"),
        (FILTER.format(rules="[tg_burst_credential_deletions]"), "is a correlation rule"),
        (FILTER.format(rules="any").replace("service: cloudtrail", "service: guardduty"),
         "applies to no loaded rule"),
        (FILTER.format(rules="any").replace("2027-03-01", "next spring"),
         "expires must be a day (YYYY-MM-DD)"),
        (FILTER.format(rules="any").replace("title: CI role rotates keys\n", ""),
         "title"),
        ("title: a rule\nlogsource: {product: aws, service: cloudtrail}\n"
         "detection: {sel: {eventName: X}, condition: sel}\n",
         "document 1 is a detection rule: give rule folders with --rules"),
        ("# nothing here\n", "no Sigma filter in this file"),
        ("settings:\n  verbose: true\n",
         "document 1 is not a Sigma filter (a filter document has a 'filter:' section)"),
    ],
)
def test_filters_that_would_silently_do_nothing_are_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path / "ci.yml", text)
    assert expected in _problems(filter_paths=[path])


def test_upper_case_suffixes_are_read(tmp_path: Path) -> None:
    _write(tmp_path / "f" / "A.YML", FILTER.format(rules="[tg_iam_create_access_key]"))
    assert [i.title for i in load_rules(filter_paths=[tmp_path / "f"]).filters] == [
        "CI role rotates keys"]


def test_an_impossible_date_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = _write(tmp_path / "ci.yml", FILTER.format(rules="any").replace(
        "2027-03-01", "2027-02-30"))
    assert f"{path}: bad value: day is out of range for month" in _problems(filter_paths=[path])


def test_missing_filter_path_is_reported(tmp_path: Path) -> None:
    assert f"{tmp_path / 'none.yml'}: no such file or folder" in _problems(
        filter_paths=[tmp_path / "none.yml"])
    (tmp_path / "empty").mkdir()
    assert "no filter files" in _problems(filter_paths=[tmp_path / "empty"])
