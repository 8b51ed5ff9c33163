"""Posture check functions, registered by check id (metadata in ../catalog.yaml)."""

from __future__ import annotations

from collections.abc import Callable

from trailguard.audit.context import AuditContext, CheckOutcome

CheckFn = Callable[[AuditContext], CheckOutcome]
CHECKS: dict[str, CheckFn] = {}


def check(check_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register a function as the implementation of ``check_id``."""

    def deco(fn: CheckFn) -> CheckFn:
        CHECKS[check_id] = fn
        return fn

    return deco


def load_checks() -> dict[str, CheckFn]:
    """Import every check module and return the registry."""
    from trailguard.audit.checks import (  # noqa: F401
        alerting,
        cloudtrail,
        iam_credentials,
        iam_password_policy,
        iam_root,
    )

    return CHECKS
