"""Findings built directly from the model for the findings tests: both kinds, hostile values."""

from __future__ import annotations

from datetime import UTC, datetime

from trailguard.findings.model import (
    Actor,
    Finding,
    Report,
    Resource,
    Severity,
    SkippedInput,
    Status,
)

ACCOUNT = "123456789012"
XSS = "<script>alert('ua')</script>"


def detection(**kw) -> Finding:
    """A grouped CreateAccessKey detection; keyword arguments override fields."""
    base = dict(
        kind="detection",
        rule_id="5a1c2b1e-0000-4000-8000-000000000001",
        title="Access key created for another user",
        severity=Severity.high,
        description="An IAM user created an access key for a different user.",
        mitre=["T1098.001"],
        account_id=ACCOUNT,
        region="us-east-1",
        resources=[
            Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/bob", name="bob",
                     account_id=ACCOUNT)
        ],
        explain="CreateAccessKey",
        event_name="CreateAccessKey",
        event_source="iam.amazonaws.com",
        event_time=datetime(2026, 11, 20, 10, 15, 0, tzinfo=UTC),
        event_id="11111111-2222-3333-4444-555555555555",
        actor=Actor(
            identity_type="IAMUser",
            arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
            principal_id="AIDAEXAMPLEALICE",
            account_id=ACCOUNT,
            user_name="alice",
            access_key_id="AKIAIOSFODNN7EXAMPLE",
            source_ip="203.0.113.7",
            user_agent="aws-cli/2.15.0",
            mfa_authenticated=False,
        ),
        count=3,
        first_seen=datetime(2026, 11, 20, 10, 15, 0, tzinfo=UTC),
        last_seen=datetime(2026, 11, 20, 12, 40, 5, tzinfo=UTC),
        event_ids=["e1", "e2", "e3"],
        remediation="Deactivate the new access key, then ask the user's owner.",
    )
    base.update(kw)
    return Finding(**base)


def posture(**kw) -> Finding:
    """A failing CIS 1.8 password policy check; keyword arguments override fields."""
    base = dict(
        kind="posture",
        rule_id="iam_password_policy_min_length_14",
        title="IAM password policy requires at least 14 characters",
        severity=Severity.medium,
        status=Status.FAIL,
        description="The account password policy allows passwords shorter than 14 characters.",
        cis=["1.8"],
        account_id=ACCOUNT,
        region="us-east-1",
        resources=[Resource(type="AwsAccount", id=f"AWS::::Account:{ACCOUNT}",
                            account_id=ACCOUNT)],
        remediation="iam-set-password-policy",
        observed_at=datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC),
    )
    base.update(kw)
    return Finding(**base)


def scan_report(findings: list[Finding] | None = None, **kw) -> Report:
    """A scan report with run statistics and one skipped file."""
    return Report(
        command="scan",
        generated_at=datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC),
        findings=findings if findings is not None else [],
        stats={"files_read": 12, "files_skipped": 1, "events": 4200},
        skipped=[SkippedInput(source="logs/broken.json.gz", reason="not gzip: bad magic")],
        **kw,
    )


def audit_report(findings: list[Finding] | None = None) -> Report:
    """An audit report."""
    return Report(
        command="audit",
        generated_at=datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC),
        findings=findings if findings is not None else [],
        stats={"checks": 3},
    )


def posture_set() -> list[Finding]:
    """One PASS, one FAIL with several resources, one ERROR."""
    users = [
        Resource(type="AwsIamUser", id=f"arn:aws:iam::{ACCOUNT}:user/u{i}", name=f"u{i}",
                 account_id=ACCOUNT)
        for i in range(5)
    ]
    return [
        posture(),
        posture(rule_id="iam_root_mfa_enabled", title="Root user has MFA",
                severity=Severity.critical, status=Status.PASS, cis=["1.5"]),
        posture(rule_id="iam_user_mfa_console", title="Console users have MFA",
                severity=Severity.high, cis=["1.10"], resources=users),
        posture(rule_id="cloudtrail_multi_region", title="A multi-region trail is logging",
                severity=Severity.high, status=Status.ERROR, cis=["3.1"],
                reason="AccessDenied on cloudtrail:DescribeTrails", resources=[]),
    ]


def detection_set() -> list[Finding]:
    """Detections of several severities, rules, actors, over two days; one hostile agent."""
    return [
        detection(),
        detection(
            rule_id="5a1c2b1e-0000-4000-8000-000000000002",
            title="CloudTrail logging stopped",
            severity=Severity.critical,
            mitre=["T1562.008"],
            event_name="StopLogging",
            event_source="cloudtrail.amazonaws.com",
            explain="StopLogging",
            resources=[Resource(type="AwsCloudTrailTrail",
                                id=f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/main",
                                name="main", region="eu-west-1")],
            region="eu-west-1",
            actor=Actor(identity_type="AssumedRole",
                        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/mallory",
                        session_name="mallory",
                        session_issuer_arn=f"arn:aws:iam::{ACCOUNT}:role/Admin",
                        source_ip="198.51.100.9", user_agent=XSS),
            count=1,
            event_time=datetime(2026, 11, 21, 3, 5, 0, tzinfo=UTC),
            first_seen=datetime(2026, 11, 21, 3, 5, 0, tzinfo=UTC),
            last_seen=datetime(2026, 11, 21, 3, 5, 0, tzinfo=UTC),
        ),
        detection(
            rule_id="5a1c2b1e-0000-4000-8000-000000000003",
            title="Console login without MFA — Zoë’s 東京 office",
            severity=Severity.low,
            mitre=["T1078.004"],
            event_name="ConsoleLogin",
            event_source="signin.amazonaws.com",
            explain="ConsoleLogin",
            resources=[],
            actor=Actor(identity_type="Root", arn=f"arn:aws:iam::{ACCOUNT}:root",
                        source_ip="192.0.2.44", user_agent="Mozilla/5.0"),
            count=1,
            event_time=datetime(2026, 11, 21, 22, 0, 0),  # naive: taken as UTC
            first_seen=None,
            last_seen=None,
        ),
    ]
