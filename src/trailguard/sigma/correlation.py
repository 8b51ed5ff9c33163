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

import copy
import operator
import sys
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SAMPLE_EVENT_IDS = 20
MAX_ACTORS = 10  # distinct actor ARNs named per window (the total is counted)
MAX_VALUES = 20  # value_count: distinct counted values named per window (the total is counted)
# Fields read from every contributing event, to name who did it and in which account.
CONTEXT_PATHS = ("userIdentity.arn", "recipientAccountId", "userIdentity.accountId")
DEFAULT_LATENESS = 86_400.0  # seconds an event may arrive older than the newest one seen

# Sigma condition operators (``gte: 5``) -> comparison of the window's measure with the count.
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "eq": operator.eq,
    "neq": operator.ne,
}
_SLIDING = {"gt", "gte"}
SUPPORTED_TYPES = ("event_count", "value_count", "temporal", "temporal_ordered")


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

    ``group`` maps the rule's group-by names to the group's values. The context: ``actors``
    (distinct actor ARNs of the contributing events, most frequent first, at most
    :data:`MAX_ACTORS`), ``actor_count`` (how many distinct), ``accounts`` (their account ids,
    most frequent first) and ``paths`` (group-by name -> CloudTrail field path, so aliases can
    be understood).
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
    values: list[str] = field(default_factory=list)  # value_count: distinct values, bounded
    value_count: int = 0  # value_count: how many distinct values in all
    value_path: str | None = None  # value_count: the counted field


@dataclass(frozen=True)
class CorrelationSpec:
    """What a tracker needs of a correlation rule, as plain data (see ``compiler.py``).

    ``ctype`` is the Sigma correlation type (``event_count``, ...), ``op`` and ``count`` the
    condition (``gte``, 5), ``timespan`` in seconds. Per referenced rule, in the rule's order:
    its name (or title) in ``ref_names``, the field path of each group-by name in
    ``group_paths`` and the path of the counted field (value_count) in ``value_path``.
    """

    title: str
    ctype: str
    op: str
    count: int | float
    timespan: float
    group_by: list[str]
    ref_names: list[str]
    group_paths: list[list[str]]
    value_path: list[str | None]


def _ranked(values: list[str | None]) -> list[str]:
    """Distinct non-empty values, most frequent first, ties in order of first appearance."""
    counts: dict[str, int] = {}
    for v in values:
        if v:
            counts[v] = counts.get(v, 0) + 1
    return sorted(counts, key=lambda v: -counts[v])


def _event_order(e: _Event) -> tuple[float, int, str]:
    """Events of a group in time order; ties by referenced rule, then event id.

    A total order, so that windows do not depend on the order DuckDB returned the rows in.
    """
    return (e.t, e.ref, e.event_id or "")


def _intern(value: Any) -> str | None:
    return sys.intern(value) if isinstance(value, str) and value else None


class _WindowState:
    """Incremental measure of a window ``events[i:j]`` of one group (see ``_scan``).

    ``push`` adds the event at ``j``, ``pop`` removes the one at ``i``: event counts, per-value
    and per-rule counters are kept so that the measure never rescans the window.
    """

    __slots__ = ("ctype", "counts", "distinct", "positions")

    def __init__(self, tracker: CorrelationTracker, events: list[_Event]) -> None:
        self.ctype = tracker.ctype
        self.counts: dict[Any, int] = {}
        self.positions: list[list[int]] = []
        if self.ctype == "temporal_ordered":
            self.positions = [[] for _ in tracker.ref_names]
            for index, e in enumerate(events):
                self.positions[e.ref].append(index)

    def _key(self, e: _Event) -> Any:
        if self.ctype == "value_count":
            return e.value
        if self.ctype == "temporal":
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
        if self.ctype == "event_count":
            return j - i
        if self.ctype != "temporal_ordered":
            return len(self.counts)
        want, cursor = 0, i
        for positions in self.positions:
            k = bisect_left(positions, cursor)
            if k == len(positions) or positions[k] >= j:
                break
            want += 1
            cursor = positions[k] + 1
        return want


class CorrelationTracker:
    """State and evaluation of one correlation rule.

    ``rule`` only identifies the rule (the pySigma rule, or a :class:`~trailguard.sigma.match.
    RuleRef` in a cached detector); everything evaluated comes from ``spec``. Build one from a
    pySigma rule with :meth:`from_rule`.
    """

    def __init__(
        self,
        rule: Any,
        spec: CorrelationSpec,
        max_events: int = 100_000,
        lateness: float = DEFAULT_LATENESS,
    ) -> None:
        self.rule = rule
        self.title = spec.title
        self.ctype = spec.ctype
        self.op = spec.op
        self.threshold = spec.count
        self.timespan = spec.timespan
        self.group_by = list(spec.group_by)
        self.ref_names = list(spec.ref_names)
        self.group_paths = [list(p) for p in spec.group_paths]
        self.value_path = list(spec.value_path)
        self.max_events = max_events
        self.lateness = lateness
        self._reset()

    @classmethod
    def from_rule(
        cls, rule: Any, max_events: int = 100_000, lateness: float = DEFAULT_LATENESS
    ) -> CorrelationTracker:
        """A tracker for pySigma correlation rule ``rule`` (its references resolved).

        Raises :class:`~trailguard.sigma.backend.RuleCompileError` when the rule cannot be
        evaluated (unsupported type or condition, unknown field, missing reference).
        """
        from trailguard.sigma.compiler import correlation_spec

        spec, _ = correlation_spec(rule)
        return cls(rule, spec, max_events, lateness)

    def _reset(self) -> None:
        self.dropped = 0
        self.max_t = float("-inf")
        self.earliest = float("inf")  # time of the oldest event stored
        self.closed: list[CorrelationWindow] = []
        self.stored = 0
        self.groups: dict[tuple[Any, ...], list[_Event]] = {}

    def detached(self, rule: Any) -> CorrelationTracker:
        """A copy without events that names its rule by ``rule`` (e.g. a RuleRef)."""
        twin = copy.copy(self)
        twin.rule = rule
        twin._reset()
        return twin

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
        return OPS[self.op](self._measure(events), self.threshold)

    def _window(self, group: tuple[Any, ...], events: list[_Event]) -> CorrelationWindow:
        ids = [e.event_id for e in events if e.event_id]
        actors = _ranked([e.actor for e in events])
        accounts = _ranked([e.account for e in events])
        refs = sorted({e.ref for e in events})
        paths = {name: self.group_paths[refs[0]][k] for k, name in enumerate(self.group_by)}
        values = (
            _ranked([str(e.value) for e in events if e.value is not None])
            if self.ctype == "value_count" else []
        )
        return CorrelationWindow(
            group=dict(zip(self.group_by, group, strict=True)),
            count=len(events),
            first_time=events[0].time,
            last_time=events[-1].time,
            event_ids=ids[:SAMPLE_EVENT_IDS],
            rules=sorted({self.ref_names[r] for r in refs}),
            actors=actors[:MAX_ACTORS],
            actor_count=len(actors),
            accounts=accounts,
            paths=paths,
            values=values[:MAX_VALUES],
            value_count=len(values),
            value_path=next((self.value_path[r] for r in refs if self.value_path[r]), None),
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
        op, threshold, span = OPS[self.op], self.threshold, self.timespan
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
        return self.op in _SLIDING or self.ctype in ("temporal", "temporal_ordered")

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
            events.sort(key=_event_order)
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
        """Evaluate all stored events, then forget them; return the satisfied windows.

        Windows come in order of first event time (then event ids), whatever the order of
        the groups.
        """
        out, self.closed = self.closed, []
        for group, events in self.groups.items():
            events.sort(key=_event_order)
            out.extend(self._scan(group, events)[0])
        self.groups = {}
        self.stored = 0
        self.earliest = float("inf")
        out.sort(key=lambda w: (parse_event_time(w.first_time) or 0.0, w.first_time, w.event_ids))
        return out
