"""The audit is read-only, and its API calls do not grow with the number of IAM users."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from audit_helpers import later, ssh_public_key, x509_certificate
from aws_accounts import add_logged_trail_with_alerting
from aws_recording import record_operations

from trailguard.audit.context import ApiCallCounter
from trailguard.audit.engine import run_audit
from trailguard.aws import make_session
from trailguard.findings.model import Status

READ_ONLY = re.compile(r"^(List|Get|Describe|Lookup)[A-Za-z]+$|^GenerateCredentialReport$")


def _rich_account(iam) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=8)
    for i in range(3):
        iam.create_user(UserName=f"u{i}")
        iam.create_login_profile(UserName=f"u{i}", Password="Correct-Horse-Battery-9")
        iam.create_access_key(UserName=f"u{i}")
        iam.create_access_key(UserName=f"u{i}")
    iam.upload_ssh_public_key(UserName="u0", SSHPublicKeyBody=ssh_public_key())
    iam.upload_signing_certificate(UserName="u1", CertificateBody=x509_certificate())
    add_logged_trail_with_alerting("main-trail")


def test_every_call_of_the_audit_is_read_only(aws, iam) -> None:
    _rich_account(iam)
    session = make_session()
    called = record_operations(session)
    findings = run_audit(session, now=later(100))  # old state: per-user reads happen too
    ops = sorted({name.split(".")[-1] for name in called})
    assert "ListSSHPublicKeys" in ops and "ListAccessKeys" in ops
    assert "GetTrailStatus" in ops and "ListTargetsByRule" in ops
    assert [op for op in ops if not READ_ONLY.match(op)] == []
    assert sum(f.status is Status.FAIL for f in findings) > 10


def _populate(iam, start: int, n: int) -> None:
    def one(i: int) -> None:
        iam.create_user(UserName=f"user{i:05d}")
        if i % 10 == 0:
            iam.create_login_profile(UserName=f"user{i:05d}", Password="Correct-Horse-Battery-9")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(start, n)))


def _calls(iam, start: int, n_total: int) -> tuple[ApiCallCounter, dict]:
    _populate(iam, start, n_total)
    counter = ApiCallCounter()
    found = {f.rule_id: f for f in run_audit(make_session(), counter=counter)}
    return counter, found


def test_calls_do_not_grow_with_users(aws, iam) -> None:
    small, found_small = _calls(iam, 0, 10)
    iam_ops_small = {k: v for k, v in small.calls.items() if k.startswith("iam.")}
    big, found_big = _calls(iam, 10, 1000)  # adds users 10..999 to the same account
    iam_ops_big = {k: v for k, v in big.calls.items() if k.startswith("iam.")}
    assert len(found_big["iam_user_mfa_enabled_console_access"].resources) == 100
    assert len(found_small["iam_user_mfa_enabled_console_access"].resources) == 1
    # the first audit of an account waits once for the report (STARTED, then COMPLETE)
    assert iam_ops_small.pop("iam.GenerateCredentialReport") == 2
    assert iam_ops_big.pop("iam.GenerateCredentialReport") == 1
    assert iam_ops_big == iam_ops_small
    assert big.total == small.total - 1
    assert big.calls["iam.GetCredentialReport"] == 1
    assert "iam.ListUsers" not in big.calls and "iam.ListMFADevices" not in big.calls
