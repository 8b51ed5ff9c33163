"""The compiled rule set every scanning entry point runs: the CLI, the Lambda handler, benches.

:func:`load_detector` gives the detector over the shipped rules plus extra rule folders and
Sigma filters, with each rule's metadata, from the compiled-rule cache when nothing changed
(:mod:`trailguard.scan.rulecache`), else compiled (:func:`compile_detector`) and cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class RulesError(ValueError):
    """The rules or filters cannot be loaded or compiled; the message says which and why."""


def compile_detector(
    extra: Sequence[Path], filters: Sequence[Path] = ()
) -> tuple[Any, dict[int, Any]]:
    """Load, validate and compile the rules and filters (no cache); raises :class:`RulesError`."""
    from trailguard.detection.catalog import CatalogError, load_rules
    from trailguard.scan.convert import rule_meta
    from trailguard.sigma import Detector, RuleCompileError

    try:
        catalog = load_rules(extra, require_examples=False, filter_paths=filters)
    except CatalogError as exc:
        raise RulesError(str(exc)) from None
    try:
        detector = Detector(catalog.collection, filters=catalog.filters)
    except RuleCompileError as exc:
        raise RulesError(f"rules cannot be compiled: {exc}") from None
    metas = {id(info.rule): rule_meta(info.rule, info) for info in catalog.rules}
    return detector, metas


def load_detector(
    extra: Sequence[Path] = (), filters: Sequence[Path] = ()
) -> tuple[Any, dict[int, Any]]:
    """The detector over the shipped rules plus ``extra`` folders and ``filters``, and metas.

    ``metas`` maps ``id(rule)`` of the detector's rules to their metadata. Taken from the
    compiled-rule cache when the rules, filters, code and library versions are unchanged;
    compiled and cached otherwise. Raises :class:`RulesError`.
    """
    from trailguard.scan import rulecache

    key = rulecache.cache_key(extra, filters)
    cached = rulecache.load(key) if key else None
    if cached is not None:
        return cached
    detector, metas = compile_detector(extra, filters)
    if key:
        rulecache.store(key, detector, metas)
    return detector, metas
