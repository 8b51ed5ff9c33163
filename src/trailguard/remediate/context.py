"""The account being remediated: clients per service and region, and running planned calls."""

from __future__ import annotations

from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError

from trailguard.aws import make_client
from trailguard.remediate.schema import ApiCall

GLOBAL_REGION = "us-east-1"  # where IAM, STS and sign-in events reach EventBridge


class RemediationContext:
    """One account: its session, home region, account id, and cached clients."""

    def __init__(self, session: boto3.Session, region: str | None = None) -> None:
        self.session = session
        self.region: str = region or session.region_name or GLOBAL_REGION
        self._clients: dict[tuple[str, str], Any] = {}
        self._account_id: str | None = None
        self._caller_arn: str | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client with trailguard's retry settings."""
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = make_client(self.session, service, region=key[1])
        return self._clients[key]

    def _identity(self) -> None:
        ident = self.client("sts").get_caller_identity()
        self._account_id, self._caller_arn = ident["Account"], ident.get("Arn", "")

    @property
    def account_id(self) -> str:
        """The account id of the session (sts:GetCallerIdentity, once)."""
        if self._account_id is None:
            self._identity()
        return str(self._account_id)

    @property
    def caller_user(self) -> str | None:
        """The IAM user name trailguard runs as (None for roles and root)."""
        if self._caller_arn is None:
            self._identity()
        arn = self._caller_arn or ""
        return arn.rsplit("/", 1)[-1] if ":user/" in arn else None

    @property
    def caller_key(self) -> str | None:
        """The access key id of the session's credentials, if any."""
        creds = self.session.get_credentials()
        return creds.access_key if creds is not None else None

    def call(self, call: ApiCall) -> dict[str, Any]:
        """Run one planned API call exactly as planned; return the response without metadata."""
        client = self.client(call.service, call.region)
        response = getattr(client, xform_name(call.operation))(**call.params)
        response.pop("ResponseMetadata", None)
        return response


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def describe_error(exc: BaseException) -> str:
    """A one-line description of an error, without request ids or parameters."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        msg = str(err.get("Message") or "").strip()[:200]
        text = f"{err.get('Code', 'Error')} on {exc.operation_name}"
        return f"{text}: {msg}" if msg else text
    return f"{type(exc).__name__}: {exc}"[:300]
