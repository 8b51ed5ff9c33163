"""Credential report: generation with backoff, reuse when generating is denied, parsing."""

from __future__ import annotations

import boto3
from audit_helpers import auditor_session as _auditor

from trailguard.audit.credential_report import fetch_credential_report, parse_credential_report
from trailguard.findings.model import Status


def test_generation_is_polled_with_backoff(iam) -> None:
    iam.create_user(UserName="alice")
    sleeps: list[float] = []
    rows, _ = fetch_credential_report(boto3.client("iam"), sleep=sleeps.append)
    assert sleeps == [0.5]  # moto answers STARTED, then COMPLETE
    assert [r.user for r in rows] == ["alice"]
    sleeps.clear()
    fetch_credential_report(boto3.client("iam"), sleep=sleeps.append)
    assert sleeps == []  # a report exists: COMPLETE at once


def test_existing_report_is_used_when_generating_is_denied(iam, audit, enforce_auth) -> None:
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    session = _auditor(iam, ["iam:GenerateCredentialReport"])
    iam.generate_credential_report()
    iam.generate_credential_report()
    enforce_auth()
    f = audit("iam_user_mfa_enabled_console_access", session=session)[
        "iam_user_mfa_enabled_console_access"]
    assert f.status is Status.FAIL
    assert [r.name for r in f.resources] == ["alice"]


def test_parse_moto_placeholders_as_none() -> None:
    text = (
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
        "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
        "access_key_1_last_used_date,access_key_1_last_used_region,"
        "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
        "access_key_2_last_used_date,access_key_2_last_used_region,"
        "access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,"
        "cert_2_last_rotated\n"
        "bob,arn:aws:iam::123456789012:user/bob,2024-01-01T00:00:00+00:00,true,no_information,"
        "2024-01-01T00:00:00+00:00,not_supported,false,true,2024-01-02T00:00:00+00:00,N/A,"
        "not_supported,not_supported,false,N/A,N/A,N/A,N/A,true,2024-01-03T00:00:00+00:00,"
        "false,N/A\n"
    )
    (row,) = parse_credential_report(text)
    assert row.password_enabled and row.password_last_used is None and not row.mfa_active
    (key,) = row.active_keys
    assert key.slot == 1 and key.last_used is None and key.last_used_region is None
    assert key.last_rotated.isoformat() == "2024-01-02T00:00:00+00:00"
    assert row.certs_active == [True, False]


def test_report_that_never_completes_is_error_with_reason(aws) -> None:
    from audit_helpers import canned

    from trailguard.audit.config import AuditConfig, CredentialReportConfig
    from trailguard.audit.engine import run_audit
    from trailguard.aws import make_session

    session = make_session()
    canned(session, "iam.GenerateCredentialReport", {"State": "INPROGRESS"})
    cfg = AuditConfig(credential_report=CredentialReportConfig(timeout_seconds=0.1))
    (f,) = run_audit(session, cfg, ["iam_user_mfa_enabled_console_access"])
    assert f.status is Status.ERROR
    assert f.reason == "credential report still INPROGRESS after 0s (GenerateCredentialReport)"
