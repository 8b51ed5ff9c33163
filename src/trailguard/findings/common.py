"""Small helpers every output format shares: time formatting, short actor names, ordering."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from trailguard.findings.model import Actor, Finding, Report, Severity

SEVERITIES_DESC: tuple[Severity, ...] = tuple(reversed(list(Severity)))


def dumps_indented(data: Any) -> str:
    """``data`` as indented JSON text with a final newline (orjson: ~50x the stdlib's speed).

    Values JSON has no type for (datetimes aside, which become ISO 8601) are written as text.
    """
    option = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE
    return orjson.dumps(data, option=option, default=str).decode()


def as_utc(dt: datetime | None) -> datetime | None:
    """Return ``dt`` in UTC; a naive datetime is taken to be UTC already (CloudTrail is UTC)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso_z(dt: datetime | None) -> str | None:
    """Format a datetime as ISO 8601 UTC with a ``Z`` suffix and millisecond precision or less."""
    u = as_utc(dt)
    if u is None:
        return None
    if u.microsecond:
        return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"
    return u.strftime("%Y-%m-%dT%H:%M:%SZ")


def short_time(dt: datetime | None) -> str:
    """Format a datetime for tables: ``2026-11-24 08:52:18`` (UTC), or empty."""
    u = as_utc(dt)
    return u.strftime("%Y-%m-%d %H:%M:%S") if u else ""


def epoch_ms(dt: datetime | None) -> int | None:
    """Milliseconds since the Unix epoch (OCSF's timestamp unit)."""
    u = as_utc(dt)
    return int(u.timestamp() * 1000) if u else None


def first_seen(f: Finding) -> datetime | None:
    """When a detection was first seen (or a posture check observed), best available."""
    return f.first_seen or f.event_time or f.last_seen or f.observed_at


def last_seen(f: Finding) -> datetime | None:
    """When a detection was last seen (or a posture check observed), best available."""
    return f.last_seen or f.event_time or f.first_seen or f.observed_at


def short_arn(arn: str) -> str:
    """Shorten an ARN to its resource part: ``arn:aws:iam::1:user/a`` -> ``user/a``."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        rest = parts[5]
        return "root" if rest == "root" else rest
    return arn


def actor_label(actor: Actor | None) -> str:
    """A short human label for who acted: ``user/alice``, ``assumed-role/Admin/bob``, ``root``."""
    if actor is None:
        return ""
    if actor.identity_type == "Root":
        return "root"
    if actor.arn:
        return short_arn(actor.arn)
    if actor.user_name:
        return actor.user_name
    if actor.session_issuer_arn:
        label = short_arn(actor.session_issuer_arn)
        return f"{label}/{actor.session_name}" if actor.session_name else label
    if actor.invoked_by:
        return actor.invoked_by
    return actor.principal_id or actor.identity_type or ""


def target_label(f: Finding, limit: int = 3) -> str:
    """Resources a finding is about, shortened, the first ``limit`` of them and ``+N more``."""
    names = [r.name or short_arn(r.id) for r in f.resources]
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f" +{len(names) - limit} more"
    return shown


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Failing, erroring, muted, then passing; within each, most severe first, then newest."""
    status_rank = {"FAIL": 0, "ERROR": 1, "MUTED": 2, "PASS": 3}

    def key(f: Finding) -> tuple:
        ts = as_utc(last_seen(f))
        return (status_rank[f.status.value], -f.severity.rank, -(ts.timestamp() if ts else 0),
                f.rule_id)

    return sorted(findings, key=key)


def report_kind(report: Report) -> str:
    """``"detection"`` for a scan report, ``"posture"`` for an audit report."""
    return "detection" if report.command == "scan" else "posture"


_CONTROL = {c: "?" for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]}


def printable(value: object) -> str:
    """Text safe for a terminal: control characters (ANSI escapes included) become ``?``.

    Values from logs are attacker-controlled; an ``ESC[`` in a user agent must not repaint
    the analyst's terminal.
    """
    return str(value).translate(_CONTROL) if value is not None else ""


_SECRET_KEY_RE = re.compile(
    r"secret|passw(or)?d|token|private_?key|^credentials?$|^auth(orization)?$", re.IGNORECASE
)
REDACTED = "[REDACTED]"


def redact(value: Any) -> Any:
    """Copy of ``value`` with every secret-named key's value replaced by ``[REDACTED]``.

    Keys such as ``password``, ``secretAccessKey``, ``sessionToken``, ``privateKey`` or
    ``credentials`` are redacted at any depth; booleans and numbers are kept, so a flag like
    ``passwordResetRequired`` still reads as it was.
    """
    if isinstance(value, dict):
        return {
            k: (REDACTED if _SECRET_KEY_RE.search(str(k)) and v is not None
                and not isinstance(v, bool | int | float) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_report(report: Report) -> Report:
    """The report with secret-named values in resource details redacted (see :func:`redact`).

    Findings carry no raw records, but a resource's free-form ``details`` could be filled from
    request or response parameters; every output format goes through this first.
    """
    if not any(r.details for f in report.findings for r in f.resources):
        return report
    findings = []
    for f in report.findings:
        if any(r.details for r in f.resources):
            f = f.model_copy(update={"resources": [
                r.model_copy(update={"details": redact(r.details)}) for r in f.resources
            ]})
        findings.append(f)
    return report.model_copy(update={"findings": findings})
