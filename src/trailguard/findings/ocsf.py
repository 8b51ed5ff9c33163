"""The ``ocsf`` format: a JSON array of OCSF 1.3 events.

Detections are *Detection Finding* (class 2004) events; posture results are *Compliance
Finding* (class 2003) events. Both are in the Findings category (2) with activity Create (1).
Timestamps are epoch milliseconds, as OCSF requires. Detections apply the ``cloud`` profile
(``cloud``, ``api``) and the ``host`` profile (``actor``); the actor, source endpoint, API call
and user agent are also given as an evidence artifact, where the Detection Finding class itself
expects them.
"""

from __future__ import annotations

import ipaddress
from typing import IO, Any

from trailguard import __version__
from trailguard.findings.common import dumps_indented, epoch_ms, first_seen, last_seen
from trailguard.findings.ids import finding_account, finding_ids, finding_region
from trailguard.findings.mitre import TACTICS, technique
from trailguard.findings.model import Actor, Finding, Report, Resource, Severity, Status

OCSF_VERSION = "1.3.0"
CATEGORY_FINDINGS = 2
CLASS_COMPLIANCE_FINDING = 2003
CLASS_DETECTION_FINDING = 2004
ACTIVITY_CREATE = 1
CIS_STANDARD = "CIS AWS Foundations Benchmark v3.0.0"
OTHER_STANDARD = "trailguard AWS posture checks"

SEVERITY_ID = {
    Severity.info: (1, "Informational"),
    Severity.low: (2, "Low"),
    Severity.medium: (3, "Medium"),
    Severity.high: (4, "High"),
    Severity.critical: (5, "Critical"),
}
# finding status_id (0 Unknown, 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 99 Other): a
# passing check has nothing open; failures and errors are new work; an accepted risk (MUTED)
# is Suppressed
FINDING_STATUS = {Status.FAIL: (1, "New"), Status.ERROR: (1, "New"), Status.PASS: (4, "Resolved"),
                  Status.MUTED: (3, "Suppressed")}
# compliance.status_id: 1 Pass, 2 Warning, 3 Fail, 99 Other (the check could not run); a
# muted result still fails the control: it is accepted, not compliant
COMPLIANCE_STATUS = {
    Status.PASS: (1, "Pass"),
    Status.FAIL: (3, "Fail"),
    Status.ERROR: (99, "Error"),
    Status.MUTED: (3, "Fail"),
}
# user.type_id: 1 User, 2 Admin, 3 System, 99 Other; ``type`` keeps CloudTrail's own name
USER_TYPE_ID = {"IAMUser": 1, "Root": 2, "AWSService": 3}
ACCOUNT_TYPE_AWS = 10  # account.type_id "AWS Account"


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop None, empty strings and empty containers, so every attribute present means something."""
    return {k: v for k, v in d.items() if v is not None and v != "" and v != [] and v != {}}


def _metadata(report: Report, profiles: list[str]) -> dict[str, Any]:
    return _clean({
        "version": OCSF_VERSION,
        "product": {"name": "trailguard", "vendor_name": "trailguard", "version": __version__},
        "profiles": profiles,
        "processed_time": epoch_ms(report.generated_at),
    })


def _account(uid: str | None) -> dict[str, Any] | None:
    return {"uid": uid, "type": "AWS Account", "type_id": ACCOUNT_TYPE_AWS} if uid else None


def _cloud(f: Finding) -> dict[str, Any]:
    return _clean({
        "provider": "AWS",
        "account": _account(finding_account(f)),
        "region": finding_region(f),
    })


def _partition(r: Resource) -> str | None:
    return r.id.split(":", 2)[1] if r.id.startswith("arn:") else None


def _resources(f: Finding) -> list[dict[str, Any]]:
    out = []
    for r in f.resources:
        owner = _account(r.account_id)
        out.append(_clean({
            "uid": r.id,
            "name": r.name,
            "type": r.type,
            "region": r.region,
            "cloud_partition": _partition(r),
            "owner": {"account": owner} if owner else None,
            "data": r.details or None,
        }))
    return out


def _endpoint(source: str | None) -> dict[str, Any] | None:
    if not source:
        return None
    try:
        return {"ip": str(ipaddress.ip_address(source))}
    except ValueError:  # an AWS service calling on a principal's behalf: a name, not an IP
        return {"domain": source}


def _actor(a: Actor | None) -> dict[str, Any] | None:
    if a is None:
        return None
    user = _clean({
        "uid": a.arn or a.principal_id,
        "uid_alt": a.principal_id if a.arn else None,
        "name": a.user_name or a.session_name or ("root" if a.identity_type == "Root" else None),
        "type": a.identity_type,
        "type_id": USER_TYPE_ID.get(a.identity_type or "", 99) if a.identity_type else None,
        "credential_uid": a.access_key_id,
        "account": _account(a.account_id),
    })
    session = _clean({
        "issuer": a.session_issuer_arn,
        "is_mfa": a.mfa_authenticated,
        "credential_uid": a.access_key_id,
    })
    return _clean({"user": user, "session": session, "invoked_by": a.invoked_by}) or None


def _attacks(mitre: list[str]) -> list[dict[str, Any]]:
    attacks = []
    for tid in mitre:
        name, tactics = technique(tid)
        tech = _clean({"uid": tid, "name": name})
        if not tactics:
            attacks.append({"technique": tech, "version": "v16"})
        for t in tactics:
            tactic_uid, tactic_name = TACTICS[t]
            attacks.append({"technique": tech, "tactic": {"uid": tactic_uid, "name": tactic_name},
                            "version": "v16"})
    return attacks


def _api(f: Finding) -> dict[str, Any] | None:
    if not f.event_name:
        return None
    return _clean({
        "operation": f.event_name,
        "service": _clean({"name": f.event_source}),
        "request": _clean({"uid": f.event_id}),
        "response": _clean({"error": f.error_code}),
    })


def _remediation(f: Finding) -> dict[str, Any] | None:
    parts = []
    if f.remediation:
        parts.append(f.remediation)
    if f.explain:
        parts.append(f"Run `trailguard explain {f.explain}` for investigation and response.")
    return {"desc": " ".join(parts)} if parts else None


def _common(f: Finding, report: Report, class_uid: int, class_name: str,
            profiles: list[str]) -> dict[str, Any]:
    sev_id, sev = SEVERITY_ID[f.severity]
    status_id, status = FINDING_STATUS[f.status]
    return {
        "category_uid": CATEGORY_FINDINGS,
        "category_name": "Findings",
        "class_uid": class_uid,
        "class_name": class_name,
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": class_uid * 100 + ACTIVITY_CREATE,
        "type_name": f"{class_name}: Create",
        "severity_id": sev_id,
        "severity": sev,
        "status_id": status_id,
        "status": status,
        "status_code": f.status.value,
        "message": f.title,
        "metadata": _metadata(report, profiles),
        "cloud": _cloud(f),
    }


def detection_finding(f: Finding, report: Report, uid: str) -> dict[str, Any]:
    """An OCSF Detection Finding (2004) for one detection."""
    event = _common(f, report, CLASS_DETECTION_FINDING, "Detection Finding", ["cloud", "host"])
    first, last = epoch_ms(first_seen(f)), epoch_ms(last_seen(f))
    actor = _actor(f.actor)
    src = _endpoint(f.actor.source_ip if f.actor else None)
    api = _api(f)
    types = [TACTICS[t][1] for tid in f.mitre for t in technique(tid)[1]]
    event.update(_clean({
        "time": last or epoch_ms(report.generated_at),
        "start_time": first,
        "end_time": last,
        "count": f.count,
        "finding_info": _clean({
            "uid": uid,
            "title": f.title,
            "desc": f.description,
            "types": list(dict.fromkeys(types)),
            "first_seen_time": first,
            "last_seen_time": last,
            "created_time": epoch_ms(report.generated_at),
            "data_sources": ["AWS CloudTrail"],
            "analytic": _clean({"uid": f.rule_id, "name": f.title, "type": "Rule", "type_id": 1}),
            "attacks": _attacks(f.mitre),
            "related_events": [{"uid": e, "type": "CloudTrail event"} for e in f.event_ids],
        }),
        "actor": actor,
        "src_endpoint": src,
        "api": api,
        "resources": _resources(f),
        "evidences": [e] if (e := _clean({
            "actor": actor,
            "src_endpoint": src,
            "api": api,
            "http_request": _clean({"user_agent": f.actor.user_agent}) if f.actor else None,
        })) else None,
        "remediation": _remediation(f),
    }))
    return event


def compliance_finding(f: Finding, report: Report, uid: str) -> dict[str, Any]:
    """An OCSF Compliance Finding (2003) for one posture check result."""
    event = _common(f, report, CLASS_COMPLIANCE_FINDING, "Compliance Finding", ["cloud"])
    observed = epoch_ms(f.observed_at) or epoch_ms(report.generated_at)
    c_id, c_status = COMPLIANCE_STATUS[f.status]
    event.update(_clean({
        "time": observed,
        "status_detail": f.reason if f.status in (Status.ERROR, Status.MUTED) else None,
        "finding_info": _clean({
            "uid": uid,
            "title": f.title,
            "desc": f.description,
            "types": ["Posture check"],
            "created_time": observed,
            "data_sources": ["AWS API"],
            "analytic": {"uid": f.rule_id, "name": f.title, "type": "Rule", "type_id": 1},
        }),
        "compliance": _clean({
            "standards": [CIS_STANDARD] if f.cis else [OTHER_STANDARD],
            "requirements": list(f.cis),
            "control": f.rule_id,
            "status_id": c_id,
            "status": c_status,
            "status_detail": f.reason,
        }),
        "resources": _resources(f),
        "remediation": _remediation(f),
    }))
    return event


def ocsf_events(report: Report) -> list[dict[str, Any]]:
    """Every finding of the report as an OCSF event, in report order."""
    out = []
    for f, uid in zip(report.findings, finding_ids(report), strict=True):
        build = detection_finding if f.kind == "detection" else compliance_finding
        out.append(build(f, report, uid))
    return out


def write_ocsf(report: Report, stream: IO[str]) -> None:
    """Write the report as a JSON array of OCSF events."""
    stream.write(dumps_indented(ocsf_events(report)))
