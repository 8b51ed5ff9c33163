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
import sys
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
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
MAX_ACTORS = 10  # distinct actor ARNs named per window (the total is counted)
# Fields read from every contributing event, to name who did it and in which account.
CONTEXT_PATHS = ("userIdentity.arn", "recipientAccountId", "userIdentity.accountId")
# Reserved key of CorrelationWindow.group holding the window's context (see split_group).
CONTEXT_KEY = "__tg_context"
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
    actor: str | None = None
    account: str | None = None


@dataclass
class CorrelationWindow:
    """One satisfied window of a correlation rule (turned into a Match by the detector).

    ``group`` maps the rule's group-by names to the group's values and, under
    :data:`CONTEXT_KEY`, carries the window's context (actors, accounts, the field path of each
    group-by name) so that it reaches the finding through ``Match.group``; read it with
    :func:`split_group`.
    """

    group: dict[str, Any]
    count: int
    first_time: str
    last_time: str
    event_ids: list[str]
    rules: list[str]
    actors: list[str] = field(default_factory=list)
    actor_count: int = 0
    accounts: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)


def split_group(group: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A correlation match's group -> (group-by values, context).

    The context has ``actors`` (distinct actor ARNs of the contributing events, most frequent
    first, at most :data:`MAX_ACTORS`), ``actor_count`` (how many distinct), ``accounts`` (their
    account ids, most frequent first) and ``paths`` (group-by name -> CloudTrail field path, so
    aliases can be understood). An empty context when the group has none.
    """
    values = {k: v for k, v in group.items() if k != CONTEXT_KEY}
    context = group.get(CONTEXT_KEY)
    return values, context if isinstance(context, dict) else {}


def _ranked(values: list[str | None]) -> list[str]:
    """Distinct non-empty values, most frequent first, ties in order of first appearance."""
    counts: dict[str, int] = {}
    for v in values:
        if v:
            counts[v] = counts.get(v, 0) + 1
    return sorted(counts, key=lambda v: -counts[v])


def _intern(value: Any) -> str | None:
    return sys.intern(value) if isinstance(value, str) and value else None


class _WindowState:
    """Incremental measure of a window ``events[i:j]`` of one group (see ``_scan``).

    ``push`` adds the event at ``j``, ``pop`` removes the one at ``i``: event counts, per-value
    and per-rule counters are kept so that the measure never rescans the window.
    """

    __slots__ = ("ctype", "counts", "distinct", "positions")

    def __init__(self, tracker: CorrelationTracker, events: list[_Event]) -> None:
        self.ctype = tracker.rule.type
        self.counts: dict[Any, int] = {}
        self.positions: list[list[int]] = []
        if self.ctype == SigmaCorrelationType.TEMPORAL_ORDERED:
            self.positions = [[] for _ in tracker.refs]
            for index, e in enumerate(events):
                self.positions[e.ref].append(index)

    def _key(self, e: _Event) -> Any:
        if self.ctype == SigmaCorrelationType.VALUE_COUNT:
            return e.value
        if self.ctype == SigmaCorrelationType.TEMPORAL:
            return e.ref
        return None

    def push(self, e: _Event) -> None:
        """The window gained ``e`` (at its end)."""
        key = self._key(e)
        if key is not None:
            self.counts[key] = self.counts.get(key, 0) + 1

    def pop(self, e: _Event) -> None:
        """The window lost ``e`` (at its start)."""
        key = self._key(e)
        if key is not None:
            left = self.counts[key] - 1
            if left:
                self.counts[key] = left
            else:
                del self.counts[key]

    def clear(self) -> None:
        """The window is empty again."""
        self.counts.clear()

    def measure(self, i: int, j: int) -> int:
        """The measure of ``events[i:j]`` the condition compares with its count.

        event_count: events; value_count: distinct non-null values; temporal: distinct
        referenced rules; temporal_ordered: length of the longest prefix of the rule list seen
        in order (greedy, each rule's first match after the previous one's).
        """
        if self.ctype == SigmaCorrelationType.EVENT_COUNT:
            return j - i
        if self.ctype != SigmaCorrelationType.TEMPORAL_ORDERED:
            return len(self.counts)
        want, cursor = 0, i
        for positions in self.positions:
            k = bisect_left(positions, cursor)
            if k == len(positions) or positions[k] >= j:
                break
            want += 1
            cursor = positions[k] + 1
        return want


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
        self.earliest = float("inf")  # time of the oldest event stored
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
        """Sigma field paths the detector must read for matches of referenced rule ``ref_index``.

        The group-by and value fields, then :data:`CONTEXT_PATHS` (actor and account).
        """
        paths = list(self.group_paths[ref_index])
        if self.value_path[ref_index]:
            paths.append(self.value_path[ref_index])  # type: ignore[arg-type]
        paths.extend(p for p in CONTEXT_PATHS if p not in paths)
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
        self.earliest = min(self.earliest, t)
        key = tuple(values.get(p) for p in self.group_paths[ref_index])
        vpath = self.value_path[ref_index]
        value = values.get(vpath) if vpath else None
        account = _intern(values.get("recipientAccountId")) or _intern(
            values.get("userIdentity.accountId")
        )
        self.groups.setdefault(key, []).append(
            _Event(
                t,
                event_time,
                event_id,
                ref_index,
                value,
                _intern(values.get("userIdentity.arn")),
                account,
            )
        )
        self.stored += 1

    # ---- evaluation ------------------------------------------------------------------------
    def _measure(self, events: list[_Event]) -> int:
        """The correlation's measure over ``events`` (reference for :class:`_WindowState`)."""
        state = _WindowState(self, events)
        for e in events:
            state.push(e)
        return state.measure(0, len(events))

    def _satisfied(self, events: list[_Event]) -> bool:
        return _OPS[self.condition.op](self._measure(events), self.condition.count)

    def _window(self, group: tuple[Any, ...], events: list[_Event]) -> CorrelationWindow:
        ids = [e.event_id for e in events if e.event_id]
        actors = _ranked([e.actor for e in events])
        accounts = _ranked([e.account for e in events])
        refs = sorted({e.ref for e in events})
        paths = {name: self.group_paths[refs[0]][k] for k, name in enumerate(self.group_by)}
        values: dict[str, Any] = dict(zip(self.group_by, group, strict=True))
        values[CONTEXT_KEY] = {
            "actors": actors[:MAX_ACTORS],
            "actor_count": len(actors),
            "accounts": accounts,
            "paths": paths,
        }
        return CorrelationWindow(
            group=values,
            count=len(events),
            first_time=events[0].time,
            last_time=events[-1].time,
            event_ids=ids[:SAMPLE_EVENT_IDS],
            rules=sorted({str(self.refs[r].name or self.refs[r].title) for r in refs}),
            actors=actors[:MAX_ACTORS],
            actor_count=len(actors),
            accounts=accounts,
            paths=paths,
        )

    def _scan(
        self, group: tuple[Any, ...], events: list[_Event], until: float | None = None
    ) -> tuple[list[CorrelationWindow], int]:
        """Greedy window search over one group's time-sorted events.

        With ``until``, stop at the first window that is not closed yet (it could still gain
        events up to ``until``). Returns the windows found and the index of the first event
        still needed: restarting the search there later gives the same result.

        Two pointers: the window ``events[i:j]`` only ever grows at ``j`` and shrinks at ``i``,
        and :class:`_WindowState` keeps its measure up to date incrementally, so one group costs
        O(n) steps (O(n log n) for ``temporal_ordered``) instead of rescanning every window.
        """
        out: list[CorrelationWindow] = []
        n = len(events)
        op, threshold, span = _OPS[self.condition.op], self.condition.count, self.timespan
        sliding = self._sliding
        state = _WindowState(self, events)
        i = j = 0
        while i < n:
            start = events[i]
            if until is not None and start.t + span >= until:
                break
            while j < n and events[j].t - start.t <= span:
                state.push(events[j])
                j += 1
            if op(state.measure(i, j), threshold):
                out.append(self._window(group, events[i:j]))
                state.clear()
                i = j
            elif sliding:
                state.pop(start)
                i += 1
            else:
                state.clear()
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
        if until <= self.earliest + self.timespan:
            return  # no stored window has closed yet: nothing to evaluate or forget
        stored = 0
        earliest = float("inf")
        for group, events in list(self.groups.items()):
            events.sort(key=lambda e: (e.t, e.ref))
            found, keep = self._scan(group, events, until)
            self.closed.extend(found)
            if keep >= len(events):
                del self.groups[group]
            else:
                self.groups[group] = events[keep:]
                stored += len(events) - keep
                earliest = min(earliest, events[keep].t)
        self.stored = stored
        self.earliest = earliest

    def finish(self) -> list[CorrelationWindow]:
        """Evaluate all stored events, then forget them; return the satisfied windows."""
        out, self.closed = self.closed, []
        for group, events in self.groups.items():
            events.sort(key=lambda e: (e.t, e.ref))
            out.extend(self._scan(group, events)[0])
        self.groups = {}
        self.stored = 0
        self.earliest = float("inf")
        return out
