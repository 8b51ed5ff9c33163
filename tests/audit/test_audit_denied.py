"""Denied calls: the checks that need them report ERROR with the reason, the others run.

Uses moto's own IAM authorization (``POST /moto-api/reset-auth``): the audit runs with the
access key of a user whose policy denies some read calls.
"""

from __future__ import annotations

from audit_helpers import auditor_session as _auditor

from trailguard.findings.model import Status


def test_denied_password_policy_is_error_others_run(iam, audit, enforce_auth) -> None:
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    session = _auditor(iam, ["iam:GetAccountPasswordPolicy"])
    enforce_auth()
    found = audit(session=session)
    pw = found["iam_password_policy_minimum_length_14"]
    assert pw.status is Status.ERROR
    assert pw.reason == "AccessDenied on GetAccountPasswordPolicy"
    assert pw.resources == []
    assert all(
        f.status is Status.ERROR for c, f in found.items() if c.startswith("iam_password_policy")
    )
    mfa = found["iam_user_mfa_enabled_console_access"]
    assert mfa.status is Status.FAIL and [r.name for r in mfa.resources] == ["alice"]
    assert found["iam_no_root_access_key"].status is Status.PASS
    assert found["cloudtrail_multi_region_enabled"].status is Status.FAIL


def test_denied_credential_report_is_error_for_user_checks(iam, audit, enforce_auth) -> None:
    session = _auditor(iam, ["iam:GenerateCredentialReport", "iam:GetCredentialReport"])
    enforce_auth()
    found = audit(session=session)
    f = found["iam_user_accesskey_unused"]
    assert f.status is Status.ERROR
    assert "AccessDenied on iam:GetCredentialReport" in f.reason
    assert "iam:GenerateCredentialReport" in f.reason
    assert found["iam_password_policy_exists"].status is Status.FAIL  # ran: no policy


def test_denied_eventbridge_is_error_not_fail(iam, audit, enforce_auth) -> None:
    session = _auditor(iam, ["events:ListRules"])
    enforce_auth()
    f = audit("alerting_root_usage", session=session)["alerting_root_usage"]
    assert f.status is Status.ERROR
    assert "AccessDenied on ListRules" in f.reason


def test_denied_ssh_key_listing_is_error_per_user(iam, audit, enforce_auth) -> None:
    from audit_helpers import later

    iam.create_user(UserName="old-dev")
    session = _auditor(iam, ["iam:ListSSHPublicKeys"])
    enforce_auth()
    check = "iam_user_ssh_public_key_inactive_user"
    f = audit(check, session=session, now=later(100))[check]
    assert f.status is Status.ERROR
    assert "old-dev: AccessDenied on ListSSHPublicKeys" in f.reason
