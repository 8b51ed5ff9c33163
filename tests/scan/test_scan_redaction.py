"""Secrets planted in the user agent never reach findings: redacted, real agents untouched."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from scan_helpers import delivery_bytes, record, write
from typer.testing import CliRunner

from trailguard.cli import app
from trailguard.scan.convert import REDACTED, actor_from_record, redact_secrets

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example key
OTHER_KEY = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def _token(prefix: str, n: int = 300) -> str:
    """A session-token-shaped string: ``prefix`` then ``n`` characters of base64."""
    raw = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(n // 40 + 2))
    return prefix + base64.b64encode(raw).decode()[:n] + "=="


STS_TOKEN = _token("IQoJb3JpZ2luX2VjE")
OLD_TOKEN = _token("FwoGZXIvYXdzEJr", 200)

REAL_AGENTS = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off "
    "command/iam.create-access-key",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "console.amazonaws.com",
    "AWS Internal",
    "signin.amazonaws.com",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) "
    "terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/iam#1.28.5",
    "aws-sdk-java/1.12.600 Linux/5.10.205-195.807.amzn2.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.392-b08 java/1.8.0_392 vendor/Amazon.com_Inc. exec-env/"
    "AWS_Lambda_java8.al2",
    "S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.217-183.860.amzn2int.x86_64",
    "[Mozilla/5.0 see https://docs.aws.amazon.com/com/AmazonS3/latest/userguide/cloudtrail]",
    f"aws-cli/2.15.30 key/{KEY_ID} session/ASIAY34FZKBOKMUTVV7A",
]


@pytest.mark.parametrize("agent", REAL_AGENTS)
def test_real_user_agents_are_unchanged(agent: str) -> None:
    assert redact_secrets(agent) == agent
    assert actor_from_record({"userAgent": agent}).user_agent == agent


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (f"aws-cli/2.15.30 {SECRET_KEY}", f"aws-cli/2.15.30 {REDACTED}"),
        (f"Boto3/1.34.69 creds/{KEY_ID}:{SECRET_KEY}", f"Boto3/1.34.69 creds/{KEY_ID}:{REDACTED}"),
        (f"curl/8.0 {KEY_ID}{OTHER_KEY}", f"curl/8.0 {KEY_ID}{REDACTED}"),
        (f"x?aws_secret_access_key={SECRET_KEY}&y=1", f"x?aws_secret_access_key={REDACTED}&y=1"),
        ("x?secret=" + SECRET_KEY.replace("/", "%2F") + "&y=1", f"x?secret={REDACTED}&y=1"),
        (f"python-requests/2.31 token={STS_TOKEN}", f"python-requests/2.31 token={REDACTED}"),
        (f"{OLD_TOKEN} aws-cli/1.29.0", f"{REDACTED} aws-cli/1.29.0"),
        ("X-Amz-Security-Token=" + STS_TOKEN.replace("/", "%2F").replace("+", "%2B")
         .replace("=", "%3D") + "&a=b", f"X-Amz-Security-Token={REDACTED}&a=b"),
        ("t " + _token("", 120), f"t {REDACTED}"),  # any base64 run of 100+ characters
        (f"k1 {SECRET_KEY} k2 {OTHER_KEY} t {STS_TOKEN}",
         f"k1 {REDACTED} k2 {REDACTED} t {REDACTED}"),
    ],
)
def test_planted_secrets_are_redacted(agent: str, expected: str) -> None:
    assert redact_secrets(agent) == expected
    assert actor_from_record({"userAgent": agent}).user_agent == expected


def test_other_actor_fields_and_odd_values_are_kept() -> None:
    actor = actor_from_record({"userAgent": None, "userIdentity": {"accessKeyId": KEY_ID}})
    assert actor.user_agent is None and actor.access_key_id == KEY_ID
    assert actor_from_record({"userAgent": ""}).user_agent == ""
    assert actor_from_record({"userAgent": 12345}).user_agent == "12345"
    assert actor_from_record({"userAgent": {"nested": SECRET_KEY}}).user_agent is None
    # 39 and 41 characters are not a secret key; a run without digits is a word, not a key
    assert redact_secrets(f"a {SECRET_KEY[:39]} b") == f"a {SECRET_KEY[:39]} b"
    assert redact_secrets(f"a {SECRET_KEY}Z b") == f"a {SECRET_KEY}Z b"
    assert redact_secrets("a " + "AbCd" * 10 + " b") == "a " + "AbCd" * 10 + " b"


RULE = """
title: Test ListUsers Called
id: 44444444-4444-4444-8444-444444444444
status: test
level: high
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: ListUsers
  condition: selection
"""


def test_json_report_carries_no_planted_secret(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules" / "list_users.yml", RULE).parent
    agent = f"aws-cli/2.15.30 Python/3.11.8 {SECRET_KEY} session={STS_TOKEN}"
    write(tmp_path / "logs" / "a.json.gz",
          delivery_bytes([record("ListUsers", 1, userAgent=agent)]))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["scan", str(tmp_path / "logs"), "--rules", str(rules),
                                      "-f", "json", "-o", str(out)])
    assert result.exit_code == 1, result.output
    text = out.read_text()
    (finding,) = [f for f in json.loads(text)["findings"]
                  if f["rule_id"] == "44444444-4444-4444-8444-444444444444"]
    assert finding["actor"]["user_agent"] == (
        f"aws-cli/2.15.30 Python/3.11.8 {REDACTED} session={REDACTED}")
    for secret in (SECRET_KEY, STS_TOKEN, STS_TOKEN[:60]):
        assert secret not in text and secret not in result.output
