"""IAM user credential checks read from the credential report (CIS 1.10, 1.12-1.14).

Cost: the report covers every user in a handful of calls. Per-user calls happen only for users
that fail (to name the access key ids a fix needs, ``credentials.resolve_key_ids``) and, for
SSH public keys and signing certificates (the report has no last use for either, and
GetAccountAuthorizationDetails does not list them), only for users the report shows as
inactive: created more than ``unused_days`` ago, and no password or access-key use since.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from trailguard.audit.checks import check
from trailguard.audit.context import AuditContext, CheckError, CheckOutcome, error_reason
from trailguard.audit.credential_report import (
    CredentialRow,
    KeySlot,
    fetch_credential_report,
)
from trailguard.findings.model import Resource


def credential_report(ctx: AuditContext) -> list[CredentialRow]:
    """Return all rows of the credential report (generated once per account)."""

    def fetch() -> list[CredentialRow]:
        rows, generated = fetch_credential_report(
            ctx.client("iam"), timeout=ctx.config.credential_report.timeout_seconds
        )
        return rows

    return ctx.cached("credential_report", fetch)


def user_rows(ctx: AuditContext) -> list[CredentialRow]:
    """The credential report rows of IAM users (root excluded)."""
    return [r for r in credential_report(ctx) if not r.is_root]


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


def _days(ctx: AuditContext, d: datetime | None) -> int | None:
    return None if d is None else (ctx.now - d).days


def _key_ref(key: KeySlot) -> datetime | None:
    """When a key was last used, or created when never used."""
    return key.last_used or key.last_rotated


def _password_ref(row: CredentialRow) -> datetime | None:
    """When a password was last used, or set when never used."""
    return row.password_last_used or row.password_last_changed or row.created


def user_is_inactive(ctx: AuditContext, row: CredentialRow) -> bool:
    """True when the user is older than ``unused_days`` and used no password or key since."""
    limit = ctx.config.credentials.unused_days
    age = _days(ctx, row.created)
    if age is None or age < limit:
        return False
    if row.password_enabled:
        d = _days(ctx, _password_ref(row))
        if d is None or d < limit:
            return False
    for key in row.keys:  # a recent use of a key deactivated since still counts as activity
        if key.last_used is not None and _days(ctx, key.last_used) < limit:
            return False
        if key.active and (_days(ctx, _key_ref(key)) or 0) < limit:
            return False
    return True


def _user_keys(ctx: AuditContext, user: str) -> list[dict[str, Any]]:
    iam = ctx.client("iam")
    return ctx.cached(
        f"access_keys:{user}",
        lambda: ctx.paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=user),
    )


def _resolve_key_id(ctx: AuditContext, row: CredentialRow, key: KeySlot) -> dict[str, Any]:
    """Find the access key id of a report slot: the listed key created at ``last_rotated``.

    Slots are matched in order, each to a key not taken by an earlier slot, so two keys
    created in the same second still get different ids.
    """
    if not ctx.config.credentials.resolve_key_ids:
        return {"access_key_id": None}
    try:
        keys = sorted(_user_keys(ctx, row.user), key=lambda k: k["CreateDate"])
    except CheckError as exc:
        return {"access_key_id": None, "access_key_id_error": str(exc)}
    taken: set[str] = set()
    for slot in row.keys:
        free = [k for k in keys if k["AccessKeyId"] not in taken]
        same = [
            k for k in free
            if slot.last_rotated and abs((k["CreateDate"] - slot.last_rotated).total_seconds()) < 1
        ]
        pick = (same or free or [None])[0]
        if slot.slot == key.slot:
            if pick is None:
                return {"access_key_id": None,
                        "access_key_id_error": "key not found by list_access_keys"}
            return {"access_key_id": pick["AccessKeyId"], "status": pick["Status"]}
        if pick is not None and (slot.active or slot.last_rotated):
            taken.add(pick["AccessKeyId"])
    return {"access_key_id": None, "access_key_id_error": "no such key slot"}


def _key_resource(ctx: AuditContext, row: CredentialRow, key: KeySlot, **extra: Any) -> Resource:
    ident = _resolve_key_id(ctx, row, key)
    details = {
        "user_name": row.user,
        "user_arn": row.arn,
        "key_slot": key.slot,
        "status": ident.pop("status", "Active" if key.active else "Inactive"),
        **ident,
        "last_used_date": _iso(key.last_used),
        "last_used_service": key.last_used_service,
        "last_used_region": key.last_used_region,
        "created": _iso(key.last_rotated),
        **extra,
    }
    return Resource(
        type="AwsIamAccessKey",
        id=details["access_key_id"] or f"{row.arn}#access_key_{key.slot}",
        name=row.user,
        account_id=ctx.account_id,
        details=details,
    )


def _user_resource(ctx: AuditContext, row: CredentialRow, **details: Any) -> Resource:
    return Resource(
        type="AwsIamUser",
        id=row.arn,
        name=row.user,
        account_id=ctx.account_id,
        details={"user_name": row.user, **details},
    )


@check("iam_user_mfa_enabled_console_access")
def console_users_have_mfa(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each user with a console password and no active MFA device."""
    out = CheckOutcome()
    for row in user_rows(ctx):
        if not row.password_enabled:
            continue
        out.evaluated += 1
        if not row.mfa_active:
            out.failed.append(
                _user_resource(ctx, row, password_last_used=_iso(row.password_last_used))
            )
    return out


@check("iam_user_console_access_unused")
def console_access_unused(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each password not used (or, never used, not set) for ``unused_days`` or more."""
    limit = ctx.config.credentials.unused_days
    out = CheckOutcome()
    for row in user_rows(ctx):
        if not row.password_enabled:
            continue
        out.evaluated += 1
        days = _days(ctx, _password_ref(row))
        if days is not None and days >= limit:
            out.failed.append(
                _user_resource(
                    ctx, row,
                    password_last_used=_iso(row.password_last_used),
                    password_last_changed=_iso(row.password_last_changed),
                    days_unused=days,
                    never_used=row.password_last_used is None,
                )
            )
    return out


@check("iam_user_accesskey_unused")
def access_key_unused(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each active key unused for ``unused_days`` or more (never used: since creation)."""
    limit = ctx.config.credentials.unused_days
    out = CheckOutcome()
    for row in user_rows(ctx):
        for key in row.active_keys:
            out.evaluated += 1
            days = _days(ctx, _key_ref(key))
            if days is not None and days >= limit:
                out.failed.append(
                    _key_resource(
                        ctx, row, key, days_unused=days, never_used=key.last_used is None
                    )
                )
    return out


@check("iam_rotate_access_key_90_days")
def access_key_rotation(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each active key created more than ``access_key_max_age_days`` ago."""
    limit = ctx.config.credentials.access_key_max_age_days
    out = CheckOutcome()
    for row in user_rows(ctx):
        for key in row.active_keys:
            out.evaluated += 1
            age = _days(ctx, key.last_rotated)
            if age is not None and age > limit:
                out.failed.append(_key_resource(ctx, row, key, age_days=age))
    return out


@check("iam_user_two_active_access_key")
def two_active_keys(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each user with two active access keys; names the less recently used one."""
    out = CheckOutcome()
    for row in user_rows(ctx):
        out.evaluated += 1
        if len(row.active_keys) < 2:
            continue
        keys = [_key_resource(ctx, row, k).details for k in row.active_keys]
        older = min(keys, key=lambda k: k["last_used_date"] or k["created"] or "")
        out.failed.append(
            _user_resource(
                ctx, row, access_keys=keys, suggested_key_to_deactivate=older["access_key_id"]
            )
        )
    return out


def inactive_users(ctx: AuditContext) -> list[CredentialRow]:
    """Users the credential report shows as inactive (see ``user_is_inactive``)."""
    return [r for r in user_rows(ctx) if user_is_inactive(ctx, r)]


def _last_activity(row: CredentialRow) -> str | None:
    dates = [row.password_last_used, *(k.last_used for k in row.keys)]
    known = [d for d in dates if d is not None]
    return _iso(max(known)) if known else None


PER_USER_WORKERS = 4


def per_user(
    ctx: AuditContext, rows: list[CredentialRow], fetch: Callable[[str], list[dict[str, Any]]]
) -> list[list[dict[str, Any]] | Exception]:
    """Run ``fetch(user)`` for each row, a few at a time; an error is returned, not raised."""

    def one(row: CredentialRow) -> list[dict[str, Any]] | Exception:
        try:
            return fetch(row.user)
        except Exception as exc:  # noqa: BLE001 - reported per user, the others go on
            return exc

    if len(rows) < 2:
        return [one(r) for r in rows]
    with ThreadPoolExecutor(PER_USER_WORKERS) as pool:
        return list(pool.map(one, rows))


def _active_credentials(
    ctx: AuditContext, rows: list[CredentialRow], operation: str, items: str,
    id_field: str, resource_type: str, detail_id: str,
) -> CheckOutcome:
    """FAIL for each Active item that ``operation`` lists for the users in ``rows``."""
    iam = ctx.client("iam")
    out = CheckOutcome(evaluated=len(rows))
    listed = per_user(ctx, rows, lambda user: ctx.paginate(iam, operation, items, UserName=user))
    for row, found in zip(rows, listed, strict=True):
        if isinstance(found, Exception):
            out.errors.append(f"{row.user}: {error_reason(found)}")
            continue
        for item in found:
            if item.get("Status") != "Active":
                continue
            out.failed.append(
                Resource(
                    type=resource_type,
                    id=item[id_field],
                    name=row.user,
                    account_id=ctx.account_id,
                    details={
                        "user_name": row.user,
                        detail_id: item[id_field],
                        "status": item["Status"],
                        "upload_date": _iso(item.get("UploadDate")),
                        "user_last_activity": _last_activity(row),
                    },
                )
            )
    return out


@check("iam_user_ssh_public_key_inactive_user")
def ssh_keys_of_inactive_users(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each active SSH public key of an inactive user (one list call per such user)."""
    return _active_credentials(ctx, inactive_users(ctx), "list_ssh_public_keys",
                               "SSHPublicKeys", "SSHPublicKeyId", "AwsIamSshPublicKey",
                               "ssh_public_key_id")


@check("iam_user_signing_certificate_inactive_user")
def certificates_of_inactive_users(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each active signing certificate of an inactive user.

    The report's cert columns say which inactive users hold an active certificate, so only
    those are listed (to get the certificate ids).
    """
    rows = [r for r in inactive_users(ctx) if any(r.certs_active)]
    return _active_credentials(ctx, rows, "list_signing_certificates", "Certificates",
                               "CertificateId", "AwsIamSigningCertificate", "certificate_id")
