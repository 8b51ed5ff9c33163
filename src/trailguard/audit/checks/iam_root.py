"""Root user checks (CIS 1.4-1.7): access keys, MFA, hardware MFA, recent use."""

from __future__ import annotations

from typing import Any

from trailguard.audit.checks import check
from trailguard.audit.checks.iam_credentials import credential_report
from trailguard.audit.context import AuditContext, CheckError, CheckOutcome
from trailguard.findings.model import Resource


def account_summary(ctx: AuditContext) -> dict[str, Any]:
    """IAM GetAccountSummary's SummaryMap (root MFA and root access key flags)."""
    return ctx.cached(
        "account_summary", lambda: ctx.client("iam").get_account_summary()["SummaryMap"]
    )


def _root(ctx: AuditContext, **details: Any) -> Resource:
    return Resource(
        type="AwsAccount",
        id=f"arn:aws:iam::{ctx.account_id}:root",
        name="root",
        account_id=ctx.account_id,
        details=details,
    )


def _summary_flag(ctx: AuditContext, key: str, fail_when: bool) -> CheckOutcome:
    """FAIL on root when the account summary's ``key`` is truthy == ``fail_when``; ERROR
    (CheckError) when the summary leaves ``key`` out."""
    value = account_summary(ctx).get(key)
    if value is None:
        raise CheckError(f"GetAccountSummary returned no {key}")
    out = CheckOutcome(evaluated=1)
    if bool(value) is fail_when:
        out.failed.append(_root(ctx, **{key: value}))
    return out


@check("iam_no_root_access_key")
def no_root_access_key(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the account summary says root has access keys (AccountAccessKeysPresent)."""
    return _summary_flag(ctx, "AccountAccessKeysPresent", fail_when=True)


@check("iam_root_mfa_enabled")
def root_mfa(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the account summary says root has no MFA (AccountMFAEnabled)."""
    return _summary_flag(ctx, "AccountMFAEnabled", fail_when=False)


def _root_virtual_mfa(ctx: AuditContext) -> list[str]:
    iam = ctx.client("iam")
    devices = ctx.cached(
        "virtual_mfa_assigned",
        lambda: ctx.paginate(
            iam, "list_virtual_mfa_devices", "VirtualMFADevices", AssignmentStatus="Assigned"
        ),
    )
    serials = []
    for d in devices:
        arn = (d.get("User") or {}).get("Arn", "")
        if arn.endswith(":root") or d["SerialNumber"].endswith(":mfa/root-account-mfa-device"):
            serials.append(d["SerialNumber"])
    return serials


@check("iam_root_hardware_mfa_enabled")
def root_hardware_mfa(ctx: AuditContext) -> CheckOutcome:
    """FAIL when root has no MFA, or its MFA is a virtual device assigned to root."""
    out = CheckOutcome(evaluated=1)
    if not account_summary(ctx).get("AccountMFAEnabled"):
        out.failed.append(_root(ctx, problem="root has no MFA device"))
        return out
    virtual = _root_virtual_mfa(ctx)
    if virtual:
        out.failed.append(_root(ctx, problem="root MFA is virtual", virtual_mfa=virtual))
    return out


@check("iam_avoid_root_usage")
def root_recent_use(ctx: AuditContext) -> CheckOutcome:
    """FAIL when root's password or keys were used within ``root.recent_use_days`` days.

    Needs the credential report's ``<root_account>`` row; without it the answer is unknown,
    reported as ERROR (never PASS).
    """
    rows = [r for r in credential_report(ctx) if r.is_root]
    if not rows:
        raise CheckError(
            "credential report has no <root_account> row: root use cannot be determined"
        )
    row = rows[0]
    limit = ctx.config.root.recent_use_days
    uses = {"password": row.password_last_used}
    uses.update({f"access_key_{k.slot}": k.last_used for k in row.keys})
    recent = {
        what: d.isoformat()
        for what, d in uses.items()
        if d is not None and (ctx.now - d).days < limit
    }
    out = CheckOutcome(evaluated=1)
    if recent:
        out.failed.append(_root(ctx, recent_use=recent, window_days=limit))
    return out
