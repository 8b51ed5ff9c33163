"""Helpers for remediation tests: a non-compliant account built through the API, a snapshot
of everything remediation may touch, a moto workaround and a fault injector (test-only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

DAY = dt.timedelta(days=1)


def later(days: int) -> dt.datetime:
    """A reference time ``days`` after now (moto stamps everything with the current time)."""
    return dt.datetime.now(dt.UTC) + days * DAY


def ssh_public_key() -> str:
    """A real RSA public key in OpenSSH format (moto validates it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def x509_certificate() -> str:
    """A self-signed X.509 certificate in PEM (moto validates it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trailguard-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + 365 * DAY)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def build_noncompliant(console_user: bool = True) -> dict[str, Any]:
    """A weak account: weak password policy (with two stricter settings to keep), a console
    user without MFA and two keys, an inactive user with an SSH key and a certificate, no
    trail, no alerting; plus unrelated resources that must survive untouched."""
    iam = boto3.client("iam")
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=True,
                                       MaxPasswordAge=30)
    iam.create_user(UserName="alice")
    if console_user:
        iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    k1 = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    k2 = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.create_user(UserName="carol")
    ssh = iam.upload_ssh_public_key(UserName="carol", SSHPublicKeyBody=ssh_public_key())
    cert = iam.upload_signing_certificate(UserName="carol", CertificateBody=x509_certificate())
    doc = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    pol = iam.create_policy(PolicyName="existing-readonly", PolicyDocument=json.dumps(doc))
    iam.attach_user_policy(UserName="carol", PolicyArn=pol["Policy"]["Arn"])
    boto3.client("sns").create_topic(Name="other-topic")
    return {"keys": [k1, k2], "ssh": ssh["SSHPublicKey"]["SSHPublicKeyId"],
            "cert": cert["Certificate"]["CertificateId"]}


def _maybe(fn: Any, default: Any, *codes: str) -> Any:
    try:
        return fn()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in codes:
            return default
        raise


def snapshot() -> dict[str, Any]:
    """Everything remediation may change, read through the API, in comparable form."""
    iam, ct = boto3.client("iam"), boto3.client("cloudtrail")
    ev, sns = boto3.client("events"), boto3.client("sns")
    users: dict[str, Any] = {}
    for u in iam.list_users()["Users"]:
        name = u["UserName"]
        lp = _maybe(lambda n=name: iam.get_login_profile(UserName=n)["LoginProfile"], None,
                    "NoSuchEntity")
        users[name] = {
            "login_profile": None if lp is None
            else {"PasswordResetRequired": lp.get("PasswordResetRequired", False)},
            "access_keys": {k["AccessKeyId"]: k["Status"]
                            for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]},
            "ssh_keys": {k["SSHPublicKeyId"]: k["Status"]
                         for k in iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"]},
            "certificates": {c["CertificateId"]: c["Status"] for c in
                             iam.list_signing_certificates(UserName=name)["Certificates"]},
            "attached_policies": sorted(
                p["PolicyArn"] for p in
                iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
        }
    policy = _maybe(lambda: iam.get_account_password_policy()["PasswordPolicy"], None,
                    "NoSuchEntity")
    trails = {}
    for t in ct.describe_trails()["trailList"]:
        status = ct.get_trail_status(Name=t["Name"])
        trails[t["Name"]] = {
            "IsMultiRegionTrail": t.get("IsMultiRegionTrail"),
            "IncludeGlobalServiceEvents": t.get("IncludeGlobalServiceEvents"),
            "LogFileValidationEnabled": t.get("LogFileValidationEnabled"),
            "S3BucketName": t.get("S3BucketName"), "IsLogging": status.get("IsLogging")}
    rules = {}
    for r in ev.list_rules()["Rules"]:
        targets = ev.list_targets_by_rule(Rule=r["Name"])["Targets"]
        rules[r["Name"]] = {"EventPattern": r.get("EventPattern"), "State": r.get("State"),
                            "targets": sorted(t["Id"] for t in targets)}
    topics = {}
    for t in sns.list_topics()["Topics"]:
        attrs = sns.get_topic_attributes(TopicArn=t["TopicArn"])["Attributes"]
        topics[t["TopicArn"]] = json.loads(attrs.get("Policy") or "{}")
    return {
        "users": users, "password_policy": policy,
        "customer_policies": sorted(p["PolicyName"] for p in
                                    iam.list_policies(Scope="Local")["Policies"]),
        "trails": trails, "rules": rules, "topics": topics,
    }


def differences(a: dict[str, Any], b: dict[str, Any], path: str = "") -> list[str]:
    """Field-by-field differences between two snapshots (empty when equal)."""
    out = []
    for k in sorted(set(a) | set(b), key=str):
        p = f"{path}.{k}" if path else str(k)
        if k not in a or k not in b:
            out.append(f"{p}: only in {'after' if k not in a else 'before'}")
        elif isinstance(a[k], dict) and isinstance(b[k], dict):
            out.extend(differences(a[k], b[k], p))
        elif a[k] != b[k]:
            out.append(f"{p}: {a[k]!r} != {b[k]!r}")
    return out


def emulate_real_login_profile_reset(session: boto3.Session) -> list[dict[str, Any]]:
    """TEST-ONLY workaround for a moto bug; the product never does this.

    Real AWS: UpdateLoginProfile(UserName, PasswordResetRequired=True) keeps the password.
    moto 5.x: without ``Password`` it deletes the login profile. So that tests see what AWS
    would do, this hook adds a throwaway password to the request just before it is sent (after
    trailguard has planned and journaled the call without one). The recorded parameters as the
    product built them are returned for assertions.
    """
    seen: list[dict[str, Any]] = []

    def add_password(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))
        if "Password" not in params:
            params["Password"] = "Test-Only-Moto-Workaround-1"

    session.events.register("before-parameter-build.iam.UpdateLoginProfile", add_password)
    return seen


def fail_on(session: boto3.Session, operation: str, nth: int = 1) -> list[str]:
    """Make the ``nth`` call of ``operation`` (e.g. ``cloudtrail.CreateTrail``) raise a
    ClientError, as a real API failure would; returns the calls seen (botocore before-call)."""
    calls: list[str] = []

    def hook(event_name: str, **_: Any) -> None:
        op = event_name.removeprefix("before-call.")
        calls.append(op)
        if op == operation and calls.count(op) == nth:
            raise ClientError({"Error": {"Code": "InternalFailure",
                                         "Message": "injected by the test"}},
                              op.split(".")[1])

    session.events.register("before-call", hook)
    return calls
