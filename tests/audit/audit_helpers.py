"""Helpers shared by the audit tests (importable as ``audit_helpers``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

DAY = dt.timedelta(days=1)


def later(days: int, minutes: int = 0) -> dt.datetime:
    """A reference time ``days`` (and minutes) after now (moto stamps the current time)."""
    return dt.datetime.now(dt.UTC) + days * DAY + dt.timedelta(minutes=minutes)


def canned(session: boto3.Session, operation: str, parsed: dict[str, Any]) -> None:
    """Answer ``operation`` (e.g. ``iam.GetAccountSummary``) with a real-shaped response.

    For states moto cannot build (root MFA, root keys, a ``<root_account>`` report row):
    botocore's before-call event lets a handler supply the response, like Stubber does.
    """

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://iam.amazonaws.com", 200, {}, None), parsed

    session.events.register(f"before-call.{operation}", handler)


def ssh_public_key() -> str:
    """A real RSA public key in OpenSSH format (moto validates it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def x509_certificate() -> str:
    """A self-signed X.509 certificate in PEM (moto validates it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trailguard-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY).not_valid_after(now + 365 * DAY)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def auditor_session(iam, deny: list[str]) -> boto3.Session:
    """Create user "auditor" allowed everything but ``deny``; return a session with its key."""
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": deny, "Resource": "*"},
        ],
    }))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"], region_name="us-east-1")
