"""Run posture checks against one account and turn their outcomes into Findings."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

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
from trailguard.audit.exceptions import PARTIAL
from trailguard.aws import client_config
from trailguard.findings.model import Finding, Status

MAX_REASON = 1000


class UnknownCheckError(ValueError):
    """A requested check id does not exist."""


class CredentialsProblem(RuntimeError):
    """The session's credentials cannot be used at all (none, expired, rejected, no endpoint)."""


# Error codes meaning "these credentials are not accepted", not "this call is not allowed".
REJECTED_CODES = frozenset({
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch",
    "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure", "RequestExpired",
    "IncompleteSignature", "MissingAuthenticationToken",
})
CREDENTIALS_HINT = ("use --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                    "or sign in again (aws sso login / aws configure)")


def credentials_problem(exc: BaseException) -> str | None:
    """A one-line explanation when ``exc`` means the credentials are unusable, else None."""
    if isinstance(exc, NoCredentialsError):
        return f"no AWS credentials found; {CREDENTIALS_HINT}"
    if isinstance(exc, PartialCredentialsError):
        return f"incomplete AWS credentials ({exc}); {CREDENTIALS_HINT}"
    if isinstance(exc, ClientError):
        if str(exc.response.get("Error", {}).get("Code", "")) in REJECTED_CODES:
            return f"the AWS credentials were rejected ({error_reason(exc)}); {CREDENTIALS_HINT}"
        return None
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach AWS: {exc}; check the network, proxy, --region or AWS_ENDPOINT_URL"
    if isinstance(exc, BotoCoreError):  # expired SSO token, bad profile source, ...
        return f"cannot use the AWS credentials: {exc}"
    return None


def identify_account(session: boto3.Session, counter: ApiCallCounter | None = None) -> str:
    """The account id of ``session`` (sts:GetCallerIdentity), checked once before any audit.

    Raises CredentialsProblem with one clear line when there are no usable credentials or no
    reachable endpoint, so the audit does not report the same failure once per check. Other
    errors (e.g. AccessDenied) propagate unchanged.
    """
    sts = session.client("sts", config=client_config(max_attempts=2).merge(
        Config(connect_timeout=10, read_timeout=20)))
    if counter is not None:
        sts.meta.events.register("before-call", counter)
    try:
        return str(sts.get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        problem = credentials_problem(exc)
        if problem:
            raise CredentialsProblem(problem) from exc
        raise


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
    account_id: str | None = None,
) -> list[Finding]:
    """Audit the account of ``session`` (read-only) and return one Finding per check.

    ``check_ids`` limits the run (None: every check). ``now`` is the reference time for
    credential ages (default: the current time). ``counter`` receives API call counts.
    ``account_id``: the account when already known (identify_account), saving a call.
    A check that cannot run is an ERROR finding with the reason; the others still run.
    """
    ids = select_checks(check_ids)
    checks = load_checks()
    catalog = load_catalog()
    ctx = AuditContext(session, config or AuditConfig(), now=now, counter=counter,
                       account_id=account_id)
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
            reason = f"{PARTIAL}{reason}"
        if status is Status.FAIL and outcome.reason:
            reason = f"{outcome.reason}; {reason}" if reason else outcome.reason
        findings.append(make_finding(meta, status, account_id, outcome, reason, observed))
    return findings
