"""CloudTrail coverage checks (CIS 3.1, 3.2, 3.5; v1.4 3.3 for the public log bucket).

Trails of every region come from ListTrails and DescribeTrails in each home region; each
trail's status and selectors are read in its home region.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from trailguard.audit.checks import check
from trailguard.audit.context import AuditContext, CheckError, CheckOutcome, error_reason
from trailguard.findings.model import Resource

_CRITICAL_SOURCES = ("iam.amazonaws.com", "cloudtrail.amazonaws.com", "sts.amazonaws.com")


def trails(ctx: AuditContext) -> list[dict[str, Any]]:
    """Every trail of the account, from every region, by ARN.

    ListTrails names the trails of all regions with their home region (one paginated call);
    each home region then describes its own. If ListTrails is denied, DescribeTrails in the
    session region (with shadow trails: every multi-region trail) is used instead.
    """

    def fetch() -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        try:
            listed = ctx.paginate(ctx.client("cloudtrail"), "list_trails", "Trails")
        except ClientError:
            listed = None
        if listed is None:
            resp = ctx.client("cloudtrail").describe_trails(includeShadowTrails=True)
            for t in resp.get("trailList", []):
                seen.setdefault(t["TrailARN"], t)
            return list(seen.values())
        by_region: dict[str, list[str]] = {}
        for t in listed:
            by_region.setdefault(t.get("HomeRegion") or ctx.region, []).append(t["TrailARN"])
        for region, arns in by_region.items():
            resp = ctx.client("cloudtrail", region).describe_trails(
                trailNameList=arns, includeShadowTrails=False
            )
            for t in resp.get("trailList", []):
                if t["TrailARN"] in arns:
                    seen.setdefault(t["TrailARN"], t)
        return list(seen.values())

    return ctx.cached("trails", fetch)


def _home(ctx: AuditContext, trail: dict[str, Any]) -> Any:
    return ctx.client("cloudtrail", trail.get("HomeRegion") or ctx.region)


def trail_status(ctx: AuditContext, trail: dict[str, Any]) -> dict[str, Any]:
    """GetTrailStatus of a trail, from its home region."""
    arn = trail["TrailARN"]
    return ctx.cached(f"trail_status:{arn}", lambda: _home(ctx, trail).get_trail_status(Name=arn))


def trail_selectors(ctx: AuditContext, trail: dict[str, Any]) -> dict[str, Any]:
    """GetEventSelectors of a trail (basic or advanced), from its home region."""
    arn = trail["TrailARN"]
    return ctx.cached(
        f"trail_selectors:{arn}", lambda: _home(ctx, trail).get_event_selectors(TrailName=arn)
    )


def _field(selector: dict[str, Any], name: str) -> dict[str, Any] | None:
    for f in selector.get("FieldSelectors", []):
        if f.get("Field") == name:
            return f
    return None


def records_management_writes(selectors: dict[str, Any]) -> bool:
    """True when the selectors record write management events of IAM, STS and CloudTrail."""
    basic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        return True  # AWS default: all management events
    for s in basic:
        if s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") in (
            "All", "WriteOnly",
        ):
            excluded = set(s.get("ExcludeManagementEventSources") or [])
            if not excluded & set(_CRITICAL_SOURCES):
                return True
    for s in advanced:
        cat = _field(s, "eventCategory")
        if not cat or "Management" not in (cat.get("Equals") or []):
            continue
        ro = _field(s, "readOnly")
        if ro and "true" in [v.lower() for v in ro.get("Equals") or []]:
            continue
        src = _field(s, "eventSource")
        if src and (set(src.get("NotEquals") or []) & set(_CRITICAL_SOURCES)):
            continue
        if src and src.get("Equals") and not set(_CRITICAL_SOURCES) <= set(src["Equals"]):
            continue
        return True
    return False


def _trail_resource(ctx: AuditContext, trail: dict[str, Any], **details: Any) -> Resource:
    return Resource(
        type="AwsCloudTrailTrail",
        id=trail["TrailARN"],
        name=trail.get("Name"),
        account_id=ctx.account_id,
        region=trail.get("HomeRegion"),
        details={
            "trail_name": trail.get("Name"),
            "trail_arn": trail["TrailARN"],
            "home_region": trail.get("HomeRegion"),
            "s3_bucket": trail.get("S3BucketName"),
            **details,
        },
    )


def _no_trail(ctx: AuditContext) -> Resource:
    return Resource(
        type="AwsAccount",
        id=f"arn:aws:iam::{ctx.account_id}:root",
        name="no CloudTrail trail",
        account_id=ctx.account_id,
        region=ctx.region,
        details={"problem": "no CloudTrail trail exists"},
    )


def _coverage(ctx: AuditContext, with_selectors: bool) -> CheckOutcome:
    """PASS when one trail meets every condition; else list each trail with what it misses."""
    out = CheckOutcome()
    candidates: list[Resource] = []
    for t in trails(ctx):
        out.evaluated += 1
        missing = []
        if not t.get("IsMultiRegionTrail"):
            missing.append("not multi-region")
        try:
            if not trail_status(ctx, t).get("IsLogging"):
                missing.append("not logging")
            if with_selectors:
                if not t.get("IncludeGlobalServiceEvents"):
                    missing.append("global service events (IAM, STS) not included")
                if not records_management_writes(trail_selectors(ctx, t)):
                    missing.append("write management events not recorded")
        except CheckError as exc:
            out.errors.append(f"{t['Name']}: {exc}")
            continue
        if not missing:
            return CheckOutcome(evaluated=out.evaluated)
        candidates.append(_trail_resource(ctx, t, missing=missing))
    if out.errors and not candidates:
        return out
    out.failed = candidates or [_no_trail(ctx)]
    return out


@check("cloudtrail_multi_region_enabled")
def multi_region(ctx: AuditContext) -> CheckOutcome:
    """PASS when at least one multi-region trail is logging."""
    return _coverage(ctx, with_selectors=False)


@check("cloudtrail_multi_region_enabled_logging_management_events")
def multi_region_management(ctx: AuditContext) -> CheckOutcome:
    """PASS when a logging multi-region trail records write management and global events."""
    return _coverage(ctx, with_selectors=True)


def _trails_without(ctx: AuditContext, field: str, unset: Any) -> CheckOutcome:
    """FAIL for each trail whose GetTrail ``field`` is unset (the finding shows it as
    ``unset``), and once when there is no trail at all."""
    out = CheckOutcome()
    for t in trails(ctx):
        out.evaluated += 1
        if not t.get(field):
            out.failed.append(_trail_resource(ctx, t, **{field: unset}))
    if not out.evaluated:
        out.failed.append(_no_trail(ctx))
    return out


@check("cloudtrail_log_file_validation_enabled")
def log_file_validation(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each trail without log file validation (and when there is no trail)."""
    return _trails_without(ctx, "LogFileValidationEnabled", False)


@check("cloudtrail_kms_encryption_enabled")
def kms_encryption(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each trail that does not encrypt with a KMS key (and when there is no trail)."""
    return _trails_without(ctx, "KmsKeyId", None)


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _account_block(ctx: AuditContext) -> dict[str, Any]:
    """Account-level S3 Block Public Access, or {} when unset or unreadable."""

    def fetch() -> dict[str, Any]:
        try:
            resp = ctx.client("s3control").get_public_access_block(AccountId=ctx.account_id)
            return resp.get("PublicAccessBlockConfiguration", {})
        except (ClientError, BotoCoreError) as exc:
            ctx.notes.append(f"account-level S3 Block Public Access not read: {error_reason(exc)}")
            return {}

    return ctx.cached("s3_account_public_access_block", fetch)


def bucket_exposure(ctx: AuditContext, bucket: str) -> dict[str, Any]:
    """Say whether ``bucket`` is public: block settings, policy status and ACL grants.

    Calls carry ExpectedBucketOwner, so a bucket of another account fails with AccessDenied
    rather than being judged on someone else's settings.
    """
    s3 = ctx.client("s3")
    owner = {"ExpectedBucketOwner": ctx.account_id}
    block = dict(_account_block(ctx))
    try:
        cfg = s3.get_public_access_block(Bucket=bucket, **owner)["PublicAccessBlockConfiguration"]
        block = {k: bool(block.get(k)) or bool(v) for k, v in cfg.items()}
    except ClientError as exc:
        if _code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
    policy_public = False
    try:
        policy_public = bool(
            s3.get_bucket_policy_status(Bucket=bucket, **owner)["PolicyStatus"].get("IsPublic")
        )
    except ClientError as exc:
        if _code(exc) != "NoSuchBucketPolicy":
            raise
    grants = s3.get_bucket_acl(Bucket=bucket, **owner).get("Grants", [])
    public_grants = [
        f"{g['Grantee']['URI'].rsplit('/', 1)[-1]}:{g.get('Permission')}"
        for g in grants
        if g.get("Grantee", {}).get("URI", "").endswith(("/AllUsers", "/AuthenticatedUsers"))
    ]
    reasons = []
    if policy_public and not block.get("RestrictPublicBuckets"):
        reasons.append("bucket policy is public")
    if public_grants and not block.get("IgnorePublicAcls"):
        reasons.append("ACL grants " + ", ".join(public_grants))
    return {"public": bool(reasons), "reasons": reasons, "public_access_block": block}


@check("cloudtrail_logs_s3_bucket_is_not_publicly_accessible")
def log_bucket_not_public(ctx: AuditContext) -> CheckOutcome:
    """FAIL for each trail whose log bucket is public; ERROR for buckets that cannot be read.

    No trail at all is a FAIL too (like the other trail checks): there are no logs to protect
    yet, and a PASS would read as "your logs are safe".
    """
    out = CheckOutcome()
    all_trails = trails(ctx)
    if not all_trails:
        out.failed.append(_no_trail(ctx))
        out.reason = "no CloudTrail trail exists, so no log bucket to check"
        return out
    for t in all_trails:
        bucket = t.get("S3BucketName")
        if not bucket:
            continue
        out.evaluated += 1
        try:
            exposure = ctx.cached(
                f"bucket_exposure:{bucket}", lambda b=bucket: bucket_exposure(ctx, b)
            )
        except CheckError as exc:
            hint = ""
            if "AccessDenied" in str(exc):
                hint = f" (bucket owned by another account than {ctx.account_id}, or access denied)"
            out.errors.append(f"bucket {bucket} of trail {t['Name']}: {exc}{hint}")
            continue
        if exposure["public"]:
            out.failed.append(
                _trail_resource(ctx, t, bucket=bucket, public_because=exposure["reasons"],
                                public_access_block=exposure["public_access_block"])
            )
    return out


