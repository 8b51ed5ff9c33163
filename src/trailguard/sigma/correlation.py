"""Sigma correlation rules evaluated over matches of the rules they reference.

The detector hands every match of a referenced rule to the correlation's tracker, which keeps only
what the correlation needs (group-by values, time, event id, counted value) and evaluates the
windows when the scan is finished. Memory is bounded by ``max_events`` per correlation rule: when
it is reached, windows that closed more than ``lateness`` before the newest event are evaluated
and forgotten (:meth:`CorrelationTracker.compact`); what still does not fit is dropped and
counted (``dropped``).

Supported types: ``event_count``, ``value_count``, ``temporal``, ``temporal_ordered``.
Window semantics: for ``gt``/``gte`` conditions (and the temporal types) a window opens at every
event and spans ``timespan``; the first window that satisfies the condition is reported with all
events inside it, and the search resumes after it, so one burst gives one match. For ``lt``,
``lte``, ``eq`` and ``neq`` the windows are consecutive (tumbling) from a group's first event.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.rule import SigmaRule

from trailguard.sigma.backend import RuleCompileError
from trailguard.sigma.pipeline import UnknownFieldError, resolve_field, rule_label

SAMPLE_EVENT_IDS = 20
DEFAULT_LATENESS = 86_400.0  # seconds an event may arrive older than the newest one seen

_OPS: dict[SigmaCorrelationConditionOperator, Callable[[Any, Any], bool]] = {
    SigmaCorrelationConditionOperator.LT: operator.lt,
    SigmaCorrelationConditionOperator.LTE: operator.le,
    SigmaCorrelationConditionOperator.GT: operator.gt,
    SigmaCorrelationConditionOperator.GTE: operator.ge,
    SigmaCorrelationConditionOperator.EQ: operator.eq,
    SigmaCorrelationConditionOperator.NEQ: operator.ne,
}
_SLIDING = {SigmaCorrelationConditionOperator.GT, SigmaCorrelationConditionOperator.GTE}
SUPPORTED_TYPES = {
    SigmaCorrelationType.EVENT_COUNT,
    SigmaCorrelationType.VALUE_COUNT,
    SigmaCorrelationType.TEMPORAL,
    SigmaCorrelationType.TEMPORAL_ORDERED,
}


def parse_event_time(value: Any) -> float | None:
    """CloudTrail ``eventTime`` (ISO 8601, usually ``...Z``) -> epoch seconds, None if invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


@dataclass(slots=True)
class _Event:
    t: float
    time: str
    event_id: str | None
    ref: int
    value: Any


@dataclass
class CorrelationWindow:
    """One satisfied window of a correlation rule (turned into a Match by the detector)."""

    group: dict[str, Any]
    count: int
    first_time: str
    last_time: str
    event_ids: list[str]
    rules: list[str]


def _ref_matches(reference: str, rule: SigmaRule) -> bool:
    return reference in {rule.name, str(rule.id) if rule.id else None}


class CorrelationTracker:
    """State and evaluation of one correlation rule."""

    def __init__(
        self,
        rule: SigmaCorrelationRule,
        max_events: int = 100_000,
        lateness: float = DEFAULT_LATENESS,
    ) -> None:
        self.rule = rule
        self.max_events = max_events
        self.lateness = lateness
        self.dropped = 0
        self.max_t = float("-inf")
        self.closed: list[CorrelationWindow] = []
        self.stored = 0
        if rule.type not in SUPPORTED_TYPES:
            raise RuleCompileError(
                f"correlation rule {rule_label(rule)}: type '{rule.type}' is not supported "
                f"(supported: {', '.join(sorted(str(t) for t in SUPPORTED_TYPES))})"
            )
        if not isinstance(rule.condition, SigmaCorrelationCondition):
            raise RuleCompileError(
                f"correlation rule {rule_label(rule)}: extended (boolean) correlation "
                "conditions are not supported"
            )
        self.condition: SigmaCorrelationCondition = rule.condition
        self.refs: list[SigmaRule] = []
        for ref in rule.rules or []:
            target = getattr(ref, "rule", None)
            if not isinstance(target, SigmaRule):
                raise RuleCompileError(
                    f"correlation rule {rule_label(rule)}: reference '{ref.reference}' must name "
                    "a detection rule in the same collection (chained correlations are not "
                    "supported)"
                )
            self.refs.append(target)
        if not self.refs:
            raise RuleCompileError(f"correlation rule {rule_label(rule)}: no rules referenced")
        self.timespan = float(rule.timespan.seconds)
        self.group_by: list[str] = list(rule.group_by or [])
        aliases = {a.alias: a for a in rule.aliases}
        # Per referenced rule: the Sigma field path of each group-by field and of the value field.
        self.group_paths: list[list[str]] = []
        self.value_path: list[str | None] = []
        fieldref = self.condition.fieldref
        if isinstance(fieldref, list):
            if len(fieldref) != 1:
                raise RuleCompileError(
                    f"correlation rule {rule_label(rule)}: only one condition field is supported"
                )
            fieldref = fieldref[0]
        if rule.type == SigmaCorrelationType.VALUE_COUNT and not fieldref:
            raise RuleCompileError(
                f"correlation rule {rule_label(rule)}: value_count needs condition.field"
            )
        for target in self.refs:
            paths = [self._path_for(name, target, aliases) for name in self.group_by]
            self.group_paths.append(paths)
            self.value_path.append(
                self._path_for(fieldref, target, aliases)
                if rule.type == SigmaCorrelationType.VALUE_COUNT and fieldref
                else None
            )
        self.groups: dict[tuple[Any, ...], list[_Event]] = {}

    def _path_for(self, name: str, target: SigmaRule, aliases: dict[str, Any]) -> str:
        path = name
        if name in aliases:
            mapped = [
                f for r, f in aliases[name].mapping.items() if _ref_matches(r.reference, target)
            ]
            if not mapped:
                raise RuleCompileError(
                    f"correlation rule {rule_label(self.rule)}: alias '{name}' has no field for "
                    f"rule '{target.name or target.id}'"
                )
            path = mapped[0]
        try:
            resolve_field(path)
        except UnknownFieldError as e:
            raise RuleCompileError(f"correlation rule {rule_label(self.rule)}: {e}") from None
        return path

    def paths_for(self, ref_index: int) -> list[str]:
        """Sigma field paths the detector must read for matches of referenced rule ``ref_index``."""
        paths = list(self.group_paths[ref_index])
        if self.value_path[ref_index]:
            paths.append(self.value_path[ref_index])  # type: ignore[arg-type]
        return paths

    def add(
        self,
        ref_index: int,
        values: dict[str, Any],
        event_time: Any,
        event_id: str | None,
    ) -> None:
        """Record one match of referenced rule ``ref_index``; ``values`` maps path -> value."""
        t = parse_event_time(event_time)
        if t is None:
            self.dropped += 1
            return
        if self.stored >= self.max_events:
            self.compact()
            if self.stored >= self.max_events:
                self.dropped += 1
                return
        self.max_t = max(self.max_t, t)
        key = tuple(values.get(p) for p in self.group_paths[ref_index])
        vpath = self.value_path[ref_index]
        value = values.get(vpath) if vpath else None
        self.groups.setdefault(key, []).append(_Event(t, event_time, event_id, ref_index, value))
        self.stored += 1

    # ---- evaluation ------------------------------------------------------------------------
    def _measure(self, events: list[_Event]) -> int:
        ctype = self.rule.type
        if ctype == SigmaCorrelationType.EVENT_COUNT:
            return len(events)
        if ctype == SigmaCorrelationType.VALUE_COUNT:
            return len({e.value for e in events if e.value is not None})
        if ctype == SigmaCorrelationType.TEMPORAL:
            return len({e.ref for e in events})
        # temporal_ordered: length of the longest prefix of the rule list seen in order
        want = 0
        for e in events:
            if want < len(self.refs) and e.ref == want:
                want += 1
        return want

    def _satisfied(self, events: list[_Event]) -> bool:
        return _OPS[self.condition.op](self._measure(events), self.condition.count)

    def _window(self, group: tuple[Any, ...], events: list[_Event]) -> CorrelationWindow:
        ids = [e.event_id for e in events if e.event_id]
        return CorrelationWindow(
            group=dict(zip(self.group_by, group, strict=True)),
            count=len(events),
            first_time=events[0].time,
            last_time=events[-1].time,
            event_ids=ids[:SAMPLE_EVENT_IDS],
            rules=sorted({str(self.refs[e.ref].name or self.refs[e.ref].title) for e in events}),
        )

    def _scan(
        self, group: tuple[Any, ...], events: list[_Event], until: float | None = None
    ) -> tuple[list[CorrelationWindow], int]:
        """Greedy window search over one group's time-sorted events.

        With ``until``, stop at the first window that is not closed yet (it could still gain
        events up to ``until``). Returns the windows found and the index of the first event
        still needed: restarting the search there later gives the same result.
        """
        out: list[CorrelationWindow] = []
        n = len(events)
        i = 0
        while i < n:
            if until is not None and events[i].t + self.timespan >= until:
                break
            j = i
            while j < n and events[j].t - events[i].t <= self.timespan:
                j += 1
            window = events[i:j]
            if self._satisfied(window):
                out.append(self._window(group, window))
                i = j
            elif self._sliding:
                i += 1
            else:
                i = j
        return out, i

    @property
    def _sliding(self) -> bool:
        return self.condition.op in _SLIDING or self.rule.type in (
            SigmaCorrelationType.TEMPORAL,
            SigmaCorrelationType.TEMPORAL_ORDERED,
        )

    def compact(self) -> None:
        """Evaluate and forget windows that closed before ``max time seen - lateness``.

        Keeps memory bounded on long scans. Exact as long as no event arrives more than
        ``lateness`` seconds older than the newest one seen (CloudTrail files are written in
        time order per region; the default allows a day).
        """
        until = self.max_t - self.lateness
        stored = 0
        for group, events in list(self.groups.items()):
            events.sort(key=lambda e: (e.t, e.ref))
            found, keep = self._scan(group, events, until)
            self.closed.extend(found)
            if keep >= len(events):
                del self.groups[group]
            else:
                self.groups[group] = events[keep:]
                stored += len(events) - keep
        self.stored = stored

    def finish(self) -> list[CorrelationWindow]:
        """Evaluate all stored events, then forget them; return the satisfied windows."""
        out, self.closed = self.closed, []
        for group, events in self.groups.items():
            events.sort(key=lambda e: (e.t, e.ref))
            out.extend(self._scan(group, events)[0])
        self.groups = {}
        self.stored = 0
        return out
