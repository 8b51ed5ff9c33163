"""Evaluate a Sigma rule collection over the ``events`` table in one pass, with correlations.

``Detector.run`` issues a single SELECT per batch. For the rows that can match, one column lists
the indexes of the rules that matched, and the row comes back as JSON (``to_json``) for the
Match. How the one query stays cheap (each step measured with bench/bench_detector.py):

* plain columns that many rules compare case-insensitively (eventName, eventSource) are lowered
  once per row in a subquery, instead of once per rule;
* rules that can only match a few values of such a column (nearly every CloudTrail rule pins
  eventName) sit behind one ``lower(eventName) IN (...)`` guard, so most rows are rejected by a
  single hash lookup and the rules themselves run only on the rest;
* ``OFFSET 0`` fences stop DuckDB's filter pushdown from inlining ``lower(...)`` back into every
  comparison.

Correlation rules keep only what they need from matches of the rules they reference (group-by
values, time, event id), across batches; ``Detector.finish`` evaluates them after the last batch.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from trailguard.scan.schema import TABLE
from trailguard.sigma.backend import (
    CloudTrailDuckDBBackend,
    RuleCompileError,
    convert_rule,
    predicate_of_converted,
    sql_string,
)
from trailguard.sigma.correlation import DEFAULT_LATENESS, CorrelationTracker
from trailguard.sigma.pipeline import field_sql
from trailguard.sigma.prefilter import required_values
from trailguard.sigma.records import json_to_record

log = logging.getLogger(__name__)

FETCH_ROWS = 10_000
# A field compared case-insensitively by at least this many rules is lowered once per row in a
# subquery (measured: 3x faster than lower() per rule with ~40 rules on eventName/eventSource).
SHARED_LOWER_MIN_RULES = 3
_PLAIN_COLUMN = re.compile(r'^"[A-Za-z0-9_]+"$')


@dataclass
class Match:
    """A rule that fired: on one record (detection rule) or on a group of records (correlation)."""

    rule: SigmaRule | SigmaCorrelationRule
    record: dict[str, Any] | None = None
    group: dict[str, Any] = field(default_factory=dict)
    count: int = 1
    first_time: str | None = None
    last_time: str | None = None
    event_ids: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # correlation: referenced rules that fired

    @property
    def is_correlation(self) -> bool:
        """True for a correlation match (no single record)."""
        return isinstance(self.rule, SigmaCorrelationRule)

    @property
    def rule_id(self) -> str:
        """The rule's id, or its name / title when it has none."""
        return str(self.rule.id or self.rule.name or self.rule.title)

    @property
    def title(self) -> str:
        """The rule's title."""
        return str(self.rule.title)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Detector:
    """All rules of a collection, compiled once, evaluated batch after batch."""

    def __init__(
        self,
        collection: SigmaCollection,
        max_correlation_events: int = 100_000,
        correlation_lateness: float = DEFAULT_LATENESS,
    ) -> None:
        """Compile every rule of ``collection`` (detection and correlation rules).

        ``max_correlation_events`` bounds the events kept per correlation rule;
        ``correlation_lateness`` (seconds) is how much older than the newest event seen an
        event may still arrive (see :meth:`CorrelationTracker.compact`). Raises
        :class:`RuleCompileError` listing every rule that cannot be compiled.
        """
        collection.resolve_rule_references()
        self.rules: list[SigmaRule] = []
        self.predicates: list[str] = []
        self.outputs: list[bool] = []
        errors: list[str] = []
        # Pass 1: compile plainly, noting which fields each rule lowers.
        probe = CloudTrailDuckDBBackend()
        uses: list[set[str]] = []
        works: list[SigmaRule] = []
        for rule in collection.rules:
            if isinstance(rule, SigmaRule):
                probe.lowered_used = {}
                try:
                    _, work = convert_rule(rule, probe)
                except RuleCompileError as e:
                    errors.append(str(e))
                    continue
                self.rules.append(rule)
                works.append(work)
                self.outputs.append(bool(getattr(rule, "_output", True)))
                uses.append(set(probe.lowered_used))
        # Lowering a column once per row pays off for plain columns many rules compare (cheap
        # to lower for every row); never for JSON paths, which would parse JSON on every row.
        counts: dict[str, int] = {}
        for used in uses:
            for text in used:
                counts[text] = counts.get(text, 0) + 1
        candidates = [
            t for t, n in counts.items() if n >= SHARED_LOWER_MIN_RULES and _PLAIN_COLUMN.match(t)
        ]
        # Guard: the candidate that most rules pin to a few values (usually eventName).
        guard: tuple[str, set[str], list[int]] | None = None
        for text in candidates:
            need = [required_values(work, text) for work in works]
            guarded = [i for i, vals in enumerate(need) if vals]
            if len(guarded) < SHARED_LOWER_MIN_RULES:
                continue
            values: set[str] = set().union(*(need[i] for i in guarded))  # type: ignore[arg-type]
            # most rules guarded first, then the more specific field (more distinct values)
            if guard is None or (len(guarded), len(values)) > (len(guard[2]), len(guard[1])):
                guard = (text, values, guarded)
        # Rules behind the guard run on few rows: only unguarded rules need shared columns.
        inside = set(guard[2]) if guard else set()
        shared = [guard[0]] if guard else []
        for text in candidates:
            n = sum(1 for i, used in enumerate(uses) if i not in inside and text in used)
            if n >= SHARED_LOWER_MIN_RULES and text not in shared:
                shared.append(text)
        self.lowered: dict[str, str] = {t: f"__tg_l{i}" for i, t in enumerate(shared)}
        self.guard: tuple[str, set[str], list[int]] | None = (
            (self.lowered[guard[0]], guard[1], guard[2]) if guard else None
        )
        # Pass 2: the predicates, reading the shared lower-case columns.
        backend = CloudTrailDuckDBBackend(lowered=self.lowered)
        self.predicates = [predicate_of_converted(work, backend) for work in works]
        index = {id(r): i for i, r in enumerate(self.rules)}
        self.trackers: list[CorrelationTracker] = []
        for rule in collection.rules:
            if isinstance(rule, SigmaCorrelationRule):
                try:
                    self.trackers.append(
                        CorrelationTracker(rule, max_correlation_events, correlation_lateness)
                    )
                except RuleCompileError as e:
                    errors.append(str(e))
        if errors:
            raise RuleCompileError("; ".join(errors))
        # For each detection rule: [(tracker, ref_index)] it feeds.
        self.feeds: list[list[tuple[CorrelationTracker, int]]] = [[] for _ in self.rules]
        extra_paths: dict[str, str] = {}
        for tracker in self.trackers:
            for ref_index, target in enumerate(tracker.refs):
                if id(target) not in index:
                    raise RuleCompileError(
                        f"correlation rule '{tracker.rule.title}' references a rule that failed "
                        "to compile"
                    )
                self.feeds[index[id(target)]].append((tracker, ref_index))
                for path in tracker.paths_for(ref_index):
                    extra_paths.setdefault(path, f"__tg_f{len(extra_paths)}")
        self.extra_paths = extra_paths

    def query(self, table: str = TABLE) -> str:
        """The single SELECT that finds all matching rows of ``table`` and which rules matched.

        Columns: ``__tg_rules`` (comma-separated rule indexes), ``__tg_time``, ``__tg_id``, one
        column per field the correlation rules need, and ``__tg_record`` (the row as JSON).
        """
        if not self.predicates:
            return ""
        flags = ", ".join(f"CASE WHEN {p} THEN '{i}' END" for i, p in enumerate(self.predicates))
        extra = "".join(
            f", {field_sql(path)} AS {alias}" for path, alias in self.extra_paths.items()
        )
        name = _quote_ident(table)
        source = f"{name} AS __tg_row"
        if self.lowered:
            lowered = ", ".join(f"lower({t}) AS {a}" for t, a in self.lowered.items())
            # OFFSET 0 keeps DuckDB from pushing the rule filter below this projection, which
            # would inline lower(...) once per comparison again (measured 4x slower).
            source = f"(SELECT {lowered}, * FROM {name} OFFSET 0) AS __tg_row"
        select = (
            f"SELECT concat_ws(',', {flags}) AS __tg_rules, "
            f'"eventTime" AS __tg_time, "eventID" AS __tg_id{extra}, '
            f"to_json(__tg_row) AS __tg_record FROM {source}"
        )
        if self.guard is None:
            return f"{select} WHERE " + " OR ".join(f"({p})" for p in self.predicates)
        # With a guard, the guarded predicates appear once (in the flags), evaluated only on
        # rows that pass the guard: half the SQL to plan for every batch. The second fence
        # keeps the outer filter from being inlined back into the inner WHERE.
        alias, values, guarded = self.guard
        inside = set(guarded)
        in_list = ", ".join(sql_string(v) for v in sorted(values))
        where = " OR ".join(
            [f"{alias} IN ({in_list})"]
            + [f"({p})" for i, p in enumerate(self.predicates) if i not in inside]
        )
        return f"SELECT * FROM ({select} WHERE {where} OFFSET 0) WHERE __tg_rules <> ''"

    def row_filter(self) -> str | None:
        """A condition on the table's own columns that holds for every row any rule can match.

        A loader may keep only such rows (most CloudTrail rows fail the eventName guard), which
        is much cheaper than storing every row. None when no cheap condition covers all rules
        (every row must be kept); ``false`` when there are no detection rules.
        """
        if not self.predicates:
            return "false"
        if self.guard is None:
            return None
        alias, values, guarded = self.guard
        if len(set(guarded)) != len(self.predicates):
            return None
        column = next(text for text, name in self.lowered.items() if name == alias)
        in_list = ", ".join(sql_string(v) for v in sorted(values))
        return f"lower({column}) IN ({in_list})"

    def run(self, con: duckdb.DuckDBPyConnection, table: str = TABLE) -> list[Match]:
        """Evaluate every rule over the rows now in ``table``; return detection-rule matches.

        Matches of rules referenced by correlation rules also feed the correlation state, which
        persists until :meth:`finish`.
        """
        sql = self.query(table)
        if not sql:
            return []
        # Row order does not matter here; without it DuckDB runs the fenced query on all threads.
        (keep_order,) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
        con.execute("SET preserve_insertion_order = false")
        try:
            matches = self._collect(con.execute(sql))
        finally:
            con.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")
        return matches

    def _collect(self, cur: duckdb.DuckDBPyConnection) -> list[Match]:
        path_pos = {path: 3 + k for k, path in enumerate(self.extra_paths)}
        drop = tuple(self.lowered.values())
        matches: list[Match] = []
        while True:
            rows = cur.fetchmany(FETCH_ROWS)
            if not rows:
                break
            for row in rows:
                ids = [int(x) for x in row[0].split(",")] if row[0] else []
                record: dict[str, Any] | None = None
                for i in ids:
                    if self.outputs[i]:
                        if record is None:
                            record = json_to_record(row[-1], drop)
                        matches.append(
                            Match(
                                rule=self.rules[i],
                                record=record,
                                first_time=row[1],
                                last_time=row[1],
                                event_ids=[row[2]] if row[2] else [],
                            )
                        )
                    for tracker, ref_index in self.feeds[i]:
                        values = {p: row[path_pos[p]] for p in tracker.paths_for(ref_index)}
                        tracker.add(ref_index, values, row[1], row[2])
        return matches

    def finish(self) -> list[Match]:
        """Correlation matches over everything seen by :meth:`run`; call after the last batch.

        The correlation state is released: a second call returns no matches.
        """
        out: list[Match] = []
        for tracker in self.trackers:
            if tracker.dropped:
                log.warning(
                    "correlation rule '%s': %d events not kept (no valid eventTime, or over the "
                    "memory bound of %d events within the lateness window)",
                    tracker.rule.title,
                    tracker.dropped,
                    tracker.max_events,
                )
            for w in tracker.finish():
                out.append(
                    Match(
                        rule=tracker.rule,
                        group=w.group,
                        count=w.count,
                        first_time=w.first_time,
                        last_time=w.last_time,
                        event_ids=w.event_ids,
                        rules=w.rules,
                    )
                )
        return out
