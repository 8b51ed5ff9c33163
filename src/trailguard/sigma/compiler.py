"""Compile a Sigma collection into what the :class:`~trailguard.sigma.detector.Detector` runs.

This is the only part of the detector that needs pySigma (and the backend and pipeline built
on it): it turns rule objects into plain data — one SQL predicate per detection rule, the
shared lower-case columns and the eventName guard (see detector.py for why), and a
:class:`~trailguard.sigma.correlation.CorrelationSpec` per correlation rule. A detector loaded
from the rule cache never imports this module.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationRule
from sigma.rule import SigmaDetections, SigmaLogSource, SigmaRule

from trailguard.sigma.backend import (
    CloudTrailDuckDBBackend,
    RuleCompileError,
    convert_rule,
    predicate_of_converted,
    sql_string,
)
from trailguard.sigma.correlation import SUPPORTED_TYPES, CorrelationSpec
from trailguard.sigma.detector import Guard
from trailguard.sigma.match import FilterUse
from trailguard.sigma.pipeline import UnknownFieldError, field_sql, resolve_field, rule_label
from trailguard.sigma.prefilter import required_values

# A field compared case-insensitively by at least this many rules is lowered once per row in a
# subquery (measured: 3x faster than lower() per rule with ~40 rules on eventName/eventSource).
SHARED_LOWER_MIN_RULES = 3
_PLAIN_COLUMN = re.compile(r'^"[A-Za-z0-9_]+"$')


@dataclass
class CompiledDetection:
    """The detection rules of a collection, compiled (see :func:`compile_detection`)."""

    rules: list[SigmaRule]
    predicates: list[str]
    outputs: list[bool]
    lowered: dict[str, str]
    guard: Guard | None


def compile_detection(rules: list[SigmaRule], errors: list[str]) -> CompiledDetection:
    """Compile detection rules to predicates over shared lower-case columns and a guard.

    Rules that cannot be compiled are left out and their messages appended to ``errors``.
    """
    compiled: list[SigmaRule] = []
    outputs: list[bool] = []
    # Pass 1: compile plainly, noting which fields each rule lowers.
    probe = CloudTrailDuckDBBackend()
    uses: list[set[str]] = []
    works: list[SigmaRule] = []
    for rule in rules:
        probe.lowered_used = {}
        try:
            _, work = convert_rule(rule, probe)
        except RuleCompileError as e:
            errors.append(str(e))
            continue
        compiled.append(rule)
        works.append(work)
        outputs.append(bool(getattr(rule, "_output", True)))
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
    lowered = {t: f"__tg_l{i}" for i, t in enumerate(shared)}
    # Pass 2: the predicates, reading the shared lower-case columns.
    backend = CloudTrailDuckDBBackend(lowered=lowered)
    return CompiledDetection(
        rules=compiled,
        predicates=[predicate_of_converted(work, backend) for work in works],
        outputs=outputs,
        lowered=lowered,
        guard=Guard(
            alias=lowered[guard[0]],
            column=guard[0],
            values=guard[1],
            rules=guard[2],
            in_list=", ".join(sql_string(v) for v in sorted(guard[1])),
        )
        if guard
        else None,
    )


def collection_rules(
    collection: SigmaCollection,
) -> tuple[list[SigmaRule], list[SigmaCorrelationRule]]:
    """The detection and the correlation rules of ``collection``, references resolved."""
    collection.resolve_rule_references()
    detection = [r for r in collection.rules if isinstance(r, SigmaRule)]
    correlation = [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]
    return detection, correlation


def extra_column_sql(paths: list[str]) -> dict[str, str]:
    """Sigma field path -> the SQL expression reading it (for correlation fields)."""
    return {path: field_sql(path) for path in paths}


def _ref_matches(reference: str, rule: SigmaRule) -> bool:
    return reference in {rule.name, str(rule.id) if rule.id else None}


def _path_for(
    rule: SigmaCorrelationRule, name: str, target: SigmaRule, aliases: dict[str, Any]
) -> str:
    path = name
    if name in aliases:
        mapped = [f for r, f in aliases[name].mapping.items() if _ref_matches(r.reference, target)]
        if not mapped:
            raise RuleCompileError(
                f"correlation rule {rule_label(rule)}: alias '{name}' has no field for "
                f"rule '{target.name or target.id}'"
            )
        path = mapped[0]
    try:
        resolve_field(path)
    except UnknownFieldError as e:
        raise RuleCompileError(f"correlation rule {rule_label(rule)}: {e}") from None
    return path


def correlation_spec(rule: SigmaCorrelationRule) -> tuple[CorrelationSpec, list[SigmaRule]]:
    """The plain description of correlation ``rule`` and the detection rules it references.

    Raises :class:`RuleCompileError` when the rule cannot be evaluated: unsupported type,
    boolean condition, several condition fields, value_count without a field, a reference
    that is not a detection rule of the collection, an alias or field that does not resolve.
    """
    ctype = str(rule.type)
    if ctype not in SUPPORTED_TYPES:
        raise RuleCompileError(
            f"correlation rule {rule_label(rule)}: type '{ctype}' is not supported "
            f"(supported: {', '.join(sorted(SUPPORTED_TYPES))})"
        )
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise RuleCompileError(
            f"correlation rule {rule_label(rule)}: extended (boolean) correlation "
            "conditions are not supported"
        )
    refs: list[SigmaRule] = []
    for ref in rule.rules or []:
        target = getattr(ref, "rule", None)
        if not isinstance(target, SigmaRule):
            raise RuleCompileError(
                f"correlation rule {rule_label(rule)}: reference '{ref.reference}' must name "
                "a detection rule in the same collection (chained correlations are not "
                "supported)"
            )
        refs.append(target)
    if not refs:
        raise RuleCompileError(f"correlation rule {rule_label(rule)}: no rules referenced")
    group_by: list[str] = list(rule.group_by or [])
    aliases = {a.alias: a for a in rule.aliases}
    fieldref = condition.fieldref
    if isinstance(fieldref, list):
        if len(fieldref) != 1:
            raise RuleCompileError(
                f"correlation rule {rule_label(rule)}: only one condition field is supported"
            )
        fieldref = fieldref[0]
    counted = ctype == "value_count"
    if counted and not fieldref:
        raise RuleCompileError(
            f"correlation rule {rule_label(rule)}: value_count needs condition.field"
        )
    group_paths: list[list[str]] = []
    value_path: list[str | None] = []
    for target in refs:
        group_paths.append([_path_for(rule, name, target, aliases) for name in group_by])
        value_path.append(
            _path_for(rule, fieldref, target, aliases) if counted and fieldref else None
        )
    spec = CorrelationSpec(
        title=str(rule.title),
        ctype=ctype,
        op=condition.op.name.lower(),
        count=condition.count,
        timespan=float(rule.timespan.seconds),
        group_by=group_by,
        ref_names=[str(t.name or t.title) for t in refs],
        group_paths=group_paths,
        value_path=value_path,
    )
    return spec, refs


@dataclass
class CompiledFilters:
    """Sigma filters compiled for the detector (see :func:`compile_filters`)."""

    uses: list[FilterUse]  # every filter, expired ones with applied=False
    predicates: list[str]  # one per applied filter: its condition (true: the event stays)
    owners: list[int]  # predicate index -> index in ``uses``
    rule_filters: list[tuple[int, ...]]  # detection rule index -> predicate indexes


def compile_filters(
    filters: list[Any], rules: list[SigmaRule], lowered: dict[str, str], today: date
) -> CompiledFilters:
    """Compile each filter's condition on its own, so that what it drops can be counted.

    pySigma applies a filter by rewriting a rule's condition to ``(rule) and (filter)``; the
    detector evaluates the rule and each filter's condition separately and drops a match when
    a filter's condition is not true, which selects exactly the same events. ``filters`` are
    :class:`~trailguard.detection.filters.FilterInfo`; those expired before ``today`` are kept
    in ``uses`` but not applied. Raises :class:`RuleCompileError` for a filter that cannot be
    compiled.
    """
    from trailguard.detection.filters import applies_to

    backend = CloudTrailDuckDBBackend(lowered=lowered)
    uses: list[FilterUse] = []
    predicates: list[str] = []
    owners: list[int] = []
    rule_filters: list[list[int]] = [[] for _ in rules]
    for info in filters:
        applied = not info.expired(today)
        uses.append(
            FilterUse(
                title=info.title,
                source=info.source,
                id=info.id,
                description=info.description,
                expires=info.expires.isoformat() if info.expires else None,
                rules=list(info.rules),
                applied=applied,
            )
        )
        if not applied:
            continue
        condition_rule = SigmaRule(
            title=f"filter {info.title}",
            logsource=SigmaLogSource(product="aws", service="cloudtrail"),
            detection=SigmaDetections(
                detections=copy.deepcopy(info.filter.filter.detections),
                condition=list(info.filter.filter.condition),
            ),
        )
        try:
            _, work = convert_rule(condition_rule, backend)
        except RuleCompileError as e:
            reason = str(e).split(": ", 1)[-1]
            raise RuleCompileError(f"{info.label}: {reason}") from None
        predicates.append(predicate_of_converted(work, backend))
        owners.append(len(uses) - 1)
        for i, rule in enumerate(rules):
            if applies_to(info, rule):
                rule_filters[i].append(len(predicates) - 1)
    return CompiledFilters(uses, predicates, owners, [tuple(f) for f in rule_filters])
