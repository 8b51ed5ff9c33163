"""Audit thresholds: one YAML file (``--config FILE``); every default follows CIS AWS Foundations.

Example (all keys optional)::

    password_policy: {minimum_length: 14, reuse_prevention: 24, max_age_days: 90}
    credentials: {unused_days: 45, access_key_max_age_days: 90, resolve_key_ids: true}
    root: {recent_use_days: 30}
    credential_report: {timeout_seconds: 120}
    alerting: {regions: []}   # empty: us-east-1, the session region, trails' home regions
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


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


class AuditConfig(_Section):
    """Every tunable number of the audit, with CIS defaults."""

    password_policy: PasswordPolicyConfig = Field(default_factory=PasswordPolicyConfig)
    credentials: CredentialsConfig = Field(default_factory=CredentialsConfig)
    root: RootConfig = Field(default_factory=RootConfig)
    credential_report: CredentialReportConfig = Field(default_factory=CredentialReportConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)


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
        f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()
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
