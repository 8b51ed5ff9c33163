"""Sigma filters: the standard way to tune rules for one environment without editing them.

A filter is a Sigma document with a ``filter`` section instead of ``detection`` (Sigma
specification, "Sigma Filters"): it names the rules it applies to (ids or names, or ``any``)
and a condition that an event must meet to stay a match, usually ``not selection``::

    title: CI deployer rotates the keys of service users
    id: 0b8f4c1e-6a55-4d6f-9d0a-6a1f0f0c2b11
    description: Nightly key rotation by the pipeline (ticket SEC-123).
    expires: 2027-03-01          # trailguard key: after this day the filter is not applied
    logsource: {product: aws, service: cloudtrail}
    filter:
      rules: [tg_other_user_credential_created]
      selection:
        userIdentity.arn|startswith: 'arn:aws:sts::111122223333:assumed-role/ci-deployer/'
      condition: not selection

Because filters are plain Sigma, ``trailguard rules export`` applies them to the exported
queries too: the SIEM and trailguard drop the same events. trailguard also counts, per filter,
the events it dropped, so tuning never hides activity silently.

This module loads and checks them (:func:`load_filter_docs`, :func:`check_filters`); the
detector compiles them (:mod:`trailguard.sigma.compiler`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

FILTER_SUFFIXES = (".yml", ".yaml")


@dataclass
class FilterInfo:
    """One Sigma filter and what trailguard knows about it besides its logic."""

    filter: SigmaFilter
    title: str
    source: str  # file it came from
    id: str = ""
    description: str = ""
    expires: date | None = None
    references: list[str] = field(default_factory=list)  # rule ids/names; empty: any rule
    rules: list[str] = field(default_factory=list)  # names (else ids) of the rules it applies to

    def expired(self, today: date) -> bool:
        """True when the filter's ``expires`` day is before ``today``."""
        return self.expires is not None and self.expires < today

    @property
    def label(self) -> str:
        """How messages name the filter: its title and file."""
        return f"filter '{self.title}' ({self.source})"


def _expires(value: Any) -> date | None:
    """``expires`` as a date; raises ValueError when it is not a day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def parse_filter(doc: dict[str, Any], where: str, problems: list[str]) -> FilterInfo | None:
    """The :class:`FilterInfo` of one YAML document, or None with the reasons in ``problems``."""
    try:
        sigma_filter = SigmaFilter.from_dict(
            doc, collect_errors=True, source=SigmaRuleLocation(where)
        )
    except (SigmaError, TypeError, ValueError, AttributeError) as e:
        problems.append(f"{where}: {e}")
        return None
    if sigma_filter.errors:
        problems.extend(f"{where}: {e}" for e in sigma_filter.errors)
        return None
    title = str(doc.get("title") or "").strip()
    if not title:
        problems.append(f"{where}: a filter needs a title (it names the filter in every report)")
        return None
    try:
        expires = _expires(doc.get("expires"))
    except ValueError:
        problems.append(f"{where}: filter '{title}': expires must be a day (YYYY-MM-DD), "
                        f"not {doc.get('expires')!r}")
        return None
    refs = sigma_filter.filter.rules
    return FilterInfo(
        filter=sigma_filter,
        title=title,
        source=where,
        id=str(sigma_filter.id) if sigma_filter.id else "",
        description=str(doc.get("description") or "").strip(),
        expires=expires,
        references=[] if isinstance(refs, str) else [r.reference for r in refs],
    )


def filter_files(paths: Iterable[Path]) -> tuple[list[tuple[str, str]], list[str]]:
    """``(where, text)`` of every filter file named or under a named folder, and problems."""
    out: list[tuple[str, str]] = []
    problems: list[str] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in
                           FILTER_SUFFIXES)
            if not files:
                problems.append(f"{path}: no filter files (*.yml, *.yaml) in this folder")
        elif path.is_file():
            files = [path]
        else:
            problems.append(f"{path}: no such file or folder")
            continue
        for file in files:
            try:
                out.append((str(file), file.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as e:
                problems.append(f"{file}: cannot be read: {e}")
    return out, problems


def applies_to(info: FilterInfo, rule: SigmaRule | SigmaCorrelationRule) -> bool:
    """True when Sigma applies the filter to ``rule``: same log source and named (or ``any``).

    Filters never apply to correlation rules themselves (filtering the detection rules a
    correlation counts is how its input is tuned), nor to a hunt (``scan --actor ...``).
    """
    if not isinstance(rule, SigmaRule) or rule.logsource not in info.filter.logsource:
        return False
    if (rule.custom_attributes or {}).get("hunt") is True:
        return False  # an analyst's hunt shows everything it asked for
    if not info.references:
        return True
    names = {rule.name, str(rule.id) if rule.id else None} - {None}
    return any(ref in names for ref in info.references)


def check_filters(
    filters: list[FilterInfo], rules: list[SigmaRule | SigmaCorrelationRule], problems: list[str]
) -> None:
    """Resolve what each filter applies to; report references that would make it a no-op.

    A filter naming a rule that is not loaded (a typo, a renamed rule) or a correlation rule
    would silently tune nothing, so both are errors, as is a filter that applies to no rule.
    """
    by_ref: dict[str, SigmaRule | SigmaCorrelationRule] = {}
    for rule in rules:
        if rule.name:
            by_ref[rule.name] = rule
        if rule.id:
            by_ref[str(rule.id)] = rule
    for info in filters:
        for ref in info.references:
            target = by_ref.get(ref)
            if target is None:
                problems.append(f"{info.source}: {info.label}: rule '{ref}' is not loaded "
                                "(name it by the rule's id or name: `trailguard rules`)")
            elif isinstance(target, SigmaCorrelationRule):
                problems.append(f"{info.source}: {info.label}: '{ref}' is a correlation rule; "
                                "filters apply to detection rules: name the rules it "
                                "correlates")
        info.rules = [str(r.name or r.id) for r in rules if applies_to(info, r)]
        if not info.rules and not any(p.startswith(f"{info.source}: {info.label}")
                                      for p in problems):
            problems.append(f"{info.source}: {info.label}: applies to no loaded rule (check its "
                            "logsource: product aws, service cloudtrail)")
