"""Audit thresholds: one YAML file (``--config FILE``); every default follows CIS AWS Foundations.

Example (all keys optional)::

    password_policy: {minimum_length: 14, reuse_prevention: 24, max_age_days: 90}
    credentials: {unused_days: 45, access_key_max_age_days: 90, resolve_key_ids: true}
    root: {recent_use_days: 30}
    credential_report: {timeout_seconds: 120}
    alerting: {regions: []}   # empty: us-east-1, the session region, trails' home regions
    exceptions:               # accepted risks: matching FAIL resources become MUTED
      - {check: iam_user_mfa_enabled_console_access, resource: break-glass,
         reason: "CISO, RISK-42: password in the safe", expires: 2027-06-30}
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trailguard.audit.catalog import load_catalog


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PasswordPolicyConfig(_Section):
    """Password policy thresholds (CIS 1.8, 1.9; v1.2 1.11 for expiry)."""

    minimum_length: int = Field(14, ge=6, le=128)
    reuse_prevention: int = Field(24, ge=1, le=24)
    max_age_days: int = Field(90, ge=1, le=1095)


class CredentialsConfig(_Section):
    """Unused and old credential thresholds (CIS 1.12, 1.14)."""

    unused_days: int = Field(45, ge=0)
    access_key_max_age_days: int = Field(90, ge=0)
    # Look up access key ids (one list_access_keys per *failing* user) so fixes can name keys.
    resolve_key_ids: bool = True


class RootConfig(_Section):
    """Root user: how recent a use counts as "used recently" (CIS 1.7)."""

    recent_use_days: int = Field(30, ge=0)


class CredentialReportConfig(_Section):
    """How long to wait for IAM to generate the credential report."""

    timeout_seconds: float = Field(120, gt=0)


class AlertingConfig(_Section):
    """Regions whose EventBridge rules count; empty: us-east-1, session and trail home regions."""

    regions: list[str] = Field(default_factory=list)


def unknown_check_message(check: str) -> str:
    """Why ``check`` is not a check id, with the likely intended ids, else every valid one."""
    known = list(load_catalog())
    close = difflib.get_close_matches(check, known, n=3, cutoff=0.6)
    hint = (f"did you mean {', '.join(close)}?" if close
            else f"valid check ids: {', '.join(known)}")
    return f"unknown check id {check!r}; {hint} (trailguard audit --list-checks)"


class AuditException(_Section):
    """An accepted risk: FAIL resources of ``check`` it covers are reported MUTED, not FAIL.

    ``resource`` is a glob (``fnmatch``, case-sensitive) on a failing resource's id or name
    (omitted: every resource of the check); ``account`` limits it to one 12-digit account.
    ``reason`` says who accepted the risk and why (a ticket). After ``expires`` (a date, valid
    through that day, UTC) it no longer applies and the audit says so.
    """

    check: str
    resource: str | None = Field(None, min_length=1)
    account: str | None = Field(None, pattern=r"^\d{12}$")
    reason: str = Field(min_length=1)
    expires: date | None = None

    @field_validator("check")
    @classmethod
    def _known_check(cls, value: str) -> str:
        if value not in load_catalog():
            raise ValueError(unknown_check_message(value))
        return value

    @field_validator("account", mode="before")
    @classmethod
    def _account_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if len(str(value)) != 12:  # YAML read it as a number and dropped leading zeros
                raise ValueError("write the 12-digit account id in quotes")
            return str(value)
        return value

    @field_validator("reason")
    @classmethod
    def _real_reason(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("reason must say who accepted the risk and why (e.g. a ticket)")
        return value

    def label(self, index: int) -> str:
        """How summaries name the exception: its position in the file, check and resource."""
        where = f", account {self.account}" if self.account else ""
        return f"exception #{index + 1} ({self.check}, {self.resource or 'any resource'}{where})"


class AuditConfig(_Section):
    """Every tunable number of the audit, with CIS defaults."""

    password_policy: PasswordPolicyConfig = Field(default_factory=PasswordPolicyConfig)
    credentials: CredentialsConfig = Field(default_factory=CredentialsConfig)
    root: RootConfig = Field(default_factory=RootConfig)
    credential_report: CredentialReportConfig = Field(default_factory=CredentialReportConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    exceptions: list[AuditException] = Field(default_factory=list)


class ConfigError(ValueError):
    """The audit config file is missing, not YAML, or has unknown keys or bad values."""


def read_config_file(path: Path) -> dict[str, Any]:
    """The top-level mapping of the YAML config file ``path`` ({} when the file is empty).

    Raises ConfigError naming the file when it cannot be read, is not YAML, or is not a mapping.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def config_problems(path: Path, exc: ValidationError) -> ConfigError:
    """A ConfigError naming ``path`` and each invalid key (dotted) with pydantic's reason."""
    problems = "; ".join(
        f"{'.'.join(str(x) for x in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )
    return ConfigError(f"{path}: {problems}")


def load_config(path: str | Path | None = None) -> AuditConfig:
    """Load the audit config from a YAML file, or return the CIS defaults when ``path`` is None."""
    if path is None:
        return AuditConfig()
    p = Path(path)
    data = read_config_file(p)
    try:
        return AuditConfig.model_validate(data)
    except ValidationError as exc:
        raise config_problems(p, exc) from exc
