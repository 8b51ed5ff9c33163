"""Load and validate the detection rule catalog: the shipped Sigma rules plus optional extra dirs.

Rules are standard Sigma YAML (one rule, or a correlation with its helper rules, per file).
trailguard adds three top-level keys that pySigma keeps as ``custom_attributes`` and SIEM
backends ignore:

* ``explain``: the knowledge-base event name(s) to read (`trailguard explain NAME`);
* ``cis``: CIS AWS Foundations control ids the rule supports (optional);
* ``examples``: panther-style tests, each ``{name, match: true|false, event: RECORD}`` (detection
  rules) or ``{name, match, events: [RECORD, ...]}`` (correlation rules). Every rule needs at least
  one example that must match and one that must not.

:func:`load_rules` returns a :class:`Catalog` (the pySigma collection plus a :class:`RuleInfo`
per rule) or raises :class:`CatalogError` listing every problem found, file by file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.rule.base import SigmaYAMLLoader
from sigma.types import SigmaString

from trailguard.detection.filters import FilterInfo, check_filters, filter_files, parse_filter

RuleKind = Literal["detection", "correlation", "correlation-input"]

LEVELS = ("informational", "low", "medium", "high", "critical")
EVENT_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]+$")
TECHNIQUE_RE = re.compile(r"^t\d{4}(\.\d{3})?$")
RULE_SUFFIXES = (".yml", ".yaml")


class CatalogError(ValueError):
    """The rule catalog is invalid; ``problems`` lists each problem as ``where: what``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid detection rules:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Example:
    """One embedded test: records that the rule must (``match``) or must not match."""

    name: str
    match: bool
    events: list[dict[str, Any]]


@dataclass
class RuleInfo:
    """What trailguard knows about one rule besides its Sigma logic."""

    rule: SigmaRule | SigmaCorrelationRule
    id: str
    name: str | None
    title: str
    level: str
    kind: RuleKind
    source: str
    description: str = ""
    tactics: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)  # "T1098.001"
    event_names: list[str] = field(default_factory=list)
    explain: list[str] = field(default_factory=list)
    cis: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)  # the rule as written (YAML)

    def explain_for(self, event_name: str | None) -> str | None:
        """The knowledge-base event to read for a match on ``event_name``.

        The matched event itself when the rule explains it, else the rule's first explain entry.
        """
        if event_name and event_name in self.explain:
            return event_name
        return self.explain[0] if self.explain else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without the examples' records)."""
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "level": self.level,
            "kind": self.kind,
            "tactics": self.tactics,
            "techniques": self.techniques,
            "event_names": self.event_names,
            "explain": self.explain,
            "cis": self.cis,
            "examples": {
                "match": sum(1 for e in self.examples if e.match),
                "no_match": sum(1 for e in self.examples if not e.match),
            },
            "source": self.source,
        }


@dataclass
class Catalog:
    """The rules as one pySigma collection (for engines and export) plus their metadata."""

    collection: SigmaCollection
    rules: list[RuleInfo]
    filters: list[FilterInfo] = field(default_factory=list)  # Sigma filters, not yet applied

    def __len__(self) -> int:
        return len(self.rules)

    def by_id(self, rule_id: str) -> RuleInfo | None:
        """The rule with this id (UUID string), or None."""
        for info in self.rules:
            if info.id == rule_id:
                return info
        return None

    def for_event(self, event_name: str) -> list[RuleInfo]:
        """Rules that detect or explain ``event_name`` (case-insensitive), most severe first."""
        key = event_name.lower()
        hits = [
            i
            for i in self.rules
            if i.kind != "correlation-input"
            and key in {n.lower() for n in (*i.event_names, *i.explain)}
        ]
        return sorted(hits, key=lambda i: -LEVELS.index(i.level) if i.level in LEVELS else 0)

    def info(self, rule: SigmaRule | SigmaCorrelationRule) -> RuleInfo | None:
        """The metadata of a rule object of :attr:`collection` (by identity, then by id)."""
        for info in self.rules:
            if info.rule is rule:
                return info
        return self.by_id(str(rule.id)) if rule.id else None


def rules_root() -> Traversable:
    """The directory of rules shipped inside the package (``trailguard/rules``)."""
    return resources.files("trailguard") / "rules"


def _iter_rule_files(root: Traversable | Path, label: str) -> Iterator[tuple[str, str]]:
    """Yield ``(where, text)`` for every rule file under ``root``, sorted by path."""
    stack: list[tuple[str, Traversable | Path]] = [("", root)]
    found: list[tuple[str, Traversable | Path]] = []
    while stack:
        prefix, node = stack.pop()
        for child in node.iterdir():
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                stack.append((rel + "/", child))
            elif child.name.lower().endswith(RULE_SUFFIXES):
                found.append((rel, child))
    for rel, child in sorted(found, key=lambda x: x[0]):
        yield f"{label}/{rel}", child.read_text(encoding="utf-8")


def _parse_file(
    where: str,
    text: str,
    problems: list[str],
    filters: list[FilterInfo] | None = None,
    filters_only: bool = False,
) -> tuple[SigmaCollection, list[dict]] | None:
    """Parse one file's rules; its Sigma filter documents go to ``filters`` (None: refused).

    With ``filters_only`` (a ``--filters`` file), any other document is a problem.
    """
    try:
        # pySigma's own loader: libyaml speed, duplicate keys rejected.
        docs = [d for d in yaml.load_all(text, Loader=SigmaYAMLLoader) if d is not None]
    except yaml.YAMLError as e:
        problems.append(f"{where}: {e}")
        return None
    except ValueError as e:  # a date YAML cannot build, e.g. 2026-02-30
        problems.append(f"{where}: bad value: {e}")
        return None
    rule_docs = []
    for n, doc in enumerate(docs, 1):
        if filters_only and not (isinstance(doc, dict) and "filter" in doc):
            kind = ("a detection rule: give rule folders with --rules"
                    if isinstance(doc, dict) and ("detection" in doc or "correlation" in doc)
                    else "not a Sigma filter (a filter document has a 'filter:' section)")
            problems.append(f"{where}: document {n} is {kind}")
            continue
        if isinstance(doc, dict) and "filter" in doc and "detection" not in doc:
            if filters is None:
                problems.append(f"{where}: a Sigma filter here is not allowed (shipped rules)")
            elif (info := parse_filter(doc, where, problems)) is not None:
                filters.append(info)
        else:
            rule_docs.append(doc)
    docs = rule_docs
    try:
        collection = SigmaCollection.from_dicts(
            docs, collect_errors=True, source=SigmaRuleLocation(where), resolve_references=False
        )
    except SigmaError as e:
        problems.append(f"{where}: {e}")
        return None
    for error in collection.errors:
        problems.append(f"{where}: {error}")
    for rule in collection.rules:
        for error in rule.errors:
            problems.append(f"{where}: rule '{rule.title}': {error}")
    if collection.errors or any(r.errors for r in collection.rules):
        return None
    return collection, docs


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _known_event(name: str, event_sources: list[str]) -> bool:
    """True when ``name`` is an AWS API operation, a curated KB event or a non-API event.

    Cheapest first: the services the rule names (one botocore model each), then the knowledge
    base, then, only for rules that name no eventSource, botocore's whole operation index (slow
    on a cold cache: every model is read).
    """
    try:
        from trailguard.kb import botocore_index

        if name in botocore_index.NON_API_EVENTS:  # sign-in and Git events
            return True
        for source in event_sources:
            service = source.split(".", 1)[0]
            if botocore_index.has_model(service) and botocore_index.operation_model(service, name):
                return True
    except Exception:  # noqa: BLE001 - an unavailable botocore model must not hide the rules
        return True
    try:
        from trailguard.kb.loader import get_entry

        if get_entry(name) is not None:
            return True
    except Exception:  # noqa: BLE001 - knowledge base still being written / broken
        pass
    return not event_sources and name in botocore_index.operation_index()


def _field_values(rule: SigmaRule, field_name: str) -> list[str]:
    """Plain string values the rule's detection gives ``field_name`` (no modifiers)."""
    values: list[str] = []

    def walk(node: SigmaDetection | SigmaDetectionItem) -> None:
        if isinstance(node, SigmaDetection):
            for item in node.detection_items:
                walk(item)
        elif node.field == field_name and not node.modifiers:
            for value in node.value:
                if isinstance(value, SigmaString) and not value.contains_special():
                    text = str(value)
                    if text not in values:
                        values.append(text)

    for detection in rule.detection.detections.values():
        walk(detection)
    return values


def _examples(where: str, raw: Any, correlation: bool, problems: list[str]) -> list[Example]:
    out: list[Example] = []
    if not isinstance(raw, list):
        problems.append(f"{where}: 'examples' must be a list of examples")
        return out
    key = "events" if correlation else "event"
    for i, item in enumerate(raw):
        label = f"{where}: examples[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{label}: must be a mapping with name, match and {key}")
            continue
        name = item.get("name")
        match = item.get("match")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{label}: 'name' must be a non-empty string")
        if not isinstance(match, bool):
            problems.append(f"{label}: 'match' must be true or false")
            continue
        if correlation:
            events = item.get("events")
            if (
                not isinstance(events, list)
                or not events
                or not all(isinstance(e, dict) for e in events)
            ):
                problems.append(f"{label}: 'events' must be a non-empty list of records")
                continue
        else:
            event = item.get("event")
            if not isinstance(event, dict) or not event:
                problems.append(f"{label}: 'event' must be a CloudTrail record (a mapping)")
                continue
            events = [event]
        out.append(Example(str(name), match, events))
    if not any(e.match for e in out):
        problems.append(f"{where}: needs at least one example with match: true")
    if not any(not e.match for e in out):
        problems.append(f"{where}: needs at least one example with match: false")
    return out


def _info(
    rule: SigmaRule | SigmaCorrelationRule, where: str, require_examples: bool, problems: list[str]
) -> RuleInfo:
    label = f"{where}: rule '{rule.title}'"
    attrs = rule.custom_attributes or {}
    level = rule.level.name.lower() if rule.level is not None else ""
    if level not in LEVELS:
        problems.append(f"{label}: level must be one of {', '.join(LEVELS)}")
    if rule.id is None:
        problems.append(f"{label}: missing id (a UUID)")
    correlation = isinstance(rule, SigmaCorrelationRule)
    tactics: list[str] = []
    techniques: list[str] = []
    for tag in rule.tags:
        if tag.namespace != "attack":
            continue
        if TECHNIQUE_RE.match(tag.name):
            techniques.append(tag.name.upper())
        else:
            tactics.append(tag.name)
    event_names = [] if correlation else _field_values(rule, "eventName")  # type: ignore[arg-type]
    sources = [] if correlation else _field_values(rule, "eventSource")  # type: ignore[arg-type]
    explain = [str(x) for x in _as_list(attrs.get("explain"))]
    if not explain and require_examples:
        # Shipped rules must point to their guidance; third-party rules (loaded leniently)
        # may be plain Sigma, and their findings then carry no `explain` hint.
        problems.append(f"{label}: 'explain' must name the knowledge-base event(s) to read")
    for name in explain:
        if not EVENT_NAME_RE.match(name):
            problems.append(f"{label}: explain: {name!r} is not an event name")
        elif event_names and name not in event_names:
            problems.append(f"{label}: explain: {name} is not one of the rule's eventName values")
        elif not correlation and not _known_event(name, sources):
            problems.append(f"{label}: explain: {name} is not an AWS API operation or KB event")
    if "examples" in attrs:
        examples = _examples(label, attrs["examples"], correlation, problems)
    else:
        examples = []
        if require_examples:
            problems.append(f"{label}: no 'examples' (needs records that match and that do not)")
    return RuleInfo(
        rule=rule,
        id=str(rule.id) if rule.id else "",
        name=rule.name,
        title=str(rule.title),
        level=level,
        kind="correlation" if correlation else "detection",
        source=where,
        description=str(rule.description or ""),
        tactics=tactics,
        techniques=techniques,
        event_names=event_names,
        explain=explain,
        cis=[str(c) for c in _as_list(attrs.get("cis"))],
        examples=examples,
    )


def load_rules(
    extra_dirs: Iterable[Path | str] = (),
    *,
    include_shipped: bool = True,
    require_examples: bool = True,
    filter_paths: Iterable[Path | str] = (),
) -> Catalog:
    """Load the shipped rules (and rules under ``extra_dirs``), validated, as a :class:`Catalog`.

    Checks: every file parses as Sigma; ids are present and unique; levels are valid; each rule
    names ``explain`` events that exist and has at least one matching and one non-matching
    example (both only when ``require_examples`` is True: third-party rules loaded with
    ``require_examples=False`` may be plain Sigma without trailguard's keys);
    correlation rules reference rules that exist. Raises :class:`CatalogError` with all problems.

    Sigma filters found in ``extra_dirs`` or in ``filter_paths`` (files or folders holding only
    filters) are checked against the rules and returned in :attr:`Catalog.filters`, not
    applied: the detector applies them and counts what each one drops.
    """
    problems: list[str] = []
    filters: list[FilterInfo] = []
    sources: list[tuple[str, Traversable | Path]] = []
    if include_shipped:
        sources.append(("trailguard/rules", rules_root()))
    for d in extra_dirs:
        path = Path(d)
        if not path.is_dir():
            problems.append(f"{path}: not a directory of rule files")
            continue
        sources.append((str(path), path))
    parsed: list[tuple[str, SigmaCollection]] = []
    raw: dict[int, dict] = {}
    for label, root in sources:
        for where, text in _iter_rule_files(root, label):
            shipped = include_shipped and root is sources[0][1]
            result = _parse_file(where, text, problems, None if shipped else filters)
            if result is not None:
                collection, docs = result
                parsed.append((where, collection))
                if len(docs) == len(collection.rules):
                    raw.update({id(r): d for r, d in zip(collection.rules, docs, strict=True)})
    files, file_problems = filter_files(Path(p) for p in filter_paths)
    problems.extend(file_problems)
    for where, text in files:
        before, seen = len(filters), len(problems)
        _parse_file(where, text, problems, filters, filters_only=True)
        if len(filters) == before and len(problems) == seen:
            problems.append(f"{where}: no Sigma filter in this file (a document with 'filter:')")
    if problems:
        raise CatalogError(problems)
    origin = {id(rule): where for where, c in parsed for rule in c.rules}
    try:
        collection = SigmaCollection.merge([c for _, c in parsed])
    except SigmaError as e:
        raise CatalogError([f"rule references: {e}"]) from None
    infos: list[RuleInfo] = []
    seen: dict[str, str] = {}
    for rule in collection.rules:
        where = origin.get(id(rule), "?")
        info = _info(rule, where, require_examples, problems)
        info.document = raw.get(id(rule), {})
        if info.id:
            if info.id in seen:
                problems.append(f"{where}: id {info.id} is already used by {seen[info.id]}")
            seen[info.id] = where
        infos.append(info)
    # Kinds and event names of correlations follow from the rules they reference.
    by_rule = {id(i.rule): i for i in infos}
    for info in infos:
        rule = info.rule
        if isinstance(rule, SigmaCorrelationRule):
            names: list[str] = []
            for ref in rule.rules:
                target = by_rule.get(id(ref.rule)) if getattr(ref, "rule", None) else None
                for n in target.event_names if target else []:
                    if n not in names:
                        names.append(n)
            info.event_names = names
            for n in info.explain:
                if names and n not in names:
                    problems.append(
                        f"{info.source}: rule '{info.title}': explain: {n} is not an event of "
                        "the rules it correlates"
                    )
                elif not names and not _known_event(n, []):
                    problems.append(
                        f"{info.source}: rule '{info.title}': explain: {n} is not an AWS API "
                        "operation or KB event"
                    )
        elif not getattr(rule, "_output", True):
            info.kind = "correlation-input"
    check_filters(filters, collection.rules, problems)
    if problems:
        raise CatalogError(problems)
    return Catalog(collection=collection, rules=infos, filters=filters)
