"""Posture audit of a live AWS account (read-only): IAM, root, CloudTrail and alerting checks."""

from trailguard.audit.config import AuditConfig, AuditException, load_config
from trailguard.audit.engine import check_ids, run_audit
from trailguard.audit.exceptions import apply_exceptions

__all__ = ["AuditConfig", "AuditException", "apply_exceptions", "check_ids", "load_config",
           "run_audit"]
