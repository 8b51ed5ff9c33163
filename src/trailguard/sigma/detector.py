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

import copy
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from trailguard.scan.schema import TABLE
from trailguard.sigma.correlation import DEFAULT_LATENESS, CorrelationTracker
from trailguard.sigma.match import FilterUse, Match, RuleRef
from trailguard.sigma.records import json_to_record

if TYPE_CHECKING:
    import duckdb
    from sigma.collection import SigmaCollection

__all__ = ["FETCH_ROWS", "Detector", "FilterUse", "Guard", "Match", "RuleRef"]

log = logging.getLogger(__name__)

FETCH_ROWS = 10_000


@dataclass
class Guard:
    """``lower(column) IN (values)`` that every rule of ``rules`` (indexes) needs to match.

    ``alias`` is the shared lower-case column holding ``lower(column)``; ``in_list`` is the
    values as SQL string literals, ready to go inside ``IN (...)``.
    """

    alias: str
    column: str
    values: set[str]
    rules: list[int]
    in_list: str


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Detector:
    """All rules of a collection, compiled once, evaluated batch after batch.

    Compiling needs pySigma (:mod:`trailguard.sigma.compiler`, imported only then); what runs
    afterwards is plain data: SQL text, indexes and correlation trackers. :meth:`detached`
    gives a copy holding no pySigma object, which the rule cache stores.
    """

    rules: list[Any]  # pySigma rules, or RuleRefs in a detached copy
    predicates: list[str]
    outputs: list[bool]
    lowered: dict[str, str]
    guard: Guard | None
    trackers: list[CorrelationTracker]
    feeds: list[list[tuple[CorrelationTracker, int]]]
    extra_paths: dict[str, str]
    extra_sql: dict[str, str]
    filters: list[FilterUse]  # every Sigma filter given, with the events each one dropped
    filter_predicates: list[str]  # one per applied filter
    filter_owners: list[int]  # filter predicate index -> index in ``filters``
    rule_filters: list[tuple[int, ...]]  # detection rule index -> filter predicate indexes
    suppressed: int  # rule matches dropped by filters
    duplicates: int  # matching rows whose eventID was already seen (overlapping inputs)

    def __init__(
        self,
        collection: SigmaCollection,
        max_correlation_events: int = 100_000,
        correlation_lateness: float = DEFAULT_LATENESS,
        filters: Sequence[Any] = (),
        today: date | None = None,
    ) -> None:
        """Compile every rule of ``collection`` (detection and correlation rules).

        ``max_correlation_events`` bounds the events kept per correlation rule;
        ``correlation_lateness`` (seconds) is how much older than the newest event seen an
        event may still arrive (see :meth:`CorrelationTracker.compact`). ``filters`` are Sigma
        filters (:class:`~trailguard.detection.filters.FilterInfo`, checked against the rules):
        a match they drop is counted but neither reported nor fed to correlation rules, as
        when pySigma applies the filter to the rule; one whose ``expires`` day is before
        ``today`` (default: today in UTC) is not applied. Raises :class:`RuleCompileError`
        listing every rule or filter that cannot be compiled.
        """
        from trailguard.sigma.backend import RuleCompileError
        from trailguard.sigma.compiler import (
            collection_rules,
            compile_detection,
            compile_filters,
            correlation_spec,
            extra_column_sql,
        )

        errors: list[str] = []
        detection, correlation = collection_rules(collection)
        compiled = compile_detection(detection, errors)
        self.rules = compiled.rules
        self.predicates = compiled.predicates
        self.outputs = compiled.outputs
        self.lowered = compiled.lowered
        self.guard = compiled.guard
        try:
            tuned = compile_filters(list(filters), self.rules, self.lowered,
                                    today or datetime.now(UTC).date())
        except RuleCompileError as e:
            errors.append(str(e))
            tuned = None
        self.filters = tuned.uses if tuned else []
        self.filter_predicates = tuned.predicates if tuned else []
        self.filter_owners = tuned.owners if tuned else []
        self.rule_filters = tuned.rule_filters if tuned else [() for _ in self.rules]
        self.suppressed = 0
        self.duplicates = 0
        self._seen: set[tuple[str, str, str]] = set()  # matching rows seen (id, time, rules)
        index = {id(r): i for i, r in enumerate(self.rules)}
        self.trackers = []
        targets: list[list[Any]] = []
        for rule in correlation:
            try:
                spec, refs = correlation_spec(rule)
            except RuleCompileError as e:
                errors.append(str(e))
                continue
            self.trackers.append(
                CorrelationTracker(rule, spec, max_correlation_events, correlation_lateness)
            )
            targets.append(refs)
        if errors:
            raise RuleCompileError("; ".join(errors))
        # For each detection rule: [(tracker, ref_index)] it feeds.
        self.feeds = [[] for _ in self.rules]
        extra_paths: dict[str, str] = {}
        for tracker, refs in zip(self.trackers, targets, strict=True):
            for ref_index, target in enumerate(refs):
                if id(target) not in index:
                    raise RuleCompileError(
                        f"correlation rule '{tracker.title}' references a rule that failed "
                        "to compile"
                    )
                self.feeds[index[id(target)]].append((tracker, ref_index))
                for path in tracker.paths_for(ref_index):
                    extra_paths.setdefault(path, f"__tg_f{len(extra_paths)}")
        self.extra_paths = extra_paths
        self.extra_sql = extra_column_sql(list(extra_paths))

    def detached(self) -> Detector:
        """A copy that has seen no events and names its rules by :class:`RuleRef`.

        It holds no pySigma object, so it pickles (and unpickles) without pySigma; it finds
        exactly what this detector finds. Its ``rules`` and trackers' ``rule`` are the
        RuleRefs, in the same order as here.
        """
        twin = copy.copy(self)
        twin.rules = [RuleRef.of(r) for r in self.rules]
        trackers = {id(t): t.detached(RuleRef.of(t.rule)) for t in self.trackers}
        twin.trackers = [trackers[id(t)] for t in self.trackers]
        twin.feeds = [[(trackers[id(t)], k) for t, k in feed] for feed in self.feeds]
        twin.filters = [dataclasses.replace(f, events=0) for f in self.filters]
        twin.suppressed = twin.duplicates = 0
        twin._seen = set()
        return twin

    def query(self, table: str = TABLE) -> str:
        """The single SELECT that finds all matching rows of ``table`` and which rules matched.

        Columns: ``__tg_rules`` (comma-separated rule indexes), ``__tg_time``, ``__tg_id``, one
        column per field the correlation rules need, with filters ``__tg_drop`` (the indexes of
        the filters whose condition is not true: they drop the row's matches of their rules),
        and ``__tg_record`` (the row as JSON).
        """
        if not self.predicates:
            return ""
        flags = ", ".join(f"CASE WHEN {p} THEN '{i}' END" for i, p in enumerate(self.predicates))
        extra = "".join(
            f", {self.extra_sql[path]} AS {alias}" for path, alias in self.extra_paths.items()
        )
        if self.filter_predicates:
            drops = ", ".join(f"CASE WHEN NOT coalesce({p}, false) THEN '{j}' END"
                              for j, p in enumerate(self.filter_predicates))
            extra += f", concat_ws(',', {drops}) AS __tg_drop"
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
        inside = set(self.guard.rules)
        where = " OR ".join(
            [f"{self.guard.alias} IN ({self.guard.in_list})"]
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
        if len(set(self.guard.rules)) != len(self.predicates):
            return None
        return f"lower({self.guard.column}) IN ({self.guard.in_list})"

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
                if row[2]:
                    # The same event twice (an organization trail and an account trail, a
                    # file named twice, a redelivered message) is one event: same eventID,
                    # time and matching rules.
                    seen = (row[2], row[1], row[0])
                    if seen in self._seen:
                        self.duplicates += 1
                        continue
                    self._seen.add(seen)
                ids = [int(x) for x in row[0].split(",")] if row[0] else []
                record: dict[str, Any] | None = None
                drops = row[-2] if self.filter_predicates else None
                for i in ids:
                    if drops and self._dropped(i, drops):
                        continue
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

    def _dropped(self, rule: int, drops: str) -> bool:
        """True (and counted) when a filter of ``rule`` is among ``drops`` ("0,2")."""
        hit = [j for j in self.rule_filters[rule] if str(j) in drops.split(",")]
        for j in hit:
            self.filters[self.filter_owners[j]].events += 1
        if hit:
            self.suppressed += 1
        return bool(hit)

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
                    tracker.title,
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
                        is_correlation=True,
                        actors=w.actors,
                        actor_count=w.actor_count,
                        accounts=w.accounts,
                        paths=w.paths,
                        values=w.values,
                        value_count=w.value_count,
                        value_path=w.value_path,
                    )
                )
        return out
