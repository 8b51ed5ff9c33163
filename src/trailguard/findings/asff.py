"""The ``asff`` format: AWS Security Finding Format, ready for Security Hub BatchImportFindings.

The file is a JSON list of findings. Security Hub takes at most 100 findings per call, and
imports a finding only in the region its ``ProductArn`` names (the finding's region;
us-east-1 for global IAM and sign-in events). :func:`batches_by_region` splits a file
accordingly::

    import json, boto3
    from trailguard.findings.asff import batches_by_region
    for region, batch in batches_by_region(json.load(open("report.asff.json"))):
        boto3.client("securityhub", region_name=region).batch_import_findings(Findings=batch)

The ``ProductArn`` names the finding's own account as the importing account (the usual single-
account case); a delegated administrator importing findings of member accounts rewrites it
with :func:`for_importer` first.

Ids are stable across runs (a hash of what identifies the finding, not of when it was seen),
so a re-import updates the existing Security Hub finding instead of adding a duplicate, and a
posture check that starts to pass flips the same finding to PASSED.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Iterator
from typing import IO, Any

from trailguard import __version__
from trailguard.findings.common import dumps_indented, first_seen, iso_z, last_seen
from trailguard.findings.ids import finding_account, finding_ids, finding_region
from trailguard.findings.mitre import asff_types
from trailguard.findings.model import Finding, Report, Resource, Severity, Status

SCHEMA_VERSION = "2018-10-08"
CIS_STANDARD = "CIS AWS Foundations Benchmark v3.0.0"
CIS_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/"
    "CIS AWS Foundations Benchmark"
)
BEST_PRACTICE_TYPE = "Software and Configuration Checks/AWS Security Best Practices"
DEFAULT_DETECTION_TYPE = "Unusual Behaviors/User"
DEFAULT_REGION = "us-east-1"  # IAM and sign-in are global; CloudTrail records them here

MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_REMEDIATION = 512
MAX_RESOURCES = 32
MAX_PRODUCT_FIELDS = 50
MAX_FIELD_VALUE = 2048
MAX_BATCH = 100

SEVERITY_LABEL = {
    Severity.info: "INFORMATIONAL",
    Severity.low: "LOW",
    Severity.medium: "MEDIUM",
    Severity.high: "HIGH",
    Severity.critical: "CRITICAL",
}
# a MUTED result (accepted risk) still fails the control; its Workflow.Status is SUPPRESSED
COMPLIANCE_STATUS = {Status.PASS: "PASSED", Status.FAIL: "FAILED", Status.ERROR: "NOT_AVAILABLE",
                     Status.MUTED: "FAILED"}
WORKFLOW_STATUS = {Status.PASS: "RESOLVED", Status.FAIL: "NEW", Status.ERROR: "NEW",
                   Status.MUTED: "SUPPRESSED"}


def _s(value: object, limit: int | None = None) -> str:
    """One-line text (Security Hub strings must match ``.*\\S.*``), cut to ``limit`` chars."""
    text = " ".join(str(value).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _partition(arn_or_region: str | None) -> str:
    value = arn_or_region or ""
    if value.startswith("arn:"):
        return value.split(":", 2)[1] or "aws"
    if value.startswith("cn-"):
        return "aws-cn"
    if value.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _region(f: Finding) -> str:
    return finding_region(f) or DEFAULT_REGION


def _scalar(value: Any) -> str | int | float | bool | None:
    """A details value as one ``Other`` string map value: scalars as they are, a list of
    scalars (the grantees of a share) joined with ``, ``; anything else left out."""
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list) and value and all(
        isinstance(v, str | int | float | bool) for v in value
    ):
        return ", ".join(str(v) for v in value)
    return None


def _resource(r: Resource, f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Type": _s(r.type or "Other", 256) or "Other",
        "Id": _s(r.id, 512),
        "Partition": _partition(r.id if r.id.startswith("arn:") else (r.region or _region(f))),
        "Region": r.region or _region(f),
    }
    other = {
        _s(k, 128): _s(v, MAX_FIELD_VALUE)
        for k, v in ((k, _scalar(v)) for k, v in list(r.details.items())[:MAX_PRODUCT_FIELDS])
        if v is not None and _s(k) and _s(v)
    }
    if r.name and _s(r.name):
        other = {"name": _s(r.name, MAX_FIELD_VALUE), **other}
    if other:
        out["Details"] = {"Other": dict(list(other.items())[:MAX_PRODUCT_FIELDS])}
    return out


def _product_fields(f: Finding) -> dict[str, str]:
    a = f.actor
    fields: dict[str, object] = {
        "trailguard/Kind": f.kind,
        "trailguard/RuleId": f.rule_id,
        "trailguard/Status": f.status.value,
        "trailguard/Count": f.count if f.kind == "detection" else None,
        "trailguard/EventName": f.event_name,
        "trailguard/EventSource": f.event_source,
        "trailguard/ErrorCode": f.error_code,
        "trailguard/EventIds": ",".join(f.event_ids) or f.event_id,
        "trailguard/ActorType": a.identity_type if a else None,
        "trailguard/ActorArn": a.arn if a else None,
        "trailguard/ActorPrincipalId": a.principal_id if a else None,
        "trailguard/SessionIssuerArn": a.session_issuer_arn if a else None,
        "trailguard/AccessKeyId": a.access_key_id if a else None,
        "trailguard/MfaAuthenticated": (
            str(a.mfa_authenticated).lower() if a and a.mfa_authenticated is not None else None
        ),
        "trailguard/SourceIp": a.source_ip if a else None,
        "trailguard/UserAgent": a.user_agent if a else None,
        "trailguard/InvokedBy": a.invoked_by if a else None,
        "trailguard/Mitre": ",".join(f.mitre),
        "trailguard/Cis": ",".join(f.cis),
        "trailguard/Explain": f"trailguard explain {f.explain}" if f.explain else None,
        "trailguard/Reason": f.reason,
        "trailguard/ResourcesTotal": len(f.resources) if len(f.resources) > MAX_RESOURCES else None,
        "trailguard/Version": __version__,
    }
    out = {k: _s(v, MAX_FIELD_VALUE) for k, v in fields.items() if v is not None and _s(v)}
    return dict(list(out.items())[:MAX_PRODUCT_FIELDS])


def _action(f: Finding) -> dict[str, Any] | None:
    if f.kind != "detection" or not f.event_name:
        return None
    call: dict[str, Any] = {"Api": _s(f.event_name, 256)}
    if f.event_source:
        call["ServiceName"] = _s(f.event_source, 256)
    source = f.actor.source_ip if f.actor else None
    if source:
        try:
            ip = ipaddress.ip_address(source)
        except ValueError:
            # CloudTrail puts a service name here when an AWS service made the call
            call["CallerType"] = "domain"
            call["DomainDetails"] = {"Domain": _s(source, 256)}
        else:
            call["CallerType"] = "remoteip"
            if ip.version == 4:
                call["RemoteIpDetails"] = {"IpAddressV4": str(ip)}
    if iso_z(first_seen(f)):
        call["FirstSeen"] = iso_z(first_seen(f))
    if iso_z(last_seen(f)):
        call["LastSeen"] = iso_z(last_seen(f))
    return {"ActionType": "AWS_API_CALL", "AwsApiCallAction": call}


def _description(f: Finding) -> str:
    text = f.description or f.title
    if f.kind == "detection" and f.count > 1:
        text = f"{text} ({f.count} events)"
    if f.status is Status.ERROR and f.reason:
        text = f"{text} Check could not run: {f.reason}"
    elif f.status is Status.MUTED and f.reason:
        text = f"{text} Muted: {f.reason}"
    return _s(text, MAX_DESCRIPTION)


def _remediation(f: Finding) -> str:
    hints = []
    if f.remediation:
        hints.append(f.remediation if " " in f.remediation
                     else f"trailguard remediate action: {f.remediation}.")
    if f.explain:
        hints.append(f"Run `trailguard explain {f.explain}` for investigation and response.")
    return _s(" ".join(hints) or "Review the finding with trailguard.", MAX_REMEDIATION)


def to_asff(f: Finding, report: Report, finding_id: str) -> dict[str, Any]:
    """One Security Hub finding for ``f``; ``finding_id`` comes from :func:`asff_findings`."""
    account = finding_account(f)
    if account is None:
        raise ValueError(
            f"finding {f.rule_id!r} has no 12-digit AWS account id; ASFF requires AwsAccountId"
        )
    region = _region(f)
    created = iso_z(first_seen(f)) or iso_z(report.generated_at)
    updated = iso_z(report.generated_at)
    label = SEVERITY_LABEL[f.severity]
    if f.kind == "detection":
        types = asff_types(f.mitre) or [DEFAULT_DETECTION_TYPE]
    else:
        types = [CIS_TYPE] if f.cis else [BEST_PRACTICE_TYPE]
    resources = [_resource(r, f) for r in f.resources[:MAX_RESOURCES]] or [
        {
            "Type": "AwsAccount",
            "Id": f"AWS::::Account:{account}",
            "Partition": _partition(region),
            "Region": region,
        }
    ]
    out: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id,
        "ProductArn": f"arn:{_partition(region)}:securityhub:{region}:{account}:product/"
        f"{account}/default",
        "ProductName": "trailguard",
        "CompanyName": "trailguard",
        "GeneratorId": _s(f"trailguard-{f.kind}-{f.rule_id}", 512),
        "AwsAccountId": account,
        "Types": types[:50],
        "CreatedAt": created,
        "UpdatedAt": updated,
        "Severity": {"Label": label, "Original": f.severity.value},
        "Title": _s(f.title, MAX_TITLE) or f.rule_id,
        "Description": _description(f) or f.rule_id,
        "Remediation": {"Recommendation": {"Text": _remediation(f)}},
        "ProductFields": _product_fields(f),
        "Resources": resources,
        "RecordState": "ACTIVE",
        "Workflow": {"Status": WORKFLOW_STATUS[f.status]},
        "FindingProviderFields": {"Severity": {"Label": label, "Original": f.severity.value},
                                  "Types": types[:50]},
    }
    seen_first, seen_last = iso_z(first_seen(f)), iso_z(last_seen(f))
    if seen_first:
        out["FirstObservedAt"] = seen_first
    if seen_last:
        out["LastObservedAt"] = seen_last
    if f.kind == "posture":
        compliance: dict[str, Any] = {"Status": COMPLIANCE_STATUS[f.status]}
        if f.cis:
            compliance["RelatedRequirements"] = [f"{CIS_STANDARD}/{c}" for c in f.cis][:32]
        out["Compliance"] = compliance
    action = _action(f)
    if action:
        out["Action"] = action
    return out


def asff_findings(
    report: Report, left_out: list[tuple[Finding, str]] | None = None
) -> list[dict[str, Any]]:
    """Every finding of the report in ASFF, with the stable, unique Ids of :mod:`.ids`.

    A finding ASFF cannot express (no 12-digit account id) is left out and, with its reason,
    appended to ``left_out``; the others are still converted. Without ``left_out`` such a
    finding raises ValueError (as :func:`to_asff` does).
    """
    out = []
    for f, fid in zip(report.findings, finding_ids(report), strict=True):
        try:
            out.append(to_asff(f, report, fid))
        except ValueError as exc:
            if left_out is None:
                raise
            left_out.append((f, str(exc)))
    return out


def batches(findings: list[dict[str, Any]], size: int = MAX_BATCH) -> Iterator[list[dict]]:
    """Split findings into BatchImportFindings-sized lists (Security Hub takes 100 a call)."""
    for i in range(0, len(findings), size):
        yield findings[i : i + size]


def batches_by_region(findings: list[dict[str, Any]],
                      size: int = MAX_BATCH) -> Iterator[tuple[str, list[dict]]]:
    """``(region, batch)`` pairs: each batch one BatchImportFindings call in that region."""
    regions: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        regions.setdefault(f["ProductArn"].split(":")[3], []).append(f)
    for region in sorted(regions):
        for batch in batches(regions[region], size):
            yield region, batch


def for_importer(findings: list[dict[str, Any]], account_id: str) -> list[dict[str, Any]]:
    """Copies of ``findings`` whose ProductArn names ``account_id`` as the importing account.

    For a Security Hub administrator importing member accounts' findings: ``AwsAccountId``
    keeps the account each finding is about.
    """
    out = []
    for f in findings:
        partition, region = f["ProductArn"].split(":")[1], f["ProductArn"].split(":")[3]
        arn = f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"
        out.append({**f, "ProductArn": arn})
    return out


def write_asff(report: Report, stream: IO[str], warnings: IO[str] | None = None) -> int:
    """Write the report as a JSON list of ASFF findings; return how many were left out.

    A finding that cannot be expressed in ASFF never stops the report: a warning naming its
    rule goes to ``warnings`` (stderr by default) and the rest is written.
    """
    left_out: list[tuple[Finding, str]] = []
    stream.write(dumps_indented(asff_findings(report, left_out)))
    err = warnings or sys.stderr
    for f, reason in left_out:
        err.write(f"warning: asff: finding of rule '{f.title}' ({f.rule_id}) left out: {reason}\n")
    if left_out:
        err.write(f"warning: asff: {len(left_out)} finding(s) left out of the report\n")
    return len(left_out)
