"""IAM user credential checks on states built through the IAM API of the moto server.

moto stamps creation and last-use times with the current time, so "old" states are tested by
auditing with a reference time (``now=``) days later, exactly as the checks compute ages.
"""

from __future__ import annotations

import boto3
from audit_helpers import later, ssh_public_key, x509_certificate

from trailguard.audit.config import AuditConfig, CredentialsConfig
from trailguard.findings.model import Status


def _user(iam, name: str, password: bool = False, keys: int = 0) -> list[dict]:
    iam.create_user(UserName=name)
    if password:
        iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")
    return [iam.create_access_key(UserName=name)["AccessKey"] for _ in range(keys)]


def _use_key(key: dict) -> None:
    """Sign a request with the key so IAM records its last use."""
    boto3.client(
        "sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    ).get_caller_identity()


def _enable_mfa(iam, user: str) -> None:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="123456",
                          AuthenticationCode2="654321")


def test_console_user_without_mfa_fails_with_mfa_passes(iam, audit) -> None:
    _user(iam, "alice", password=True)
    _user(iam, "bob", password=True)
    _user(iam, "api-only", keys=1)
    _enable_mfa(iam, "bob")
    f = audit("iam_user_mfa_enabled_console_access")["iam_user_mfa_enabled_console_access"]
    assert f.status is Status.FAIL
    assert [r.name for r in f.resources] == ["alice"]
    assert f.resources[0].id == "arn:aws:iam::123456789012:user/alice"
    assert f.remediation == "mfa-enforce-policy" and f.cis == ["1.10"]


def test_all_console_users_with_mfa_pass(iam, audit) -> None:
    _user(iam, "bob", password=True)
    _enable_mfa(iam, "bob")
    f = audit("iam_user_mfa_enabled_console_access")["iam_user_mfa_enabled_console_access"]
    assert f.status is Status.PASS and f.resources == []


def test_recently_used_key_passes(iam, audit) -> None:
    (key,) = _user(iam, "svc", keys=1)
    _use_key(key)
    f = audit("iam_user_accesskey_unused")["iam_user_accesskey_unused"]
    assert f.status is Status.PASS


def test_key_unused_for_45_days_fails_with_the_key_id(iam, audit) -> None:
    (key,) = _user(iam, "svc", keys=1)
    _use_key(key)
    f = audit("iam_user_accesskey_unused", now=later(46))["iam_user_accesskey_unused"]
    assert f.status is Status.FAIL
    (res,) = f.resources
    assert res.id == key["AccessKeyId"]
    d = res.details
    assert d["access_key_id"] == key["AccessKeyId"] and d["user_name"] == "svc"
    assert d["status"] == "Active" and d["days_unused"] == 46 and d["never_used"] is False
    assert d["last_used_date"] is not None
    assert f.remediation == "deactivate-access-key"


def test_never_used_key_counts_from_creation(iam, audit) -> None:
    _user(iam, "svc", keys=1)
    assert audit("iam_user_accesskey_unused", now=later(44, minutes=-5))[
        "iam_user_accesskey_unused"].status is Status.PASS
    f = audit("iam_user_accesskey_unused", now=later(45, minutes=5))["iam_user_accesskey_unused"]
    assert f.status is Status.FAIL
    assert f.resources[0].details["never_used"] is True


def test_inactive_key_is_not_reported_unused(iam, audit) -> None:
    (key,) = _user(iam, "svc", keys=1)
    iam.update_access_key(UserName="svc", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    f = audit("iam_user_accesskey_unused", now=later(100))["iam_user_accesskey_unused"]
    assert f.status is Status.PASS


def test_unused_console_password_fails(iam, audit) -> None:
    _user(iam, "alice", password=True)
    assert audit("iam_user_console_access_unused")[
        "iam_user_console_access_unused"].status is Status.PASS
    f = audit("iam_user_console_access_unused", now=later(60))["iam_user_console_access_unused"]
    assert f.status is Status.FAIL
    assert f.resources[0].details["never_used"] is True
    assert f.remediation == "require-password-reset"


def test_key_older_than_90_days_fails_rotation(iam, audit) -> None:
    (key,) = _user(iam, "svc", keys=1)
    assert audit("iam_rotate_access_key_90_days", now=later(90, minutes=-5))[
        "iam_rotate_access_key_90_days"].status is Status.PASS
    check = "iam_rotate_access_key_90_days"
    f = audit(check, now=later(91, minutes=5))[check]
    assert f.status is Status.FAIL
    assert f.resources[0].details["access_key_id"] == key["AccessKeyId"]


def test_two_active_keys_fail_one_passes(iam, audit) -> None:
    k1, k2 = _user(iam, "two", keys=2)
    _user(iam, "one", keys=1)
    _use_key(k2)
    f = audit("iam_user_two_active_access_key")["iam_user_two_active_access_key"]
    assert f.status is Status.FAIL
    (res,) = f.resources
    assert res.name == "two"
    ids = {k["access_key_id"] for k in res.details["access_keys"]}
    assert ids == {k1["AccessKeyId"], k2["AccessKeyId"]}
    assert res.details["suggested_key_to_deactivate"] == k1["AccessKeyId"]  # never used


def test_two_keys_one_inactive_passes(iam, audit) -> None:
    k1, _ = _user(iam, "two", keys=2)
    iam.update_access_key(UserName="two", AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    f = audit("iam_user_two_active_access_key")["iam_user_two_active_access_key"]
    assert f.status is Status.PASS


def test_key_ids_not_resolved_when_configured_off(iam, audit) -> None:
    _user(iam, "svc", keys=1)
    cfg = AuditConfig(credentials=CredentialsConfig(resolve_key_ids=False))
    f = audit("iam_user_accesskey_unused", now=later(50), config=cfg)["iam_user_accesskey_unused"]
    res = f.resources[0]
    assert res.details["access_key_id"] is None and res.details["key_slot"] == 1
    assert res.id == "arn:aws:iam::123456789012:user/svc#access_key_1"


def test_ssh_key_of_inactive_user_fails(iam, audit) -> None:
    _user(iam, "old-dev")
    key_id = iam.upload_ssh_public_key(UserName="old-dev", SSHPublicKeyBody=ssh_public_key())[
        "SSHPublicKey"]["SSHPublicKeyId"]
    check = "iam_user_ssh_public_key_inactive_user"
    assert audit(check)[check].status is Status.PASS  # user is new: not inactive
    f = audit(check, now=later(46))[check]
    assert f.status is Status.FAIL
    (res,) = f.resources
    assert res.id == key_id and res.details["user_name"] == "old-dev"
    assert f.remediation == "deactivate-ssh-public-key"


def test_inactive_ssh_key_of_inactive_user_passes(iam, audit) -> None:
    _user(iam, "old-dev")
    key_id = iam.upload_ssh_public_key(UserName="old-dev", SSHPublicKeyBody=ssh_public_key())[
        "SSHPublicKey"]["SSHPublicKeyId"]
    iam.update_ssh_public_key(UserName="old-dev", SSHPublicKeyId=key_id, Status="Inactive")
    check = "iam_user_ssh_public_key_inactive_user"
    assert audit(check, now=later(46))[check].status is Status.PASS


def test_signing_certificate_of_inactive_user_fails(iam, audit) -> None:
    _user(iam, "old-dev")
    cert_id = iam.upload_signing_certificate(UserName="old-dev",
                                             CertificateBody=x509_certificate())[
        "Certificate"]["CertificateId"]
    check = "iam_user_signing_certificate_inactive_user"
    assert audit(check)[check].status is Status.PASS
    f = audit(check, now=later(46))[check]
    assert f.status is Status.FAIL
    assert [r.id for r in f.resources] == [cert_id]
    assert f.remediation == "deactivate-signing-certificate"
