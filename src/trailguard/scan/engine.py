"""The scanning loop: inputs -> bounded batches in DuckDB -> Sigma rules -> grouped findings.

Memory stays flat: at most ``batch_files`` files (and ``batch_bytes`` of decompressed JSON)
or ``batch_records`` decoded records are in a batch; each batch's table is dropped after the
rules ran on it. Only grouped findings, correlation state (bounded by the detector) and, when
the loader keeps only rows a rule can match, up to ``pending_rows`` such rows outlive a batch.

A reader thread (:mod:`trailguard.scan.batches`) lists, opens and batches the inputs and
joins delivery files while this thread loads the previous batch and runs the rules. Per
input it decides (from its first bytes, never from configuration):

* a digest file: counted and skipped;
* S3 delivery files: the ``Records`` arrays of a batch are inflated with isal and joined
  into a few in-memory JSON arrays that DuckDB reads with the explicit schema (the fast
  path; S3 objects are streamed into memory first, never to disk);
* JSON lines or a JSON array of bare records: DuckDB reads the file itself. A batch holding
  rows that are not CloudTrail records (a guess from the first bytes gone wrong) is
  treated as a failed batch;
* anything else, or a delivery file DuckDB refused: the robust Python decoder
  (:mod:`trailguard.scan.decode`), whose records are loaded in batches too.

A batch DuckDB rejects is split in halves until the bad file is alone, so one bad file
never costs the others.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
from botocore.exceptions import BotoCoreError, ClientError

from trailguard.findings.model import Finding, Severity, SkippedInput
from trailguard.scan.batches import (
    BATCH_BYTES,
    BATCH_FILES,
    HAVE_MEMFD,
    Batch,
    Input,
    Joined,
    ListingError,
    Prepared,
    Reader,
    describe_error,
    join_arrays,
)
from trailguard.scan.convert import (
    FindingGroups,
    RuleMeta,
    finding_from_correlation,
    rule_meta,
)
from trailguard.scan.decode import DigestFile, InputError, decode_stream
from trailguard.scan.loader import FINDING_COLUMNS, EventLoader
from trailguard.scan.schema import COLUMNS, TABLE

log = logging.getLogger(__name__)

MAX_SKIPPED_LISTED = 500  # skipped inputs listed one by one in the report; the rest are counted
MAX_RECORD_PROBLEMS_PER_FILE = 3
PENDING = "__tg_pending"  # rows that can match, gathered over batches (see Scanner._detect)


@dataclass
class ScanStats:
    """The run's accounting, shown in the summary and written into the report."""

    inputs_seen: int = 0
    files_read: int = 0
    files_skipped: int = 0
    digests_skipped: int = 0
    records_skipped: int = 0
    events: int = 0
    batches: int = 0
    fallback_files: int = 0
    api_calls: int = 0
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None  # set when the scan finished: the report and summary agree
    skipped: list[SkippedInput] = field(default_factory=list)
    skipped_not_listed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def skip(self, source: str, reason: str, *, record: bool = False) -> None:
        """Record an input (or a record, when ``record``) that could not be scanned."""
        if record:
            self.records_skipped += 1
        else:
            self.files_skipped += 1
        self.reasons[_reason_kind(reason)] += 1
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append(SkippedInput(source=source, reason=reason))
        else:
            self.skipped_not_listed += 1

    @property
    def elapsed(self) -> float:
        """Seconds the scan took (so far, while it runs)."""
        return (self.ended or time.perf_counter()) - self.started

    @property
    def data_skipped(self) -> bool:
        """True when any file, object or record could not be scanned."""
        return bool(self.files_skipped or self.records_skipped)

    def as_dict(self) -> dict[str, int | float | str]:
        """Flat numbers for the report's ``stats``."""
        secs = self.elapsed
        out: dict[str, int | float | str] = {
            "files_read": self.files_read,
            "files_skipped": self.files_skipped,
            "digest_files_skipped": self.digests_skipped,
            "records_skipped": self.records_skipped,
            "events": self.events,
            "seconds": round(secs, 3),
            "events_per_second": round(self.events / secs) if secs > 0 else 0,
        }
        if self.fallback_files:
            out["files_decoded_in_python"] = self.fallback_files
        if self.api_calls:
            out["api_calls"] = self.api_calls
        if self.skipped_not_listed:
            out["skipped_not_listed"] = self.skipped_not_listed
        return out


def _reason_kind(reason: str) -> str:
    """A short category for the summary ("corrupt gzip", "not JSON", ...)."""
    text = reason.lower()
    for key, label in (
        ("gzip", "corrupt or truncated gzip"),
        ("not json", "not JSON"),
        ("not valid json", "invalid or truncated JSON"),
        ("no cloudtrail log files", "no log files"),
        ("no cloudtrail", "not CloudTrail"),
        ("not a cloudtrail", "not CloudTrail"),
        ("is not json", "invalid JSON line"),
        ("empty", "empty file"),
        ("no such", "not found"),
        ("no files match", "not found"),
        ("access", "access denied"),
    ):
        if key in text:
            return label
    return "other"


class _ForeignRows(Exception):
    """A fast-path batch held rows that are not CloudTrail records (see count_foreign_rows)."""


def needed_columns(detector: Any) -> set[str] | None:
    """Columns the rules and findings read; None means all (when it cannot be worked out).

    Reads the detector's own SQL (string literals removed) for column names, so it follows
    whatever the detector queries, plus the columns findings are built from.
    """
    query = getattr(detector, "query", None)
    if not callable(query):
        return None
    try:
        text = str(query(TABLE))
    except Exception:  # noqa: BLE001 - any doubt means: load every column
        return None
    text = re.sub(r"'(?:[^']|'')*'", "''", text)  # string literals name no columns
    cols = set(FINDING_COLUMNS)
    for name in COLUMNS:
        if re.search(rf"(?<![\w.$]){re.escape(name)}(?!\w)", text):
            cols.add(name)
    return cols


class Scanner:
    """Runs a detector over inputs or record streams, batch by batch, and groups findings."""

    def __init__(
        self,
        detector: Any,
        metas: dict[int, RuleMeta] | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        accounts: Iterable[str] = (),
        regions: Iterable[str] = (),
        batch_files: int = BATCH_FILES,
        batch_bytes: int = BATCH_BYTES,
        batch_records: int = 50_000,
        prefetch: int = 4,
        pending_rows: int = 20_000,
        threads: int | None = None,
        progress: Callable[[ScanStats], None] | None = None,
    ) -> None:
        """Set up DuckDB and the loader; ``metas`` maps ``id(rule)`` to its RuleMeta.

        ``pending_rows`` bounds the rows that can match gathered before the rules run on
        them (see :meth:`_detect`).
        """
        self.detector = detector
        self.metas = metas or {}
        self.con = duckdb.connect()
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        row_filter = getattr(detector, "row_filter", None)
        self.loader = EventLoader(
            self.con, needed_columns(detector), since, until, TABLE, accounts, regions,
            keep=row_filter() if callable(row_filter) else None,
        )
        self.batch_files = batch_files
        self.batch_bytes = batch_bytes
        self.batch_records = batch_records
        self.prefetch = max(1, prefetch)
        self.stats = ScanStats()
        self.groups = FindingGroups()
        self.progress = progress
        self._records: list[dict[str, Any]] = []
        self._records_from: set[str] = set()
        self.pending_rows = pending_rows
        self._pending = 0  # rows set aside in the PENDING table

    # -- inputs ---------------------------------------------------------------------------

    def scan_inputs(self, inputs: Iterable[Input] | Reader, source: str = "") -> None:
        """Scan files/objects; listing errors of ``inputs`` are reported against ``source``.

        A reader thread lists, opens and groups the inputs and inflates and joins each
        batch of delivery files (isal releases the GIL), while this thread loads the
        previous batch into DuckDB and runs the rules: DuckDB never waits for the next
        batch to be gathered. ``inputs`` may be a :class:`Reader` started earlier (for
        example while the rules were loading); it is stopped when the scan ends.
        """
        if isinstance(inputs, Reader):
            reader = inputs
        else:
            reader = Reader(
                inputs, source, batch_files=self.batch_files, batch_bytes=self.batch_bytes,
                prefetch=self.prefetch,
            )
        reader.start()
        try:
            for item in reader:
                if isinstance(item, ListingError):
                    self.stats.skip(item.source, item.reason)
                elif isinstance(item, Batch):
                    self._scan_batch(item)
                else:
                    self._scan_one(item)
                self.tick()
        finally:
            reader.stop()
        self.flush_records()

    def _scan_one(self, prep: Prepared) -> None:
        """Account for an input that is not part of a batch (error, digest, Python path)."""
        self.stats.inputs_seen += 1
        if prep.kind == "error":
            self.stats.skip(prep.inp.name, prep.reason)
        elif prep.kind == "digest":
            self.stats.digests_skipped += 1
        else:
            try:
                self._decode_python(prep)
            finally:
                prep.close()

    def _scan_batch(self, batch: Batch) -> None:
        """Load and scan a batch of fast-path files (joined by the reader thread, or not)."""
        self.stats.inputs_seen += len(batch.group)
        try:
            if batch.joined is not None:
                with batch.joined.stack:
                    self._load_joined(batch.joined)
            else:
                self._load_delivery(batch.group)
        finally:
            batch.release()

    def _load_joined(self, joined: Joined) -> None:
        """Account for a joined batch's rejects, then load and scan its arrays."""
        for prep, reason in joined.skipped:
            self.stats.skip(prep.inp.name, reason)
        for prep in joined.python:
            self._decode_python(prep)
        if joined.kept:
            self._load_delivery(joined.kept, joined.paths)

    def _load_delivery(self, group: list[Prepared], joined: list[str] | None = None) -> None:
        """Load a batch into DuckDB and scan it; ``joined`` are its already joined arrays.

        A batch DuckDB refuses is split in halves (each joined again) until the bad file is
        alone; that file goes to the Python decoder.
        """
        with ExitStack() as batch:
            if joined is not None:
                paths = joined
                layout, gzipped, largest = "array", False, 0
            elif group[0].layout == "records" and HAVE_MEMFD:
                rejoined = join_arrays(group)
                batch.enter_context(rejoined.stack)
                for prep, reason in rejoined.skipped:
                    self.stats.skip(prep.inp.name, reason)
                for prep in rejoined.python:
                    self._decode_python(prep)
                paths, group = rejoined.paths, rejoined.kept
                if not group:
                    return
                layout, gzipped, largest = "array", False, 0
            else:
                paths = [p.duck_path for p in group if p.duck_path]
                layout, gzipped = group[0].layout, group[0].gzipped
                # Only a delivery object read whole is one big JSON value; lines and array
                # elements are single records, within DuckDB's default object size.
                largest = max(p.size for p in group) if layout == "records" else 0
            try:
                n = self.loader.load_files(paths, layout, gzipped, largest)
                if self.loader.count_foreign_rows():
                    raise _ForeignRows("rows that are not CloudTrail records")
            except (duckdb.Error, _ForeignRows) as exc:
                failed: Exception | None = exc
            else:
                failed = None
        if failed is not None:
            if len(group) > 1:
                # Bisect: one bad file among n costs about 2*log2(n) loads, not n.
                half = len(group) // 2
                self._load_delivery(group[:half])
                self._load_delivery(group[half:])
                return
            log.debug("DuckDB refused %s: %s", group[0].inp.name, failed)
            self._decode_python(group[0])
            return
        self.stats.files_read += len(group)
        self._detect(n)

    # -- robust path ---------------------------------------------------------------------

    def _decode_python(self, prep: Prepared) -> None:
        name = prep.inp.name
        stream = prep.data
        if stream is None:
            self.stats.skip(name, "cannot read")
            return
        stream.seek(0)
        self.stats.fallback_files += 1
        problems = 0
        try:
            for chunk in decode_stream(name, stream):
                for problem in chunk.problems:
                    problems += 1
                    if problems <= MAX_RECORD_PROBLEMS_PER_FILE:
                        # shown from 1, as the line numbers in the reasons are
                        self.stats.skip(f"{name}#{problem.index + 1}", problem.reason,
                                        record=True)
                    else:
                        self.stats.records_skipped += 1
                if chunk.records:
                    self._records.extend(chunk.records)
                    self._records_from.add(name)
                    if len(self._records) >= self.batch_records:
                        self.flush_records()
        except DigestFile:
            self.stats.digests_skipped += 1
            return
        except InputError as exc:
            self.stats.skip(name, str(exc))
            return
        except (OSError, ClientError, BotoCoreError) as exc:
            self.stats.skip(name, describe_error(exc))
            return
        if problems > MAX_RECORD_PROBLEMS_PER_FILE:
            self.stats.skip(
                name,
                f"{problems - MAX_RECORD_PROBLEMS_PER_FILE} more records skipped in this file",
                record=True,
            )
            self.stats.records_skipped -= 1  # that entry is a note, not one more record
        self.stats.files_read += 1

    def add_records(self, records: Iterable[dict[str, Any]], source: str) -> None:
        """Queue already-unwrapped records (e.g. from LookupEvents) for the next batch."""
        for rec in records:
            self._records.append(rec)
            if len(self._records) >= self.batch_records:
                self._records_from.add(source)
                self.flush_records()
        if self._records:
            self._records_from.add(source)

    def flush_records(self) -> None:
        """Load and scan the queued Python records, at most ``batch_records`` at a time."""
        while self._records:
            records = self._records[: self.batch_records]
            del self._records[: self.batch_records]
            sources = self._records_from
            if not self._records:
                self._records_from = set()
            try:
                n = self.loader.load_records(records)
            except duckdb.Error as exc:
                where = ", ".join(sorted(sources)[:3]) + (" ..." if len(sources) > 3 else "")
                self.stats.records_skipped += len(records) - 1
                # DuckDB's message can quote record values: name the error class only.
                self.stats.skip(
                    where,
                    f"{len(records)} records could not be loaded ({type(exc).__name__})",
                    record=True,
                )
                continue
            self._detect(n)

    # -- detection ----------------------------------------------------------------------

    def _meta(self, rule: Any) -> RuleMeta:
        meta = self.metas.get(id(rule))
        if meta is None:
            meta = self.metas[id(rule)] = rule_meta(rule)
        return meta

    def _detect(self, loaded: int) -> None:
        """Run the rules on the batch just loaded, or set its rows aside for a later run.

        When the loader stores only rows a rule can match (``loader.keep``), a batch leaves
        few rows, and one detector run costs ~25 ms however few rows it sees (expression
        set-up for every rule): such rows are moved to a pending table and the rules run
        once ``pending_rows`` have gathered, or when the input ends.
        """
        self.stats.events += loaded
        self.stats.batches += 1
        if loaded and self.loader.keep is None:
            self._run_rules(TABLE)
        elif loaded:
            if not self._pending:
                self.con.execute(f"CREATE OR REPLACE TABLE {PENDING} AS FROM {TABLE}")
            else:
                self.con.execute(f"INSERT INTO {PENDING} FROM {TABLE}")
            ((count,),) = self.con.execute(f"SELECT count(*) FROM {PENDING}").fetchall()
            self._pending = int(count)
            if self._pending >= self.pending_rows:
                self._flush_pending()
        self.loader.drop()
        self.tick()

    def _flush_pending(self) -> None:
        """Run the rules on the rows set aside by :meth:`_detect`."""
        if self._pending:
            self._pending = 0
            self._run_rules(PENDING)
        self.con.execute(f"DROP TABLE IF EXISTS {PENDING}")

    def _run_rules(self, table: str) -> None:
        for match in self.detector.run(self.con, table):
            if match.record is not None:
                self.groups.add_record(self._meta(match.rule), match.record)

    def tick(self) -> None:
        if self.progress is not None:
            self.progress(self.stats)

    def finish(self) -> list[Finding]:
        """Flush what is queued, add correlation matches; return grouped findings."""
        self.flush_records()
        self._flush_pending()
        for match in self.detector.finish():
            self.groups.add(finding_from_correlation(self._meta(match.rule), match))
        findings = self.groups.findings()
        self.stats.ended = time.perf_counter()
        return findings

    def close(self) -> None:
        """Release the DuckDB connection."""
        self.con.close()


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings (groups) per severity, most severe first."""
    counts = Counter(f.severity for f in findings)
    return {s.value: counts.get(s, 0) for s in reversed(list(Severity))}
