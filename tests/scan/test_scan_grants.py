"""Whom access-granting events gave access to (scan/grants.py), on real-shaped records."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scan_helpers import ACCOUNT, record

from trailguard.scan.grants import ANY_AWS_USER, EVERYONE, grant_details, grant_key

OTHER = "999988887777"
OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
OUTSIDE_ID = "d25639fbe9c19cd30a4c0f43fbf00e2d3f96400a9aa8dabfbbebe1906e0e0e0e"


def _rec(source: str, name: str, params: Any, **fields: Any) -> dict[str, Any]:
    return record(name, 1, eventSource=source, requestParameters=params, **fields)


def snapshot(*items: dict[str, str], op: str = "add") -> dict[str, Any]:
    """EC2 ModifySnapshotAttribute as CloudTrail records it (XML-shaped ``items``)."""
    return _rec("ec2.amazonaws.com", "ModifySnapshotAttribute", {
        "snapshotId": "snap-0a1b2c3d4e5f60718",
        "attributeType": "CREATE_VOLUME_PERMISSION",
        "createVolumePermission": {op: {"items": list(items)}},
    })


def bucket_policy(*statements: Any, raw: Any = None) -> dict[str, Any]:
    """S3 PutBucketPolicy: ``bucketPolicy`` is a JSON object in the record."""
    policy = raw if raw is not None else {"Version": "2012-10-17", "Statement": list(statements)}
    return _rec("s3.amazonaws.com", "PutBucketPolicy", {
        "bucketPolicy": policy, "bucketName": "example-app-data",
        "Host": "example-app-data.s3.us-east-1.amazonaws.com", "policy": "",
    })


def trust(event: str, *statements: Any, text: str | None = None) -> dict[str, Any]:
    """IAM UpdateAssumeRolePolicy / CreateRole: ``policyDocument`` is a JSON string."""
    doc = text if text is not None else json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)})
    return _rec("iam.amazonaws.com", event, {"roleName": "DeploymentRole",
                                            "policyDocument": doc})


def allow(principal: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::example-app-data/*"}
    if condition:
        st["Condition"] = condition
    return st


# --- EC2 snapshots -----------------------------------------------------------------------

def test_snapshot_shared_with_another_account() -> None:
    assert grant_details(snapshot({"userId": OTHER})) == {
        "granted_to": [OTHER], "outside_account": True}


def test_snapshot_made_public_and_shared_in_one_call() -> None:
    details = grant_details(snapshot({"group": "all"}, {"userId": OTHER}, {"userId": ACCOUNT}))
    assert details == {"granted_to": [EVERYONE, ACCOUNT, OTHER], "public": True,
                       "outside_account": True}


def test_snapshot_shared_only_within_the_account_is_not_outside() -> None:
    assert grant_details(snapshot({"userId": ACCOUNT})) == {
        "granted_to": [ACCOUNT], "outside_account": False}


def test_snapshot_removal_and_single_item_shape() -> None:
    assert grant_details(snapshot({"group": "all"}, op="remove")) == {}
    single = snapshot()
    single["requestParameters"]["createVolumePermission"]["add"]["items"] = {"userId": OTHER}
    assert grant_details(single)["granted_to"] == [OTHER]


# --- EC2 AMIs and Lambda function policies ------------------------------------------------

def image(*items: dict[str, str], op: str = "add") -> dict[str, Any]:
    """EC2 ModifyImageAttribute: the same XML-shaped ``items`` under ``launchPermission``."""
    return _rec("ec2.amazonaws.com", "ModifyImageAttribute", {
        "imageId": "ami-0a1b2c3d4e5f60718", "attributeType": "launchPermission",
        "launchPermission": {op: {"items": list(items)}},
    })


def test_image_made_public_and_shared_with_an_account_and_an_organization() -> None:
    org = "arn:aws:organizations::111122223333:organization/o-exampleorg1"
    details = grant_details(image({"group": "all"}, {"userId": OTHER}, {"organizationArn": org}))
    assert details == {"granted_to": [EVERYONE, OTHER, org], "public": True,
                       "outside_account": True}
    assert grant_details(image({"userId": OTHER}, op="remove")) == {}
    # other image attributes (a description change) grant nothing
    described = _rec("ec2.amazonaws.com", "ModifyImageAttribute", {
        "imageId": "ami-0a1b2c3d4e5f60718", "description": {"value": "golden image"}})
    assert grant_details(described) == {}


def lambda_permission(principal: Any, **params: Any) -> dict[str, Any]:
    """Lambda AddPermission20150331v2 as CloudTrail records it."""
    return _rec("lambda.amazonaws.com", "AddPermission20150331v2", {
        "functionName": "invoice-export", "statementId": "s1",
        "action": "lambda:InvokeFunction", "principal": principal, **params})


def test_lambda_permission_for_everyone_another_account_and_a_service() -> None:
    assert grant_details(lambda_permission("*")) == {"granted_to": [EVERYONE], "public": True}
    assert grant_details(lambda_permission("*", principalOrgID="o-exampleorg1")) == {
        "granted_to": [EVERYONE], "public": True, "conditions": ["aws:PrincipalOrgID"]}
    assert grant_details(lambda_permission(OTHER)) == {
        "granted_to": [OTHER], "outside_account": True}
    assert grant_details(lambda_permission(
        "s3.amazonaws.com", sourceArn="arn:aws:s3:::example-uploads")) == {
        "granted_to": ["s3.amazonaws.com"]}
    assert grant_details(lambda_permission(None)) == {}


def test_lambda_function_url_without_auth_is_public_not_limited() -> None:
    assert grant_details(lambda_permission("*", functionUrlAuthType="NONE")) == {
        "granted_to": [EVERYONE], "public": True,
        "conditions": ["lambda:FunctionUrlAuthType"], "limited_by": []}
    assert grant_details(lambda_permission(
        "*", functionUrlAuthType="AWS_IAM", sourceAccount=ACCOUNT)) == {
        "granted_to": [EVERYONE], "public": True,
        "conditions": ["AWS:SourceAccount", "lambda:FunctionUrlAuthType"],
        "limited_by": ["AWS:SourceAccount"]}


# --- S3 bucket policies ------------------------------------------------------------------

def test_bucket_policy_public_read() -> None:
    assert grant_details(bucket_policy(allow("*"))) == {"granted_to": [EVERYONE], "public": True}


def test_bucket_policy_public_limited_by_conditions() -> None:
    vpce = {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    org = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
           "IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}
    details = grant_details(bucket_policy(allow({"AWS": "*"}, vpce), allow("*", org)))
    assert details == {"granted_to": [EVERYONE], "public": True,
                       "conditions": ["aws:PrincipalOrgID", "aws:SourceIp", "aws:SourceVpce"]}


@pytest.mark.parametrize("condition", [
    {"Bool": {"aws:SecureTransport": "true"}},
    {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}},
    {"NumericLessThan": {"aws:EpochTime": "1798761600"}},
    {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    {"StringLike": {"aws:UserAgent": "*internal-sync*"}},
    {"StringLike": {"aws:Referer": "https://www.example.com/*"}},
    {"StringEquals": {"aws:PrincipalTag/team": "data"}},
    {"StringEquals": {"sts:ExternalId": "partner-7731"}},
    # narrowing keys that do not narrow: negated, IfExists, Null, wildcard, /0, ForAllValues
    {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
    {"Null": {"aws:SourceVpce": "false"}},
    {"StringLike": {"aws:PrincipalOrgID": "*"}},
    {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "0.0.0.0/0"]}},
    {"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/"]}},
    {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}},  # alone: a private range in any VPC
])
def test_conditions_that_do_not_narrow_who_are_listed_not_limits(condition: Any) -> None:
    details = grant_details(bucket_policy(allow("*", condition)))
    keys = sorted(k for body in condition.values() for k in body)
    assert details == {"granted_to": [EVERYONE], "public": True, "conditions": keys,
                       "limited_by": []}


def test_limited_by_names_only_the_narrowing_keys() -> None:
    cond = {"Bool": {"aws:SecureTransport": "true"},
            "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    assert grant_details(bucket_policy(allow("*", cond))) == {
        "granted_to": [EVERYONE], "public": True,
        "conditions": ["aws:SecureTransport", "aws:SourceVpce"], "limited_by": ["aws:SourceVpce"]}
    vpc = {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"},
           "ForAnyValue:StringEquals": {"aws:SourceVpc": ["vpc-1a2b3c4d"]}}
    assert grant_details(bucket_policy(allow("*", vpc)))["conditions"] == [
        "aws:SourceVpc", "aws:VpcSourceIp"]  # both narrow: limited_by left out
    assert "limited_by" not in grant_details(bucket_policy(allow("*", vpc)))


def test_one_public_statement_without_a_narrowing_key_makes_it_not_limited() -> None:
    vpce = {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    tls = {"Bool": {"aws:SecureTransport": "true"}}
    assert grant_details(bucket_policy(allow("*", vpce), allow({"AWS": "*"}, tls))) == {
        "granted_to": [EVERYONE], "public": True,
        "conditions": ["aws:SecureTransport", "aws:SourceVpce"], "limited_by": []}


def test_one_unconditioned_public_statement_makes_it_plainly_public() -> None:
    vpce = {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    details = grant_details(bucket_policy(allow("*", vpce), allow({"AWS": ["*"]})))
    assert details == {"granted_to": [EVERYONE], "public": True}


def test_conditions_of_non_public_statements_are_not_listed() -> None:
    ext = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    details = grant_details(bucket_policy(
        allow({"Service": "cloudtrail.amazonaws.com"}, ext), allow("*")))
    assert details == {"granted_to": [EVERYONE, "cloudtrail.amazonaws.com"], "public": True}


def test_bucket_policy_principal_shapes_and_deny_ignored() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    details = grant_details(bucket_policy(
        deny,
        allow({"AWS": f"arn:aws:iam::{OTHER}:root"}),
        allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:role/analytics", "444455556666"]}),
        allow({"Federated": "cognito-identity.amazonaws.com"}),
    ))
    assert details == {
        "granted_to": ["444455556666", f"arn:aws:iam::{ACCOUNT}:role/analytics",
                       f"arn:aws:iam::{OTHER}:root", "cognito-identity.amazonaws.com"],
        "outside_account": True,
    }


def test_bucket_policy_in_account_and_service_grants() -> None:
    details = grant_details(bucket_policy(
        allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/analytics",
               "Service": "logging.s3.amazonaws.com"})))
    assert details == {"granted_to": [f"arn:aws:iam::{ACCOUNT}:role/analytics",
                                      "logging.s3.amazonaws.com"], "outside_account": False}


def test_statement_as_a_single_object_and_principal_as_a_list() -> None:
    single = bucket_policy(raw={"Version": "2012-10-17", "Statement": allow("*")})
    assert grant_details(single) == {"granted_to": [EVERYONE], "public": True}
    listed = bucket_policy(allow([f"arn:aws:iam::{OTHER}:root", "*"]))
    assert grant_details(listed) == {"granted_to": [EVERYONE, f"arn:aws:iam::{OTHER}:root"],
                                     "public": True, "outside_account": True}


def test_allow_with_not_principal_is_everyone_else() -> None:
    st = {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
          "Action": "s3:GetObject"}
    assert grant_details(bucket_policy(st)) == {"granted_to": [EVERYONE], "public": True}


def test_grantees_are_capped() -> None:
    accounts = [f"{100000000000 + i}" for i in range(25)]
    details = grant_details(bucket_policy(allow({"AWS": accounts})))
    assert len(details["granted_to"]) == 21
    assert details["granted_to"][:2] == accounts[:2]
    assert details["granted_to"][-1] == "... and 5 more"


THOUSAND = [f"{200000000000 + i}" for i in range(1000)]


def test_star_after_a_thousand_accounts_is_still_public() -> None:
    """QA bypass: the principal list was cut at 1,000 items before "*" was read."""
    expected = {"granted_to": [EVERYONE, *THOUSAND[:19], "... and 981 more"], "public": True,
                "outside_account": True}
    assert grant_details(bucket_policy(allow({"AWS": [*THOUSAND, "*"]}))) == expected
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [*THOUSAND, "*"]}, "Action": "sts:AssumeRole"}]})
    assert grant_details(trust("UpdateAssumeRolePolicy", text=text)) == expected
    # the same when the public statement comes after a thousand others
    statements = [allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/r{i}"}) for i in range(1000)]
    details = grant_details(bucket_policy(*statements, allow("*")))
    assert details["public"] is True and details["granted_to"][0] == EVERYONE
    assert details["outside_account"] is False


def test_outside_account_and_public_items_after_a_thousand() -> None:
    own = [f"arn:aws:iam::{ACCOUNT}:role/r{i}" for i in range(1000)]
    details = grant_details(bucket_policy(allow({"AWS": [*own, f"arn:aws:iam::{OTHER}:root"]})))
    assert details["outside_account"] is True
    assert details["granted_to"][-1] == "... and 981 more"
    shares = snapshot(*({"userId": ACCOUNT} for _ in range(1000)), {"group": "all"})
    assert grant_details(shares) == {"granted_to": [EVERYONE, ACCOUNT], "public": True,
                                     "outside_account": False}
    rds = _rds("ModifyDBSnapshotAttribute", {
        "dBSnapshotIdentifier": "prod-db-final", "attributeName": "restore",
        "valuesToAdd": [*THOUSAND, "all"]})
    assert grant_details(rds)["public"] is True
    acl = _acl([_grantee("CanonicalUser", ID=OWNER_ID)] * 1000 + [
        _grantee("Group", URI="http://acs.amazonaws.com/groups/global/AllUsers")])
    assert grant_details(acl) == {"granted_to": [EVERYONE], "public": True}


# --- IAM trust policies ------------------------------------------------------------------

def test_trust_policy_string_on_update_and_create_role() -> None:
    st = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
          "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x1"}}}
    for event in ("UpdateAssumeRolePolicy", "CreateRole"):
        assert grant_details(trust(event, st)) == {
            "granted_to": [f"arn:aws:iam::{OTHER}:root"], "outside_account": True}


def test_trust_policy_open_to_everyone_limited_by_org() -> None:
    text = ('{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", '
            '"Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": '
            '{"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}]}')
    assert grant_details(trust("UpdateAssumeRolePolicy", text=text)) == {
        "granted_to": [EVERYONE], "public": True, "conditions": ["aws:PrincipalOrgID"]}


def test_inline_permission_policies_are_not_grants() -> None:
    doc = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    for event in ("PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "CreatePolicyVersion"):
        rec = _rec("iam.amazonaws.com", event, {"userName": "bob", "policyDocument": doc})
        assert grant_details(rec) == {}


# --- RDS snapshots -----------------------------------------------------------------------

def _rds(event: str, params: dict[str, Any]) -> dict[str, Any]:
    return _rec("rds.amazonaws.com", event, params)


def test_rds_snapshot_restore_shared_and_public() -> None:
    shared = _rds("ModifyDBSnapshotAttribute", {
        "dBSnapshotIdentifier": "prod-db-final", "attributeName": "restore",
        "valuesToAdd": [OTHER, "444455556666"]})
    assert grant_details(shared) == {"granted_to": ["444455556666", OTHER],
                                     "outside_account": True}
    public = _rds("ModifyDBClusterSnapshotAttribute", {
        "dBClusterSnapshotIdentifier": "prod-aurora", "attributeName": "restore",
        "valuesToAdd": ["all"]})
    assert grant_details(public) == {"granted_to": [EVERYONE], "public": True}
    removed = _rds("ModifyDBSnapshotAttribute", {
        "dBSnapshotIdentifier": "prod-db-final", "attributeName": "restore",
        "valuesToRemove": ["all"]})
    assert grant_details(removed) == {}


# --- S3 ACLs -----------------------------------------------------------------------------

def _acl(grants: Any, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"bucketName": "example-app-data", "acl": [""], **extra}
    if grants is not None:
        params["AccessControlPolicy"] = {
            "AccessControlList": {"Grant": grants},
            "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
            "Owner": {"ID": OWNER_ID},
        }
    return _rec("s3.amazonaws.com", "PutBucketAcl", params)


def _grantee(kind: str, **fields: str) -> dict[str, Any]:
    return {"Grantee": {"xsi:type": kind, "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                        **fields}, "Permission": "READ"}


def test_bucket_acl_groups_owner_and_other_accounts() -> None:
    grants = [
        _grantee("CanonicalUser", ID=OWNER_ID),
        _grantee("Group", URI="http://acs.amazonaws.com/groups/global/AllUsers"),
        _grantee("Group", URI="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"),
        _grantee("CanonicalUser", ID=OUTSIDE_ID),
        _grantee("AmazonCustomerByEmail", EmailAddress="partner@example.com"),
    ]
    assert grant_details(_acl(grants)) == {
        "granted_to": [ANY_AWS_USER, EVERYONE, OUTSIDE_ID, "partner@example.com"],
        "public": True, "outside_account": True}


def test_bucket_acl_owner_only_single_grant_is_nothing() -> None:
    assert grant_details(_acl(_grantee("CanonicalUser", ID=OWNER_ID))) == {}


def test_bucket_acl_canned_and_header_grants() -> None:
    assert grant_details(_acl(None, **{"x-amz-acl": ["public-read"]})) == {
        "granted_to": [EVERYONE], "public": True}
    assert grant_details(_acl(None, **{"x-amz-acl": ["private"]})) == {}
    header = {"x-amz-grant-read": [
        'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers", id="' + OUTSIDE_ID
        + '"']}
    assert grant_details(_acl(None, **header)) == {
        "granted_to": [ANY_AWS_USER, OUTSIDE_ID], "public": True, "outside_account": True}


# --- untrusted input ---------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    None, "text", [], {}, {"policyDocument": "not json {"}, {"policyDocument": 42},
    {"policyDocument": '"just a string"'}, {"policyDocument": '{"Statement": "x"}'},
    {"policyDocument": '{"Statement": [1, null, "x", {"Effect": ["Allow"]}]}'},
    {"policyDocument": '{"Statement": [{"Effect": "Allow"}]}'},
    {"policyDocument": '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": [1, {}]}}]}'},
    {"policyDocument": '[' * 5000 + ']' * 5000},
    {"policyDocument": "x" * (300 * 1024)},
])
def test_malformed_trust_policies_give_no_details(params: Any) -> None:
    assert grant_details(_rec("iam.amazonaws.com", "UpdateAssumeRolePolicy", params)) == {}


@pytest.mark.parametrize("params", [
    {"bucketPolicy": None}, {"bucketPolicy": []}, {"bucketPolicy": {"Statement": 7}},
    {"bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": None},
                                     "Condition": "x"}]}},
    {"AccessControlPolicy": "x"}, {"AccessControlPolicy": {"AccessControlList": {"Grant": 5}}},
    {"x-amz-acl": 3}, {"x-amz-grant-read": [None, 7]},
])
def test_malformed_s3_shapes_give_no_details(params: Any) -> None:
    for event in ("PutBucketPolicy", "PutBucketAcl"):
        assert grant_details(_rec("s3.amazonaws.com", event, params)) == {}


@pytest.mark.parametrize("params", [
    {"createVolumePermission": None}, {"createVolumePermission": {"add": []}},
    {"createVolumePermission": {"add": {"items": ["x", 5, {"userId": 5}]}}},
    {"attributeName": "restore", "valuesToAdd": "all-not-a-list-but-text"},
    {"attributeName": "restore", "valuesToAdd": [None, 1]},
])
def test_malformed_snapshot_shapes(params: Any) -> None:
    ec2 = _rec("ec2.amazonaws.com", "ModifySnapshotAttribute", params)
    rds = _rds("ModifyDBSnapshotAttribute", params)
    assert grant_details(ec2) == {}
    text = params.get("valuesToAdd")
    expected = {"granted_to": [text]} if isinstance(text, str) else {}
    assert grant_details(rds) == expected


def test_a_record_of_another_service_or_event_gives_nothing() -> None:
    rec = bucket_policy(allow("*"))
    assert grant_details({**rec, "eventSource": "iam.amazonaws.com"}) == {}
    assert grant_details({**rec, "eventName": "GetBucketPolicy"}) == {}
    assert grant_details({"eventName": "PutBucketPolicy"}) == {}


def test_grant_key_ignores_what_is_not_a_grant() -> None:
    assert grant_key({}) == ()
    assert grant_key({"actors": ["arn:aws:iam::1:user/a"], "distinct_actors": 1}) == ()
    assert grant_key({"granted_to": [OTHER]}) == ((OTHER,), False, ())
