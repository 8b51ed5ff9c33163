"""Sigma to DuckDB SQL: a pySigma backend, a CloudTrail pipeline, and rule evaluation.

Public API: :func:`compile_rule`, :func:`records_to_table`, :class:`Detector`, :class:`Match`,
:func:`export_rules`.

The names are loaded on first use (PEP 562), so that importing a runtime module such as
:mod:`trailguard.sigma.detector` — which a detector loaded from the rule cache needs — does
not import pySigma and the backend.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trailguard.sigma.backend import CloudTrailDuckDBBackend, RuleCompileError, compile_rule
    from trailguard.sigma.detector import Detector, Match
    from trailguard.sigma.export import ExportError, export_rules, installed_targets
    from trailguard.sigma.pipeline import UnknownFieldError, cloudtrail_pipeline, field_sql
    from trailguard.sigma.records import records_to_table

_WHERE = {
    "CloudTrailDuckDBBackend": "backend",
    "RuleCompileError": "backend",
    "compile_rule": "backend",
    "Detector": "detector",
    "Match": "detector",
    "ExportError": "export",
    "export_rules": "export",
    "installed_targets": "export",
    "UnknownFieldError": "pipeline",
    "cloudtrail_pipeline": "pipeline",
    "field_sql": "pipeline",
    "records_to_table": "records",
}

__all__ = [
    "CloudTrailDuckDBBackend",
    "Detector",
    "ExportError",
    "Match",
    "RuleCompileError",
    "UnknownFieldError",
    "cloudtrail_pipeline",
    "compile_rule",
    "export_rules",
    "field_sql",
    "installed_targets",
    "records_to_table",
]


def __getattr__(name: str) -> Any:
    """Import the public name ``name`` from its module on first access."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, public ones included before they are loaded."""
    return sorted(set(globals()) | set(__all__))
