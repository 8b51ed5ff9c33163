"""Sigma to DuckDB SQL: a pySigma backend, a CloudTrail pipeline, and rule evaluation.

Public API: :func:`compile_rule`, :func:`records_to_table`, :class:`Detector`, :class:`Match`,
:func:`export_rules`.
"""

from trailguard.sigma.backend import CloudTrailDuckDBBackend, RuleCompileError, compile_rule
from trailguard.sigma.detector import Detector, Match
from trailguard.sigma.export import ExportError, export_rules, installed_targets
from trailguard.sigma.pipeline import UnknownFieldError, cloudtrail_pipeline, field_sql
from trailguard.sigma.records import records_to_table

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
