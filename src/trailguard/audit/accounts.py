"""Audit many accounts: assume a role into each (listed, or every account of the organization)
with a bounded pool of workers. An account that fails is reported as ERROR; the others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from trailguard.audit.config import AuditConfig
from trailguard.audit.context import ApiCallCounter, error_reason
from trailguard.audit.engine import error_findings, run_audit, select_checks
from trailguard.aws import make_client
from trailguard.findings.model import Finding

SESSION_NAME = "trailguard-audit"


def org_account_ids(session: boto3.Session, counter: ApiCallCounter | None = None) -> list[str]:
    """Ids of the ACTIVE accounts of the caller's organization (ListAccounts, paginated)."""
    org = make_client(session, "organizations")
    if counter is not None:
        org.meta.events.register("before-call", counter)
    ids = []
    for page in org.get_paginator("list_accounts").paginate():
        ids.extend(a["Id"] for a in page["Accounts"] if a.get("Status", "ACTIVE") == "ACTIVE")
    return ids


def parse_account_ids(text: str) -> list[str]:
    """Split ``--accounts`` (comma separated); raise ValueError unless each is 12 digits."""
    ids = [a.strip() for a in text.split(",") if a.strip()]
    bad = [a for a in ids if not (len(a) == 12 and a.isdigit())]
    if bad or not ids:
        raise ValueError(f"account ids must be 12 digits, got: {', '.join(bad) or '(none)'}")
    return list(dict.fromkeys(ids))


def assume_role_session(
    sts: Any, account_id: str, role_name: str, region: str | None, partition: str = "aws"
) -> boto3.Session:
    """Return a boto3 session with the temporary credentials of ``role_name`` in the account."""
    creds = sts.assume_role(
        RoleArn=f"arn:{partition}:iam::{account_id}:role/{role_name}",
        RoleSessionName=SESSION_NAME,
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def audit_accounts(
    session: boto3.Session,
    account_ids: list[str],
    role_name: str,
    config: AuditConfig | None = None,
    check_ids: list[str] | None = None,
    workers: int = 4,
    now: datetime | None = None,
    counter: ApiCallCounter | None = None,
    on_done: Callable[[str, list[Finding]], None] | None = None,
) -> list[Finding]:
    """Assume ``role_name`` in each account and audit it, ``workers`` accounts at a time.

    Findings come back grouped by account in the order given. The caller's own account is
    audited with the caller's credentials (no role needed). If the role cannot be assumed,
    every selected check of that account is an ERROR naming the reason.
    """
    ids = select_checks(check_ids)
    counter = counter or ApiCallCounter()
    sts = make_client(session, "sts")  # clients are thread-safe; sessions are not
    sts.meta.events.register("before-call", counter)

    try:  # the caller's own account is audited with the caller's credentials
        own = sts.get_caller_identity()["Account"]
    except (ClientError, BotoCoreError):
        own = None

    def one(account_id: str) -> list[Finding]:
        try:
            if account_id == own:
                sub = session  # only this worker creates clients from it
            else:
                sub = assume_role_session(sts, account_id, role_name, session.region_name)
        except (ClientError, BotoCoreError) as exc:
            found = error_findings(ids, account_id, f"cannot assume role {role_name}: "
                                   f"{error_reason(exc)}")
        else:
            found = run_audit(sub, config, ids, now=now, counter=counter)
            for f in found:
                if f.account_id is None:
                    f.account_id = account_id
        if on_done:
            on_done(account_id, found)
        return found

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, account_ids))
    return [f for group in results for f in group]
