"""Helpers for audit tests: account states built through the API of the moto server."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from trailguard.audit.engine import run_audit
from trailguard.aws import make_session
from trailguard.findings.model import Finding


@pytest.fixture()
def iam(aws: str) -> Any:
    """An IAM client on the moto server (admin credentials of the fixture)."""
    return boto3.client("iam")


@pytest.fixture()
def audit(aws: str) -> Callable[..., dict[str, Finding]]:
    """Run the audit on the moto account; return findings by check id."""

    def run(*check_ids: str, session: boto3.Session | None = None, **kw: Any) -> dict[str, Finding]:
        found = run_audit(session or make_session(), check_ids=list(check_ids) or None, **kw)
        return {f.rule_id: f for f in found}

    return run


@pytest.fixture()
def enforce_auth(aws: str) -> Iterator[Callable[[], None]]:
    """Turn on moto's IAM authorization for the rest of the test (restored afterwards)."""

    def post(value: str) -> None:
        urllib.request.urlopen(
            urllib.request.Request(f"{aws}/moto-api/reset-auth", data=value.encode(),
                                   method="POST", headers={"Content-Type": "text/plain"})
        ).read()

    yield lambda: post("0")
    post("inf")


@pytest.fixture(autouse=True)
def _empty_aws_config(aws: str, tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Use an empty config file of our own instead of os.devnull.

    On this machine /dev/null was at times replaced by a regular file holding text, and
    botocore then fails with ConfigParseError; a real empty file is immune to that.
    """
    empty = tmp_path_factory.getbasetemp() / "empty-aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
