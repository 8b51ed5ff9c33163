"""What checks share while auditing one account: clients, API call counts, cached reads."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from trailguard.audit.config import AuditConfig
from trailguard.aws import client_config, make_client
from trailguard.findings.model import Resource


class CheckError(Exception):
    """A check cannot decide PASS or FAIL; the message is the reason reported with ERROR."""


def error_reason(exc: BaseException) -> str:
    """Return a one-line reason for an AWS error: ``AccessDenied on GetAccountPasswordPolicy``."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Error"))
        msg = (err.get("Message") or "").strip()
        if code.isdigit():  # an XML error body where JSON was expected (proxies, emulators)
            m = re.search(r"<Code>([^<]+)</Code>", msg)
            code = m.group(1) if m else f"HTTP {code}"
            m = re.search(r"<Message>([^<]*)</Message>", msg)
            msg = m.group(1) if m else ""
        text = f"{code} on {exc.operation_name}"
        if code in ("AccessDenied", "AccessDeniedException") or not msg:
            return text
        return f"{text}: {msg[:200]}"
    if isinstance(exc, CheckError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@dataclass
class CheckOutcome:
    """What a check function returns: failing resources and anything it could not evaluate."""

    failed: list[Resource] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    evaluated: int = 0
    reason: str | None = None  # why it FAILs, when the failing resources do not say it all


class ApiCallCounter:
    """Counts API operations per ``service.Operation`` via botocore's ``before-call`` event."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, event_name: str = "", **_: Any) -> None:
        """Event handler: ``event_name`` is ``before-call.<service>.<Operation>``."""
        key = event_name.removeprefix("before-call.")
        with self._lock:
            self.calls[key] += 1

    @property
    def total(self) -> int:
        """All API operations called so far."""
        return sum(self.calls.values())


class AuditContext:
    """One account being audited: its session, config, reference time and memoized reads.

    Reads that several checks need (credential report, account summary, trails...) run once;
    a failed read is remembered too, so every check depending on it reports the same ERROR.
    """

    def __init__(
        self,
        session: boto3.Session,
        config: AuditConfig,
        now: datetime | None = None,
        counter: ApiCallCounter | None = None,
        account_id: str | None = None,
    ) -> None:
        self.session = session
        self.config = config
        self.now = now or datetime.now(UTC)
        self.region: str = session.region_name or "us-east-1"
        self.counter = counter or ApiCallCounter()
        self._clients: dict[tuple[str, str], Any] = {}
        self._cache: dict[str, tuple[bool, Any]] = {}
        self._account_id: str | None = account_id  # known already: no second GetCallerIdentity
        self.notes: list[str] = []  # things the audit could not read but did not need

    def client(self, service: str, region: str | None = None) -> Any:
        """Return a (cached) client with adaptive retries whose calls are counted."""
        key = (service, region or self.region)
        if key not in self._clients:
            if service == "s3control":
                # The account-level block is optional information (bucket settings decide
                # otherwise), so do not spend the full retry budget on it.
                c = self.session.client(service, region_name=key[1],
                                        config=client_config(max_attempts=2))
            else:
                c = make_client(self.session, service, region=key[1])
            c.meta.events.register("before-call", self.counter)
            self._clients[key] = c
        return self._clients[key]

    def cached(self, name: str, fetch: Callable[[], Any]) -> Any:
        """Run ``fetch`` once per account; re-raise its error as CheckError on later calls too."""
        if name not in self._cache:
            try:
                self._cache[name] = (True, fetch())
            except Exception as exc:  # noqa: BLE001 - AWS, network or parse errors alike
                self._cache[name] = (False, CheckError(error_reason(exc)))
        ok, value = self._cache[name]
        if not ok:
            raise value
        return value

    @property
    def account_id(self) -> str:
        """The audited account's id (sts:GetCallerIdentity, once)."""
        if self._account_id is None:
            self._account_id = self.cached(
                "account_id", lambda: self.client("sts").get_caller_identity()["Account"]
            )
        return self._account_id

    def paginate(self, client: Any, operation: str, result_key: str, **kwargs: Any) -> list:
        """Return all items of a paginated list operation."""
        out: list = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            out.extend(page.get(result_key, []))
        return out
