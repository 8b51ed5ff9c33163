"""What the detector reports (:class:`Match`) and the plain stand-in for a rule (:class:`RuleRef`).

Nothing here imports pySigma: a detector loaded from the rule cache runs and reports with
these alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class RuleRef:
    """A rule's identity without its Sigma logic: what a cached detector keeps of each rule.

    It answers ``id``, ``name`` and ``title`` like a pySigma rule does, so code that only
    names a rule (findings, log messages) works with either. Compared by identity, as rule
    objects are (the scanner keys rule metadata by ``id(rule)``).
    """

    id: str | None
    name: str | None
    title: str

    @classmethod
    def of(cls, rule: Any) -> RuleRef:
        """The reference of a pySigma rule (or ``rule`` itself when it is already one)."""
        if isinstance(rule, RuleRef):
            return rule
        rule_id = getattr(rule, "id", None)
        return cls(
            id=str(rule_id) if rule_id else None,
            name=getattr(rule, "name", None) or None,
            title=str(getattr(rule, "title", "") or ""),
        )


@dataclass
class Match:
    """A rule that fired: on one record (detection rule) or on a group of records (correlation).

    ``rule`` is the pySigma rule for a freshly compiled detector and a :class:`RuleRef` for one
    loaded from the rule cache; only its ``id``, ``name`` and ``title`` are read here.

    For a correlation, ``group`` maps the rule's group-by names to the group's values;
    ``actors`` are the distinct actor ARNs of the contributing events (most frequent first,
    bounded), ``actor_count`` how many there were in all, ``accounts`` their account ids (most
    frequent first) and ``paths`` the CloudTrail field path of each group-by name, so aliases
    such as ``target_user`` can be understood. For a value_count rule, ``values`` are the
    distinct values it counted (most frequent first, bounded), ``value_count`` how many there
    were and ``value_path`` the field.
    """

    rule: Any
    record: dict[str, Any] | None = None
    group: dict[str, Any] = field(default_factory=dict)
    count: int = 1
    first_time: str | None = None
    last_time: str | None = None
    event_ids: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # correlation: referenced rules that fired
    is_correlation: bool = False
    actors: list[str] = field(default_factory=list)
    actor_count: int = 0
    accounts: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)  # value_count: distinct values, bounded
    value_count: int = 0  # value_count: distinct values in all
    value_path: str | None = None  # value_count: the counted field

    @property
    def rule_id(self) -> str:
        """The rule's id, or its name / title when it has none."""
        return str(self.rule.id or self.rule.name or self.rule.title)

    @property
    def title(self) -> str:
        """The rule's title."""
        return str(self.rule.title)


@dataclass
class FilterUse:
    """A Sigma filter as the detector keeps it (plain data), and how many events it dropped.

    ``rules`` names the detection rules it applies to; ``applied`` is False for a filter past
    its ``expires`` day (``expires`` as YYYY-MM-DD), which the detector loads but does not use.
    """

    title: str
    source: str
    id: str = ""
    description: str = ""
    expires: str | None = None
    rules: list[str] = field(default_factory=list)
    applied: bool = True
    events: int = 0  # rule matches it dropped (an event dropped for two rules counts twice)
