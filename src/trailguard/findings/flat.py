"""The ``json``, ``jsonl`` and ``csv`` formats."""

from __future__ import annotations

import csv
from typing import IO

from trailguard.findings.common import iso_z
from trailguard.findings.granted import finding_grant_text
from trailguard.findings.model import Finding, Report

CSV_COLUMNS: tuple[str, ...] = (
    "kind",
    "status",
    "severity",
    "rule_id",
    "title",
    "count",
    "first_seen",
    "last_seen",
    "event_time",
    "event_name",
    "event_source",
    "error_code",
    "actor_type",
    "actor_arn",
    "actor_user_name",
    "actor_session_name",
    "actor_session_issuer_arn",
    "actor_access_key_id",
    "actor_mfa_authenticated",
    "source_ip",
    "user_agent",
    "account_id",
    "region",
    "resource_count",
    "resource_types",
    "resource_ids",
    "mitre",
    "cis",
    "explain",
    "reason",
    "observed_at",
    "event_ids",
    "remediation",
    "description",
    "granted_to",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with ``'``.

    Log values are attacker-controlled: a user agent ``=HYPERLINK(...)`` must stay text when
    an analyst opens the CSV in a spreadsheet (OWASP CSV injection guidance).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def finding_row(f: Finding) -> dict[str, str]:
    """Flatten a finding into the stable :data:`CSV_COLUMNS`; lists are joined with ``;``."""
    a = f.actor
    row: dict[str, object] = {
        "kind": f.kind,
        "status": f.status.value,
        "severity": f.severity.value,
        "rule_id": f.rule_id,
        "title": f.title,
        "count": f.count,
        "first_seen": iso_z(f.first_seen),
        "last_seen": iso_z(f.last_seen),
        "event_time": iso_z(f.event_time),
        "event_name": f.event_name,
        "event_source": f.event_source,
        "error_code": f.error_code,
        "actor_type": a.identity_type if a else None,
        "actor_arn": a.arn if a else None,
        "actor_user_name": a.user_name if a else None,
        "actor_session_name": a.session_name if a else None,
        "actor_session_issuer_arn": a.session_issuer_arn if a else None,
        "actor_access_key_id": a.access_key_id if a else None,
        "actor_mfa_authenticated": a.mfa_authenticated if a else None,
        "source_ip": a.source_ip if a else None,
        "user_agent": a.user_agent if a else None,
        "account_id": f.account_id,
        "region": f.region,
        "resource_count": len(f.resources),
        "resource_types": ";".join(r.type for r in f.resources),
        "resource_ids": ";".join(r.id for r in f.resources),
        "mitre": ";".join(f.mitre),
        "cis": ";".join(f.cis),
        "explain": f.explain,
        "reason": f.reason,
        "observed_at": iso_z(f.observed_at),
        "event_ids": ";".join(f.event_ids),
        "remediation": f.remediation,
        "description": f.description,
        "granted_to": finding_grant_text(f) or None,
    }
    return {k: _cell(row[k]) for k in CSV_COLUMNS}


def write_json(report: Report, stream: IO[str]) -> None:
    """The whole report as one indented JSON document."""
    stream.write(report.model_dump_json(indent=2))
    stream.write("\n")


def write_jsonl(report: Report, stream: IO[str]) -> None:
    """One finding per line (JSON Lines), for log pipelines and ``jq -c``."""
    for f in report.findings:
        stream.write(f.model_dump_json())
        stream.write("\n")


def write_csv(report: Report, stream: IO[str]) -> None:
    """One row per finding with a header of :data:`CSV_COLUMNS` (RFC 4180 quoting)."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for f in report.findings:
        writer.writerow(finding_row(f))
