"""Many accounts: assume a role into each, a bounded worker pool, failures reported as ERROR."""

from __future__ import annotations

import json

import boto3
import pytest

from trailguard.audit.accounts import audit_accounts, org_account_ids, parse_account_ids
from trailguard.aws import make_session
from trailguard.findings.model import Status

OTHER, DENIED = "111122223333", "444455556666"


def _session_in(account_id: str) -> boto3.Session:
    c = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/Audit",
                                        RoleSessionName="setup")["Credentials"]
    return boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c[
        "SecretAccessKey"], aws_session_token=c["SessionToken"], region_name="us-east-1")


def test_each_account_is_audited_in_its_own_right(aws) -> None:
    other_iam = _session_in(OTHER).client("iam")
    other_iam.create_user(UserName="in-other")
    other_iam.create_login_profile(UserName="in-other", Password="Correct-Horse-Battery-9")
    found = audit_accounts(make_session(), ["123456789012", OTHER], "Audit",
                           check_ids=["iam_user_mfa_enabled_console_access"], workers=2)
    by_account = {f.account_id: f for f in found}
    assert set(by_account) == {"123456789012", OTHER}
    assert by_account["123456789012"].status is Status.PASS
    assert by_account[OTHER].status is Status.FAIL
    assert [r.name for r in by_account[OTHER].resources] == ["in-other"]
    assert by_account[OTHER].resources[0].account_id == OTHER


def test_account_that_cannot_be_assumed_is_error_others_go_on(aws, iam, enforce_auth) -> None:
    target = _session_in(OTHER).client("iam")
    target.create_role(RoleName="Audit", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "123456789012"}}]}))
    target.put_role_policy(RoleName="Audit", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.create_user(UserName="central")
    iam.put_user_policy(UserName="central", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "sts:AssumeRole",
             "Resource": f"arn:aws:iam::{DENIED}:role/Audit"}]}))
    key = iam.create_access_key(UserName="central")["AccessKey"]
    central = boto3.Session(aws_access_key_id=key["AccessKeyId"],
                            aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1")
    enforce_auth()
    checks = ["iam_password_policy_exists", "iam_user_two_active_access_key"]
    found = audit_accounts(central, [DENIED, OTHER], "Audit", check_ids=checks, workers=2)
    denied = [f for f in found if f.account_id == DENIED]
    other = [f for f in found if f.account_id == OTHER]
    assert [f.rule_id for f in denied] == checks
    assert all(f.status is Status.ERROR for f in denied)
    assert denied[0].reason == "cannot assume role Audit: AccessDenied on AssumeRole"
    assert {f.rule_id: f.status for f in other} == {
        "iam_password_policy_exists": Status.FAIL,
        "iam_user_two_active_access_key": Status.PASS,
    }


def test_org_accounts_are_listed_with_pagination(aws) -> None:
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    for i in range(3):
        org.create_account(Email=f"a{i}@example.com", AccountName=f"a{i}")
    ids = org_account_ids(make_session())
    assert len(ids) == 4 and "123456789012" in ids


@pytest.mark.parametrize("text", ["12345", "123456789012,abc", ""])
def test_bad_account_ids_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        parse_account_ids(text)


def test_account_ids_are_deduplicated() -> None:
    assert parse_account_ids("111122223333, 111122223333,444455556666") == [OTHER, DENIED]


def test_own_account_is_audited_without_assuming_a_role(aws) -> None:
    from trailguard.audit.context import ApiCallCounter

    counter = ApiCallCounter()
    found = audit_accounts(make_session(), ["123456789012", OTHER], "Audit",
                           check_ids=["iam_no_root_access_key"], counter=counter)
    assert len(found) == 2
    assert counter.calls["sts.AssumeRole"] == 1
