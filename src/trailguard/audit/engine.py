"""Run posture checks against one account and turn their outcomes into Findings."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from trailguard.audit.catalog import CheckMeta, load_catalog
from trailguard.audit.checks import load_checks
from trailguard.audit.config import AuditConfig
from trailguard.audit.context import (
    ApiCallCounter,
    AuditContext,
    CheckError,
    CheckOutcome,
    error_reason,
)
from trailguard.findings.model import Finding, Status

MAX_REASON = 1000


class UnknownCheckError(ValueError):
    """A requested check id does not exist."""


def check_ids() -> list[str]:
    """All check ids, in catalog order."""
    load_checks()
    return list(load_catalog())


def select_checks(requested: list[str] | None) -> list[str]:
    """Validate requested check ids (None: all); raise UnknownCheckError naming the bad ones."""
    known = check_ids()
    if not requested:
        return known
    bad = [c for c in requested if c not in known]
    if bad:
        raise UnknownCheckError(f"unknown check id(s): {', '.join(bad)}")
    return list(dict.fromkeys(requested))


def make_finding(
    meta: CheckMeta,
    status: Status,
    account_id: str | None,
    outcome: CheckOutcome | None = None,
    reason: str | None = None,
    observed_at: datetime | None = None,
) -> Finding:
    """Build the Finding of one check result (PASS, FAIL or ERROR)."""
    return Finding(
        kind="posture",
        rule_id=meta.id,
        title=meta.title,
        severity=meta.severity,
        status=status,
        description=meta.description,
        cis=list(meta.cis),
        account_id=account_id,
        resources=list(outcome.failed) if outcome else [],
        explain=meta.explain,
        remediation=meta.remediation,
        reason=(reason[:MAX_REASON] if reason else None),
        observed_at=observed_at,
    )


def error_findings(ids: list[str], account_id: str | None, reason: str) -> list[Finding]:
    """ERROR findings for checks that could not run at all (e.g. AssumeRole failed)."""
    catalog = load_catalog()
    now = datetime.now(UTC)
    return [make_finding(catalog[c], Status.ERROR, account_id, reason=reason, observed_at=now)
            for c in ids]


def run_audit(
    session: boto3.Session,
    config: AuditConfig | None = None,
    check_ids: list[str] | None = None,
    *,
    now: datetime | None = None,
    counter: ApiCallCounter | None = None,
) -> list[Finding]:
    """Audit the account of ``session`` (read-only) and return one Finding per check.

    ``check_ids`` limits the run (None: every check). ``now`` is the reference time for
    credential ages (default: the current time). ``counter`` receives API call counts.
    A check that cannot run is an ERROR finding with the reason; the others still run.
    """
    ids = select_checks(check_ids)
    checks = load_checks()
    catalog = load_catalog()
    ctx = AuditContext(session, config or AuditConfig(), now=now, counter=counter)
    try:
        account_id: str | None = ctx.account_id
    except CheckError as exc:
        return error_findings(ids, None, f"cannot identify the account: {exc}")
    findings = []
    for cid in ids:
        meta = catalog[cid]
        observed = datetime.now(UTC)
        try:
            outcome = checks[cid](ctx)
        except Exception as exc:  # noqa: BLE001 - one broken check must not stop the audit
            findings.append(make_finding(meta, Status.ERROR, account_id,
                                         reason=error_reason(exc), observed_at=observed))
            continue
        if outcome.failed:
            status = Status.FAIL
        elif outcome.errors:
            status = Status.ERROR
        else:
            status = Status.PASS
        reason = "; ".join(outcome.errors) if outcome.errors else None
        if status is Status.FAIL and reason:
            reason = f"partial: {reason}"
        findings.append(make_finding(meta, status, account_id, outcome, reason, observed))
    return findings
