"""Which values of a field a rule can possibly match: the Detector's cheap pre-filter.

Most CloudTrail rules pin ``eventName`` (and ``eventSource``) to a few values. If every way a
rule can match requires ``lower(eventName)`` to be in a set S, then the OR of all such rules can
be guarded by one hash lookup, ``lower(eventName) IN (S1 | S2 | ...)``, instead of comparing
every row against every rule. The analysis works on the rule's parsed Sigma condition (fields
already mapped to SQL by the pipeline) and only ever over-approximates: a rule it cannot
reason about is simply left unguarded.
"""

from __future__ import annotations

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
)
from sigma.rule import SigmaRule
from sigma.types import SigmaExpansion, SigmaString


def _values(node: object, field: str) -> set[str] | None:
    """Lower-case values ``field`` must take for ``node`` to hold, or None if unconstrained."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if node.field != field:
            return None
        value = node.value
        if isinstance(value, SigmaExpansion):
            parts = [
                _values(ConditionFieldEqualsValueExpression(field, v), field) for v in value.values
            ]
            if any(p is None for p in parts):
                return None
            return set().union(*parts)  # type: ignore[arg-type]
        if isinstance(value, SigmaString) and not value.contains_special():
            if value.contains_placeholder():
                return None
            plain = value.convert(escape_char=None, wildcard_multi=None, wildcard_single=None)
            return {plain.lower()} if plain.isascii() else None
        return None
    if isinstance(node, ConditionAND):
        best: set[str] | None = None
        for arg in node.args:
            vals = _values(arg, field)
            if vals is not None:
                best = vals if best is None else best & vals
        return best
    if isinstance(node, ConditionOR):
        out: set[str] = set()
        for arg in node.args:
            vals = _values(arg, field)
            if vals is None:
                return None
            out |= vals
        return out
    if isinstance(node, ConditionNOT):
        return None
    return None


def required_values(converted: SigmaRule, field: str) -> set[str] | None:
    """Lower-case values of SQL field ``field`` without which the converted rule cannot match.

    ``converted`` is the rule copy returned by :func:`trailguard.sigma.backend.convert_rule`.
    None means the rule can match whatever the field holds.
    """
    out: set[str] = set()
    for cond in converted.detection.parsed_condition:
        vals = _values(cond.parsed, field)
        if vals is None:
            return None
        out |= vals
    return out
