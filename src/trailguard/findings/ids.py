"""Stable finding identifiers shared by the ASFF and OCSF formats.

An identifier hashes what makes a finding that finding, never when it was seen, so a re-run
(or a re-import into Security Hub or a SIEM) updates the same finding instead of adding a
duplicate, and a posture check moving from FAIL to PASS keeps its identifier.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from trailguard.findings.model import Finding, Report, Status

_ACCOUNT_RE = re.compile(r"^\d{12}$")


def finding_account(f: Finding) -> str | None:
    """The 12-digit account a finding belongs to: its own, a resource's, or the actor's."""
    candidates = [f.account_id, *(r.account_id for r in f.resources)]
    if f.actor:
        candidates.append(f.actor.account_id)
    return next((a for a in candidates if a and _ACCOUNT_RE.match(a)), None)


def finding_region(f: Finding) -> str | None:
    """The finding's region, or its first resource's."""
    return f.region or next((r.region for r in f.resources if r.region), None)


def _key(f: Finding, with_resources: bool) -> str:
    a = f.actor
    parts: list[str] = [f.kind, f.rule_id, finding_account(f) or "", finding_region(f) or ""]
    if f.kind == "detection":
        parts += [f.event_source or "", f.event_name or "", f.error_code or ""]
        parts += [a.arn or a.principal_id or "", a.source_ip or ""] if a else ["", ""]
        with_resources = True
    if with_resources:
        parts += sorted(r.id for r in f.resources)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def finding_ids(report: Report) -> list[str]:
    """One stable, unique identifier per finding of ``report``, in order.

    A posture result is identified by check, account and region; where a report holds several
    results of one check (one per resource), their resources join the key. A detection is
    identified by rule, account, region, event source and name, error code, actor, source IP
    and resources. The very same finding reported twice gets ``-2``, ``-3`` suffixes. When
    audit exceptions split a FAIL, the FAIL part keeps the check's identifier and each MUTED
    part is identified by its resources; a wholly muted result keeps the check's identifier.
    """
    keys = [_key(f, with_resources=False) for f in report.findings]
    clashes = Counter(keys)
    # a FAIL split by audit exceptions keeps its own identifier; its MUTED parts get new ones
    unmuted = Counter(k for f, k in zip(report.findings, keys, strict=True)
                      if f.status is not Status.MUTED)
    out: list[str] = []
    used: set[str] = set()
    for f, key in zip(report.findings, keys, strict=True):
        keeps = f.status is not Status.MUTED and unmuted[key] == 1
        if clashes[key] > 1 and not keeps:
            key = _key(f, with_resources=True)
        fid = (
            f"trailguard/{finding_account(f) or 'unknown'}/{finding_region(f) or 'global'}/"
            f"{f.kind}/{key}"
        )
        n, unique = 1, fid
        while unique in used:
            n += 1
            unique = f"{fid}-{n}"
        used.add(unique)
        out.append(unique)
    return out
