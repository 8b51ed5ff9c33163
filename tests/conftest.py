"""Shared test fixtures: a real moto server over HTTP that boto3 reaches via AWS_ENDPOINT_URL.

The product has no test mode: these fixtures only set the standard environment variables
(endpoint, dummy credentials, region) that any boto3 program honours.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator

import pytest

# Werkzeug prints an access-log line per request even with verbose=False.
logging.getLogger("werkzeug").setLevel(logging.ERROR)

TEST_ACCOUNT_ID = "123456789012"  # moto's default, documented fake account id


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Start one moto server on a free loopback port for the test session; yield its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    yield url
    server.stop()


@pytest.fixture(scope="session")
def empty_aws_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty AWS config/credentials file, so no developer profile leaks into tests."""
    path = tmp_path_factory.mktemp("awsconfig") / "empty"
    path.write_text("")
    return str(path)


@pytest.fixture()
def aws(
    moto_server: str, empty_aws_config: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Point boto3 at a freshly reset moto server with dummy credentials; yield the endpoint.

    Resets all moto state before each test so tests never see each other's resources.
    """
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    ).read()
    for var in list(os.environ):
        if var.startswith("AWS_"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", empty_aws_config)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", empty_aws_config)
    yield moto_server
