"""The IAM credential report: generate it, wait for it with backoff, parse its CSV.

One report describes every IAM user (password, MFA, both access keys, both signing
certificates) in two to a few API calls, whatever the number of users. Values AWS uses for
"nothing to say" (``N/A``, ``no_information``, ``not_supported``) parse to None.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from trailguard.audit.context import CheckError

ROOT_USER = "<root_account>"
_EMPTY = {"", "N/A", "no_information", "not_supported"}


class CredentialReportError(CheckError):
    """The report could not be generated or read; the message says why."""


def _date(value: str | None) -> datetime | None:
    if value is None or value.strip() in _EMPTY:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@dataclass
class KeySlot:
    """One of the two access-key columns groups of a credential report row."""

    slot: int
    active: bool
    last_rotated: datetime | None
    last_used: datetime | None
    last_used_region: str | None
    last_used_service: str | None


@dataclass
class CredentialRow:
    """One user (or the root account) of the credential report, with parsed values."""

    user: str
    arn: str
    created: datetime | None
    password_enabled: bool
    password_last_used: datetime | None
    password_last_changed: datetime | None
    mfa_active: bool
    keys: list[KeySlot] = field(default_factory=list)
    certs_active: list[bool] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        """True for the ``<root_account>`` row."""
        return self.user == ROOT_USER

    @property
    def active_keys(self) -> list[KeySlot]:
        """The access key slots that hold an active key."""
        return [k for k in self.keys if k.active]


def _opt(value: str | None) -> str | None:
    return None if value is None or value.strip() in _EMPTY else value.strip()


def parse_credential_report(content: bytes | str) -> list[CredentialRow]:
    """Parse the credential report CSV into rows; unknown extra columns are kept in ``raw``."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    rows = []
    for rec in csv.DictReader(io.StringIO(text)):
        if not rec.get("user"):
            continue
        keys = [
            KeySlot(
                slot=n,
                active=_bool(rec.get(f"access_key_{n}_active")),
                last_rotated=_date(rec.get(f"access_key_{n}_last_rotated")),
                last_used=_date(rec.get(f"access_key_{n}_last_used_date")),
                last_used_region=_opt(rec.get(f"access_key_{n}_last_used_region")),
                last_used_service=_opt(rec.get(f"access_key_{n}_last_used_service")),
            )
            for n in (1, 2)
        ]
        pw = rec.get("password_enabled", "")
        rows.append(
            CredentialRow(
                user=rec["user"],
                arn=rec.get("arn", ""),
                created=_date(rec.get("user_creation_time")),
                # the root row says "not_supported" here; root always has a password
                password_enabled=_bool(pw) or (rec["user"] == ROOT_USER and pw != "false"),
                password_last_used=_date(rec.get("password_last_used")),
                password_last_changed=_date(rec.get("password_last_changed")),
                mfa_active=_bool(rec.get("mfa_active")),
                keys=keys,
                certs_active=[_bool(rec.get(f"cert_{n}_active")) for n in (1, 2)],
                raw=dict(rec),
            )
        )
    return rows


def fetch_credential_report(
    iam: Any,
    timeout: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[CredentialRow], datetime | None]:
    """Generate (or reuse) the credential report and return its rows and generation time.

    Polls ``GenerateCredentialReport`` with exponential backoff (0.5 s doubling to 8 s) until
    AWS says COMPLETE or ``timeout`` seconds pass. When generating is denied but a recent report
    exists, that report is read instead.
    """
    delay, waited, generate_denied = 0.5, 0.0, None
    while True:
        try:
            state = iam.generate_credential_report().get("State")
        except ClientError as exc:
            generate_denied = exc
            break
        if state == "COMPLETE":
            break
        if waited >= timeout:
            raise CredentialReportError(
                f"credential report still {state} after {timeout:.0f}s (GenerateCredentialReport)"
            )
        sleep(delay)
        waited += delay
        delay = min(delay * 2, 8.0)
    try:
        resp = iam.get_credential_report()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Error")
        gen = ""
        if generate_denied is not None:
            gcode = generate_denied.response.get("Error", {}).get("Code", "Error")
            gen = f"{gcode} on iam:GenerateCredentialReport; "
        raise CredentialReportError(f"{gen}{code} on iam:GetCredentialReport") from exc
    generated = resp.get("GeneratedTime")
    return parse_credential_report(resp["Content"]), generated
