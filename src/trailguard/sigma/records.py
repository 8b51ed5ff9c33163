"""Load Python CloudTrail records into DuckDB with the explicit scan schema, and read rows back."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import duckdb
import orjson

from trailguard.scan.schema import COLUMNS, STRUCT_COLUMNS, TABLE


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def columns_literal() -> str:
    """The ``columns=`` struct literal for ``read_json`` built from scan/schema.py."""
    return "{" + ", ".join(f"'{name}': '{typ}'" for name, typ in COLUMNS.items()) + "}"


def records_to_table(
    con: duckdb.DuckDBPyConnection, records: list[dict[str, Any]], table: str = TABLE
) -> None:
    """Replace ``table`` with the given CloudTrail records, read with the explicit schema.

    Records go through NDJSON and ``read_json(columns=..., records=true)``, exactly the path the
    file readers take, so a rule's example events are typed as real logs are. Unknown keys are
    ignored; missing keys are NULL.
    """
    name = _quote_ident(table)
    if not records:
        cols = ", ".join(f"{_quote_ident(c)} {t}" for c, t in COLUMNS.items())
        con.execute(f"CREATE OR REPLACE TABLE {name} ({cols})")
        return
    fd, path = tempfile.mkstemp(prefix="trailguard-records-", suffix=".ndjson")
    try:
        with os.fdopen(fd, "wb") as fh:
            for rec in records:
                fh.write(orjson.dumps(rec))
                fh.write(b"\n")
        con.execute(
            f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_json("
            f"'{path.replace(chr(39), chr(39) * 2)}', columns={columns_literal()}, "
            "format='newline_delimited', records=true)"
        )
    finally:
        os.unlink(path)


def _strip_nulls(value: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (_strip_nulls(v) if type(v) is dict else v) for k, v in value.items() if v is not None
    }


def json_to_record(text: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row serialized by DuckDB ``to_json`` -> CloudTrail-shaped dict.

    NULL columns and NULL members of STRUCT columns (absent in the original record) are left
    out; JSON columns are kept exactly as parsed. Keys in ``drop`` (helper columns) are removed.
    """
    try:
        row = orjson.loads(text)
    except orjson.JSONDecodeError:  # nested deeper than orjson's limit (hostile input)
        row = orjson.loads(flatten_deep(text))
    rec: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or key in drop:
            continue
        rec[key] = _strip_nulls(value) if key in STRUCT_COLUMNS and type(value) is dict else value
    return rec


DEEP_PLACEHOLDER = '"<nested too deeply: left out>"'


def flatten_deep(text: str, limit: int = 256) -> str:
    """``text`` (JSON) with every object or array nested deeper than ``limit`` replaced by a
    placeholder string, so that a hostile record still loads and the rest of it is seen.

    Only the rare failure path calls this: a plain scan over the characters, tracking strings.
    """
    out: list[str] = []
    depth = 0
    skip_from = -1  # depth at which the part being left out started
    in_string = escaped = False
    for ch in text:
        if in_string:
            if skip_from < 0:
                out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
            if skip_from < 0:
                out.append(ch)
            continue
        if ch in "{[":
            depth += 1
            if skip_from < 0 and depth > limit:
                skip_from = depth
                out.append(DEEP_PLACEHOLDER)
                continue
        elif ch in "}]":
            depth -= 1
            if skip_from >= 0 and depth < skip_from:
                skip_from = -1
                continue
        if skip_from < 0:
            out.append(ch)
    return "".join(out)
