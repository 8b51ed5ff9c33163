"""Account password policy checks (CIS 1.8, 1.9 and the older v1.2 composition/expiry items)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from trailguard.audit.checks import check
from trailguard.audit.context import AuditContext, CheckOutcome
from trailguard.findings.model import Resource


def password_policy(ctx: AuditContext) -> dict[str, Any] | None:
    """Return the account password policy, or None when none is set (NoSuchEntity)."""

    def fetch() -> dict[str, Any] | None:
        try:
            return ctx.client("iam").get_account_password_policy()["PasswordPolicy"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return None
            raise

    return ctx.cached("password_policy", fetch)


def _outcome(ctx: AuditContext, ok: bool, problem: str, **expected: Any) -> CheckOutcome:
    policy = password_policy(ctx)
    out = CheckOutcome(evaluated=1)
    if policy is not None and ok:
        return out
    out.failed.append(
        Resource(
            type="AwsAccountPasswordPolicy",
            id=f"arn:aws:iam::{ctx.account_id}:account-password-policy",
            name="account password policy",
            account_id=ctx.account_id,
            details={
                "problem": "no password policy is set" if policy is None else problem,
                "current": policy,
                "expected": expected,
            },
        )
    )
    return out


@check("iam_password_policy_exists")
def policy_exists(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the account has no password policy."""
    return _outcome(ctx, True, "")


@check("iam_password_policy_minimum_length_14")
def minimum_length(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the minimum length is below the configured value (14)."""
    want = ctx.config.password_policy.minimum_length
    have = (password_policy(ctx) or {}).get("MinimumPasswordLength", 0)
    return _outcome(
        ctx, have >= want, f"MinimumPasswordLength is {have}", MinimumPasswordLength=want
    )


@check("iam_password_policy_reuse_24")
def reuse_prevention(ctx: AuditContext) -> CheckOutcome:
    """FAIL when fewer than the configured number (24) of old passwords are remembered."""
    want = ctx.config.password_policy.reuse_prevention
    have = (password_policy(ctx) or {}).get("PasswordReusePrevention", 0)
    return _outcome(
        ctx, have >= want, f"PasswordReusePrevention is {have or 'not set'}",
        PasswordReusePrevention=want,
    )


def _flag(ctx: AuditContext, key: str) -> CheckOutcome:
    have = bool((password_policy(ctx) or {}).get(key, False))
    return _outcome(ctx, have, f"{key} is false", **{key: True})


@check("iam_password_policy_uppercase")
def uppercase(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the policy does not require an uppercase letter."""
    return _flag(ctx, "RequireUppercaseCharacters")


@check("iam_password_policy_lowercase")
def lowercase(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the policy does not require a lowercase letter."""
    return _flag(ctx, "RequireLowercaseCharacters")


@check("iam_password_policy_symbol")
def symbol(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the policy does not require a symbol."""
    return _flag(ctx, "RequireSymbols")


@check("iam_password_policy_number")
def number(ctx: AuditContext) -> CheckOutcome:
    """FAIL when the policy does not require a number."""
    return _flag(ctx, "RequireNumbers")


@check("iam_password_policy_expires_passwords_within_90_days_or_less")
def expiry(ctx: AuditContext) -> CheckOutcome:
    """FAIL when passwords never expire or expire later than the configured days (90)."""
    want = ctx.config.password_policy.max_age_days
    have = (password_policy(ctx) or {}).get("MaxPasswordAge") or None  # 0/absent: never
    return _outcome(
        ctx, have is not None and have <= want,
        f"MaxPasswordAge is {have if have is not None else 'not set (never expire)'}",
        MaxPasswordAge=want,
    )
