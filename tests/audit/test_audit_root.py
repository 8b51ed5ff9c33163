"""Root checks. moto fixes AccountMFAEnabled and AccountAccessKeysPresent at 0 and emits no
``<root_account>`` report row, so the other states get real-shaped responses through
botocore's before-call event (see audit_helpers.canned)."""

from __future__ import annotations

import datetime as dt

from audit_helpers import canned

from trailguard.audit.credential_report import parse_credential_report
from trailguard.aws import make_session
from trailguard.findings.model import Severity, Status

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
)


def _root_row(password_last_used: str) -> str:
    return (
        f"<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,"
        f"{password_last_used},not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,"
        f"N/A,N/A,N/A,false,N/A,false,N/A\n"
    )


def _summary(mfa: int, keys: int) -> dict:
    return {"SummaryMap": {"AccountMFAEnabled": mfa, "AccountAccessKeysPresent": keys,
                           "Users": 0}}


def test_moto_default_root_has_no_mfa_and_no_keys(aws, audit) -> None:
    found = audit("iam_root_mfa_enabled", "iam_no_root_access_key",
                  "iam_root_hardware_mfa_enabled")
    assert found["iam_root_mfa_enabled"].status is Status.FAIL
    assert found["iam_root_mfa_enabled"].severity is Severity.critical
    assert found["iam_root_hardware_mfa_enabled"].status is Status.FAIL
    assert found["iam_no_root_access_key"].status is Status.PASS


def test_root_keys_present_fail(aws, audit) -> None:
    s = make_session()
    canned(s, "iam.GetAccountSummary", _summary(mfa=1, keys=1))
    found = audit("iam_no_root_access_key", "iam_root_mfa_enabled", session=s)
    assert found["iam_no_root_access_key"].status is Status.FAIL
    assert found["iam_no_root_access_key"].resources[0].id == "arn:aws:iam::123456789012:root"
    assert found["iam_root_mfa_enabled"].status is Status.PASS


def test_root_virtual_mfa_fails_hardware_check(aws, iam, audit) -> None:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="root-account-mfa-device")[
        "VirtualMFADevice"]["SerialNumber"]
    s = make_session()
    canned(s, "iam.GetAccountSummary", _summary(mfa=1, keys=0))
    canned(s, "iam.ListVirtualMFADevices", {"VirtualMFADevices": [{
        "SerialNumber": serial,
        "User": {"Arn": "arn:aws:iam::123456789012:root", "UserName": "root", "Path": "/",
                 "UserId": "123456789012", "CreateDate": dt.datetime(2020, 1, 1)},
        "EnableDate": dt.datetime(2020, 1, 2)}], "IsTruncated": False})
    f = audit("iam_root_hardware_mfa_enabled", session=s)["iam_root_hardware_mfa_enabled"]
    assert f.status is Status.FAIL
    assert f.resources[0].details["virtual_mfa"] == [serial]


def test_root_hardware_mfa_passes(aws, audit) -> None:
    s = make_session()
    canned(s, "iam.GetAccountSummary", _summary(mfa=1, keys=0))
    f = audit("iam_root_hardware_mfa_enabled", session=s)["iam_root_hardware_mfa_enabled"]
    assert f.status is Status.PASS


def test_root_use_unknown_without_root_row_is_error_not_pass(aws, audit) -> None:
    f = audit("iam_avoid_root_usage")["iam_avoid_root_usage"]
    assert f.status is Status.ERROR
    assert "<root_account>" in f.reason


def test_root_used_recently_fails_and_old_use_passes(aws, audit) -> None:
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).isoformat()
    for used, expected in ((recent, Status.FAIL), (old, Status.PASS)):
        s = make_session()
        canned(s, "iam.GenerateCredentialReport", {"State": "COMPLETE"})
        canned(s, "iam.GetCredentialReport", {"Content": (HEADER + _root_row(used)).encode(),
                                              "ReportFormat": "text/csv"})
        f = audit("iam_avoid_root_usage", session=s)["iam_avoid_root_usage"]
        assert f.status is expected
        if expected is Status.FAIL:
            assert f.resources[0].details["recent_use"] == {"password": used}


def test_parse_root_row_and_aws_placeholders() -> None:
    rows = parse_credential_report(HEADER + _root_row("no_information"))
    (root,) = rows
    assert root.is_root and root.password_enabled and root.mfa_active
    assert root.password_last_used is None and root.active_keys == []
