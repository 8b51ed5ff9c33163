"""Fixtures for the Sigma backend tests: evaluate compiled rules on real DuckDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest
from sigma.rule import SigmaRule

from trailguard.sigma import compile_rule, records_to_table


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()


@pytest.fixture
def matches(con: duckdb.DuckDBPyConnection) -> Callable[[SigmaRule, list[dict]], list[str]]:
    """Compile ``rule``, load ``records`` and return the eventIDs the predicate selects."""

    def run(rule: SigmaRule, records: list[dict[str, Any]]) -> list[str]:
        for n, rec in enumerate(records):
            rec.setdefault("eventID", f"e{n}")
        records_to_table(con, records)
        pred = compile_rule(rule)
        rows = con.execute(f"SELECT eventID FROM events WHERE {pred} ORDER BY eventID").fetchall()
        return [r[0] for r in rows]

    return run
