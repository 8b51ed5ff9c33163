"""Posture audit of a live AWS account (read-only): IAM, root, CloudTrail and alerting checks."""

from trailguard.audit.config import AuditConfig, load_config
from trailguard.audit.engine import check_ids, run_audit

__all__ = ["AuditConfig", "check_ids", "load_config", "run_audit"]
