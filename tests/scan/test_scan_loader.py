"""EventLoader with a row filter: every event counted, only rows a rule can match stored."""

from __future__ import annotations

import duckdb
from scan_helpers import GUARDED_RULES_YAML, record
from sigma.collection import SigmaCollection

from trailguard.scan.loader import EventLoader
from trailguard.scan.schema import COLUMNS, TABLE
from trailguard.sigma import Detector


def _keep() -> str | None:
    return Detector(SigmaCollection.from_yaml(GUARDED_RULES_YAML)).row_filter()


def _loader(keep: str | None) -> tuple[duckdb.DuckDBPyConnection, EventLoader]:
    con = duckdb.connect()
    return con, EventLoader(con, None, keep=keep)


def test_only_kept_rows_are_stored_but_all_are_counted() -> None:
    keep = _keep()
    assert keep is not None and "stoplogging" in keep
    con, loader = _loader(keep)
    notification = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}
    recs = [record("ListUsers", i) for i in range(5)] + [
        record("StopLogging", 7), record("stoplogging", 8), notification,
    ]
    assert loader.load_records(recs) == 8
    assert loader.count_foreign_rows() == 1
    stored = con.execute(f'SELECT "eventName" FROM {TABLE} ORDER BY 1').fetchall()
    assert stored == [("StopLogging",), ("stoplogging",)]
    assert [r[0] for r in con.execute(f"DESCRIBE {TABLE}").fetchall()] == list(COLUMNS)


def test_no_kept_row_still_gives_a_table_with_every_column() -> None:
    con, loader = _loader(_keep())
    assert loader.load_records([record("ListUsers", i) for i in range(3)]) == 3
    assert loader.count_foreign_rows() == 0
    assert con.execute(f"SELECT count(*) FROM {TABLE}").fetchall() == [(0,)]
    described = {r[0]: r[1] for r in con.execute(f"DESCRIBE {TABLE}").fetchall()}
    assert list(described) == list(COLUMNS)
    assert described["readOnly"] == "BOOLEAN" and described["userIdentity"] == "JSON"
    assert loader.load_records([]) == 0


def test_without_filter_every_row_is_stored() -> None:
    con, loader = _loader(None)
    assert loader.load_records([record("ListUsers", i) for i in range(3)]) == 3
    assert con.execute(f"SELECT count(*) FROM {TABLE}").fetchall() == [(3,)]


def test_row_filter_is_none_when_a_rule_is_not_guarded() -> None:
    rules = SigmaCollection.from_yaml(
        GUARDED_RULES_YAML
        + """
---
title: Any Access Denied
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    errorCode: AccessDenied
  condition: selection
"""
    )
    assert Detector(rules).row_filter() is None
    assert Detector(SigmaCollection([])).row_filter() == "false"


def test_a_record_above_duckdbs_object_limit_still_loads() -> None:
    """A 17 MB request (a huge policy document) is one JSON line above DuckDB's 16 MB default."""
    con, loader = _loader(_keep())
    big = record("StopLogging", 1, requestParameters={"name": "t", "blob": "a" * 17_000_000})
    assert loader.load_records([big, record("ListUsers", 2)]) == 2
    assert con.execute(f"SELECT count(*) FROM {TABLE}").fetchall() == [(1,)]
