"""Run every rule's embedded examples through the real engine (DuckDB via trailguard.sigma).

Detection-rule examples are loaded into one ``events`` table (with the scan schema, exactly as
log files are) and each rule's SQL predicate is evaluated on it; a row's ``rowid`` says which
example it came from. Correlation examples are sequences: each runs on its own table through
the :class:`~trailguard.sigma.Detector`, with the rules the correlation references.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError

from trailguard.detection.catalog import Catalog, Example, RuleInfo
from trailguard.sigma import Detector, compile_rule, records_to_table


@dataclass(frozen=True)
class ExampleResult:
    """The outcome of one example: did the rule fire, and was that what the example expects."""

    rule: RuleInfo
    example: Example
    fired: bool
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the rule compiled and fired exactly when the example says it should."""
        return self.error is None and self.fired == self.example.match


def _detection_results(infos: list[RuleInfo]) -> list[ExampleResult]:
    records: list[dict] = []
    owners: list[tuple[RuleInfo, Example, range]] = []
    for info in infos:
        for example in info.examples:
            start = len(records)
            records.extend(example.events)
            owners.append((info, example, range(start, len(records))))
    con = duckdb.connect()
    try:
        records_to_table(con, records)
        # rowid must be the record's position; check it rather than trust it.
        loaded = [
            eid for (eid,) in con.execute("SELECT eventID FROM events ORDER BY rowid").fetchall()
        ]
        expected = [None if r.get("eventID") is None else str(r["eventID"]) for r in records]
        if loaded != expected:
            raise RuntimeError("example records were not loaded in order; cannot attribute rows")
        results: list[ExampleResult] = []
        for info in infos:
            mine = [(ex, rows) for (i, ex, rows) in owners if i is info]
            try:
                predicate = compile_rule(info.rule)  # type: ignore[arg-type]
                hit = {
                    r
                    for (r,) in con.execute(
                        f"SELECT rowid FROM events WHERE {predicate}"
                    ).fetchall()
                }
            except (SigmaError, duckdb.Error) as e:
                results.extend(ExampleResult(info, ex, False, str(e)) for ex, _ in mine)
                continue
            for ex, rows in mine:
                results.append(ExampleResult(info, ex, any(r in hit for r in rows)))
        return results
    finally:
        con.close()


def _correlation_results(info: RuleInfo) -> list[ExampleResult]:
    rule = info.rule
    assert isinstance(rule, SigmaCorrelationRule)
    results: list[ExampleResult] = []
    for example in info.examples:
        referenced = [ref.rule for ref in rule.rules]
        # Copies: resolving references again must not touch the catalog's rule objects.
        *refs, corr = copy.deepcopy([*referenced, rule])
        con = duckdb.connect()
        try:
            records_to_table(con, example.events)
            detector = Detector(SigmaCollection([*refs, corr]))
            detector.run(con)
            fired = any(m.rule is corr for m in detector.finish())
            results.append(ExampleResult(info, example, fired))
        except (SigmaError, duckdb.Error) as e:
            results.append(ExampleResult(info, example, False, str(e)))
        finally:
            con.close()
    return results


def run_examples(catalog: Catalog, rule_ids: Iterable[str] | None = None) -> list[ExampleResult]:
    """Evaluate the examples of every rule (or of ``rule_ids``) and return one result each."""
    wanted = set(rule_ids) if rule_ids is not None else None
    infos = [i for i in catalog.rules if wanted is None or i.id in wanted]
    detections = [i for i in infos if i.kind != "correlation"]
    results = _detection_results(detections)
    for info in infos:
        if info.kind == "correlation":
            results.extend(_correlation_results(info))
    return results
