"""Load a batch of CloudTrail records into the DuckDB table the Sigma rules query.

Two ways in, one table shape (``trailguard.scan.schema``):

* :meth:`EventLoader.load_files` - the fast path. DuckDB reads files itself with an explicit
  schema and ``records=true``: the engine's joined in-memory arrays of delivery-file records,
  JSON lines, JSON arrays, or whole delivery files (``{"Records": [...]}``, unnested); no
  Python touches a record.
* :meth:`EventLoader.load_records` - records decoded in Python (other formats, LookupEvents,
  files DuckDB refused) are written as JSON lines into an in-memory file and read the same way.

Columns no rule and no finding reads are not parsed at all (they are present, as NULL, so
every query still binds): parsing fewer JSON columns is the biggest single speed-up. With a
row filter (the detector's eventName guard), only rows a rule can match are stored; every
event is still counted and checked (see :meth:`EventLoader._create`).

DuckDB options, checked: ``ignore_errors`` stays off (it drops records silently; a batch
DuckDB refuses is bisected and the bad file decoded in Python, which reports each bad record);
``maximum_object_size`` is raised only for a whole delivery object above 16 MB (joined
arrays are read record by record; the limit made no measurable difference otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO, Any

import duckdb
import orjson

from trailguard.scan.memfile import memory_file
from trailguard.scan.schema import COLUMNS, TABLE

DEFAULT_MAX_OBJECT = 16 * 1024 * 1024  # DuckDB's default maximum_object_size
# Columns the Finding conversion reads, whatever the rules need.
FINDING_COLUMNS = frozenset(
    {
        "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
        "userAgent", "errorCode", "requestParameters", "additionalEventData", "eventID",
        "recipientAccountId",
    }
)


KEPT = "__tg_kept"  # one-row temp table: counts and the kept rows of a batch
# A row with none of the identifying fields, or an S3/SQS event notification: not CloudTrail.
FOREIGN_ROW = (
    '(("eventTime" IS NULL AND "eventSource" IS NULL AND "eventName" IS NULL '
    'AND "eventID" IS NULL AND "userIdentity" IS NULL) '
    "OR \"eventSource\" LIKE 'aws:%')"
)


# A record whose eventTime is missing or not a readable time: --since/--until cannot place it.
# Such records are kept (dropping them could hide an attack) and counted in ``untimed``.
UNTIMED = '(try_cast("eventTime" AS TIMESTAMPTZ) IS NULL)'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class EventLoader:
    """Creates the ``events`` table for one batch at a time on a DuckDB connection."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        columns: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        table: str = TABLE,
        accounts: Iterable[str] = (),
        regions: Iterable[str] = (),
        keep: str | None = None,
    ) -> None:
        """Prepare the SQL; ``columns`` limits which columns are parsed (None: all).

        ``since``/``until``/``accounts``/``regions`` keep only matching events; an event
        without the field in question is kept (nothing says it is outside the filter).
        ``keep`` (SQL over the table's columns, e.g. the detector's ``row_filter``) stores only
        the rows that satisfy it; every event is still counted and checked for foreign rows.
        """
        self.con = con
        self.table = table
        self.keep = keep
        self._foreign = 0
        self.untimed = 0  # records kept without a readable eventTime while a window is set
        self._windowed = since is not None or until is not None
        keep = set(COLUMNS) if columns is None else (set(columns) & set(COLUMNS))
        self.columns = [c for c in COLUMNS if c in keep]
        record_type = "STRUCT(" + ", ".join(f'"{c}" {COLUMNS[c]}' for c in self.columns) + ")"
        self._records_columns = "{'Records': " + _sql_str(record_type + "[]") + "}"
        self._flat_columns = (
            "{" + ", ".join(f"{_sql_str(c)}: {_sql_str(COLUMNS[c])}" for c in self.columns) + "}"
        )
        self._packed = ", ".join(f'"{c}" := "{c}"' for c in COLUMNS)
        self._projection = ", ".join(
            f'"{c}"' if c in keep else f'NULL::{COLUMNS[c]} AS "{c}"' for c in COLUMNS
        )
        where = []
        if since is not None:
            where.append(f'({UNTIMED} OR "eventTime" >= {_sql_str(_iso(since))})')
        if until is not None:
            where.append(f'({UNTIMED} OR "eventTime" <= {_sql_str(_iso(until))})')
        for column, values in (("recipientAccountId", accounts), ("awsRegion", regions)):
            values = sorted(set(values))
            if values:
                listed = ", ".join(_sql_str(v) for v in values)
                where.append(f'("{column}" IS NULL OR "{column}" IN ({listed}))')
        self._where = " WHERE " + " AND ".join(where) if where else ""

    def _create(self, source_sql: str) -> int:
        """Create the batch table from ``source_sql``; return the number of events read.

        With ``keep``, one aggregate pass counts every event and every foreign row and
        collects only the rows satisfying ``keep`` into a list, which becomes the table.
        Storing every row costs about 40% of the load (measured: 0.72 -> 0.45 CPU-s for 116k
        events, and ~150 MB less memory per batch), and most rows can match no rule.
        (A window-function variant buffered every row, and a FILTERed window aggregate ran
        13x slower.)
        """
        rows = f"SELECT {self._projection} FROM ({source_sql}){self._where}"
        if self.keep is None:
            self.con.execute(f"CREATE OR REPLACE TABLE {self.table} AS {rows}")
            untimed = f"count(*) FILTER (WHERE {UNTIMED})" if self._windowed else "0"
            row = self.con.execute(f"SELECT count(*), {untimed} FROM {self.table}").fetchall()
            self.untimed += int(row[0][1])
            self._foreign = -1
            return int(row[0][0])
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {KEPT} AS SELECT count(*) AS n, "
            f"sum(CASE WHEN {FOREIGN_ROW} THEN 1 ELSE 0 END) AS foreign_rows, "
            f"{f'count(*) FILTER (WHERE {UNTIMED})' if self._windowed else '0'} AS untimed, "
            f"list(struct_pack({self._packed})) FILTER (WHERE {self.keep}) AS kept "
            f"FROM ({rows})"
        )
        try:
            (n, foreign, untimed), = self.con.execute(
                f"SELECT n, coalesce(foreign_rows, 0), untimed FROM {KEPT}"
            ).fetchall()
            self.untimed += int(untimed)
            self.con.execute(
                f"CREATE OR REPLACE TABLE {self.table} AS "
                f"SELECT unnest(kept, max_depth := 2) FROM {KEPT}"
            )
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {KEPT}")
        self._foreign = int(foreign)
        return int(n)

    def load_files(
        self, paths: Sequence[str], layout: str, gzipped: bool, largest: int = 0
    ) -> int:
        """Load files DuckDB reads directly; return the number of events loaded.

        ``layout`` is ``records`` (S3 delivery format: one ``{"Records": [...]}`` object),
        ``lines`` (one record per line) or ``array`` (a JSON array of records).
        ``largest`` is the biggest file's decompressed size: DuckDB refuses a JSON object
        above ``maximum_object_size`` (16 MB by default) and a delivery file is one object.
        The limit is raised only as far as needed, since a large limit makes DuckDB slower.
        Raises ``duckdb.Error`` when DuckDB rejects any file of the batch: the caller then
        splits the batch to isolate the bad file.
        """
        files = "[" + ", ".join(_sql_str(p) for p in paths) + "]"
        compression = "gzip" if gzipped else "none"
        limit = ""
        if largest >= DEFAULT_MAX_OBJECT:
            limit = f", maximum_object_size={largest + 1024 * 1024}"
        if layout == "records":
            return self._create(
                f"SELECT unnest(Records, max_depth := 2) FROM read_json({files}, "
                f"columns={self._records_columns}, records=true, format='auto', "
                f"compression='{compression}'{limit})"
            )
        fmt = {"lines": "newline_delimited", "array": "array"}[layout]
        return self._create(
            f"SELECT * FROM read_json({files}, format='{fmt}', columns={self._flat_columns}, "
            f"records=true, compression='{compression}'{limit})"
        )

    def load_delivery_files(self, paths: Sequence[str], gzipped: bool, largest: int = 0) -> int:
        """Load S3 delivery-format files (see :meth:`load_files`)."""
        return self.load_files(paths, "records", gzipped, largest)

    def count_foreign_rows(self) -> int:
        """Rows of the batch that are not CloudTrail records.

        A row with none of the identifying fields, or an S3/SQS event notification
        (``eventSource`` ``aws:...``), means a file was not what its first bytes suggested.
        """
        if self._foreign >= 0:
            return self._foreign  # counted over every row while loading (see _create)
        row = self.con.execute(
            f"SELECT count(*) FROM {self.table} WHERE {FOREIGN_ROW}"
        ).fetchall()
        return int(row[0][0])

    def load_records(self, records: Sequence[dict[str, Any]]) -> int:
        """Load records already decoded in Python; return the number of events loaded.

        A record above DuckDB's 16 MB object limit (a huge policy document, say) raises the
        limit for this load only.
        """
        with memory_file("trailguard-records") as (path, fh):
            longest = _write_json_lines(fh, records)
            limit = ""
            if longest >= DEFAULT_MAX_OBJECT:
                limit = f", maximum_object_size={longest + 1024 * 1024}"
            return self._create(
                f"SELECT * FROM read_json({_sql_str(path)}, format='newline_delimited', "
                f"columns={self._flat_columns}, records=true, compression='none'{limit})"
            )

    def drop(self) -> None:
        """Drop the batch table (frees its memory before the next batch)."""
        self.con.execute(f"DROP TABLE IF EXISTS {self.table}")


def _dumps(rec: dict[str, Any]) -> bytes:
    """One record as JSON, whatever it holds: orjson refuses nesting deeper than 254 levels
    and integers beyond 64 bits (hostile input must not stop a scan)."""
    try:
        return orjson.dumps(rec)
    except TypeError:
        pass
    try:
        return json.dumps(rec, default=str).encode()
    except (RecursionError, ValueError):
        kept = {}
        for key, value in rec.items():
            try:
                orjson.dumps(value)
                kept[key] = value
            except TypeError:
                kept[key] = "<nested too deeply: left out>"
        return orjson.dumps(kept)


def _write_json_lines(fh: IO[bytes], records: Sequence[dict[str, Any]]) -> int:
    """Write ``records`` as JSON lines; return the longest line's length."""
    chunk: list[bytes] = []
    longest = 0
    for rec in records:
        line = _dumps(rec)
        longest = max(longest, len(line))
        chunk.append(line)
        if len(chunk) >= 4096:
            fh.write(b"\n".join(chunk) + b"\n")
            chunk = []
    if chunk:
        fh.write(b"\n".join(chunk) + b"\n")
    fh.flush()
    return longest


def _iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
