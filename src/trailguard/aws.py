"""One place that builds boto3 sessions and clients for every trailguard command.

It uses the standard credential chain, ``--profile`` and ``--region`` and nothing else:
boto3 honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``) by itself, which is
how the tests point trailguard at a moto server without any test-only option.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from trailguard import __version__

DEFAULT_REGION = "us-east-1"


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """Return a boto3 session from the standard chain, optionally for a named profile/region."""
    session = boto3.Session(profile_name=profile, region_name=region)
    if session.region_name is None:
        session = boto3.Session(profile_name=profile, region_name=DEFAULT_REGION)
    return session


def client_config(max_attempts: int = 10, max_pool_connections: int = 10) -> Config:
    """Return the botocore config trailguard uses: adaptive retries and its own user agent.

    ``max_pool_connections`` (botocore's default 10) must cover the threads sharing a client.
    """
    return Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        user_agent_extra=f"trailguard/{__version__}",
        max_pool_connections=max_pool_connections,
    )


def make_client(
    session: boto3.Session, service: str, region: str | None = None, max_pool_connections: int = 10
) -> Any:
    """Return a client for ``service`` with trailguard's retry and user-agent settings."""
    return session.client(
        service,
        region_name=region or session.region_name,
        config=client_config(max_pool_connections=max_pool_connections),
    )
