"""Findings: what `scan` detects in logs and what `audit` finds in an account.

One model serves both so that every output format (table, json, jsonl, csv, ocsf, asff, html)
is written once. ``kind`` says which of the two a finding is; fields that only make sense
for one kind are optional.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class Severity(StrEnum):
    """Finding severity, ordered from least to most urgent."""

    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        """Return 0 (info) to 4 (critical) for ordering and ``--fail-on`` comparisons."""
        return list(Severity).index(self)

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Parse a severity name case-insensitively; Sigma's ``informational`` means info."""
        v = value.strip().lower()
        return cls.info if v in ("informational", "information") else cls(v)


class Status(StrEnum):
    """Outcome of a posture check. Detections use FAIL (something was found).

    MUTED: a FAIL whose resources are all covered by an accepted-risk exception of the audit
    config (``reason`` says whose and until when); it never fails a run and is never fixed.
    """

    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    MUTED = "MUTED"


class Actor(BaseModel):
    """Who made the call, as CloudTrail's ``userIdentity`` and request context tell it."""

    identity_type: str | None = None
    arn: str | None = None
    principal_id: str | None = None
    account_id: str | None = None
    user_name: str | None = None
    session_name: str | None = None
    session_issuer_arn: str | None = None
    access_key_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    mfa_authenticated: bool | None = None
    invoked_by: str | None = None


class Resource(BaseModel):
    """A thing a finding is about: a target of an event, or a resource failing a check."""

    type: str  # e.g. "AwsIamUser", "AwsIamAccessKey", "AwsCloudTrailTrail", "AwsAccount"
    id: str  # ARN where one exists, else the most specific identifier
    name: str | None = None
    account_id: str | None = None
    region: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Finding(BaseModel):
    """A detection (``kind="detection"``) or a posture check result (``kind="posture"``)."""

    kind: Literal["detection", "posture"]
    rule_id: str  # Sigma rule id (UUID) for detections, check id for posture
    title: str
    severity: Severity
    status: Status = Status.FAIL
    description: str | None = None
    mitre: list[str] = Field(default_factory=list)  # ATT&CK technique ids, e.g. "T1098.001"
    cis: list[str] = Field(default_factory=list)  # CIS AWS Foundations control ids
    account_id: str | None = None
    region: str | None = None
    resources: list[Resource] = Field(default_factory=list)
    explain: str | None = None  # event name to read with `trailguard explain NAME`
    remediation: str | None = None  # what to do; remediation action id for posture
    # detection only
    event_name: str | None = None
    event_source: str | None = None
    event_time: datetime | None = None
    event_id: str | None = None
    error_code: str | None = None
    actor: Actor | None = None
    count: int = 1  # identical findings are grouped; count is how many
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_ids: list[str] = Field(default_factory=list)  # up to a bounded number of samples
    # posture only
    reason: str | None = None  # why ERROR (e.g. AccessDenied on iam:GetAccountPasswordPolicy)
    observed_at: datetime | None = None


class SkippedInput(BaseModel):
    """Input that could not be read (a file, an object, a record), and why."""

    source: str  # path, s3:// URL, or "path#record-index"
    reason: str


class FilterResult(BaseModel):
    """A Sigma filter a scan used to tune rules, and how many rule matches it dropped."""

    title: str
    source: str  # the filter's file
    id: str | None = None
    description: str | None = None  # why the activity is accepted
    expires: date | None = None  # not applied after this day
    rules: list[str] = Field(default_factory=list)  # rules it applies to
    applied: bool = True  # False once expired
    events_dropped: int = 0


class Report(BaseModel):
    """What a `scan` or `audit` run produced: findings plus the run's own accounting.

    Every output format renders a Report, so summary numbers (files read and skipped, events,
    PASS/FAIL/ERROR counts) travel with the findings.
    """

    tool: str = "trailguard"
    command: Literal["scan", "audit"]
    generated_at: datetime
    findings: list[Finding] = Field(default_factory=list)
    stats: dict[str, int | float | str] = Field(default_factory=dict)
    skipped: list[SkippedInput] = Field(default_factory=list)
    filters: list[FilterResult] = Field(default_factory=list)  # scan: Sigma filters used
