"""Remediation settings: a ``remediate:`` section in the same YAML file as the audit thresholds.

The audit rejects unknown keys, so the section is taken out here before the rest is validated
as the audit config. Example (all keys optional)::

    password_policy: {minimum_length: 14, reuse_prevention: 24, max_age_days: 90}  # audit's
    remediate:
      password_policy: {require_symbols: true, require_numbers: true,
                        require_uppercase: true, require_lowercase: true,
                        allow_users_to_change: true, hard_expiry: false}
      access_keys: {delete_after_inactive_days: 30}
      names: {mfa_policy: trailguard-require-mfa, trail: trailguard,
              rule: trailguard-high-severity, topic: trailguard-alerts,
              forward_role: trailguard-events-forward}
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trailguard.audit.config import AuditConfig, config_problems, read_config_file


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PasswordFlags(_Section):
    """Composition and expiry flags set by the password-policy action (CIS v1.2 defaults)."""

    require_symbols: bool = True
    require_numbers: bool = True
    require_uppercase: bool = True
    require_lowercase: bool = True
    allow_users_to_change: bool = True
    hard_expiry: bool = False


class AccessKeyConfig(_Section):
    """When an inactive key may be deleted (and only when named with --delete-inactive-keys)."""

    delete_after_inactive_days: int = Field(30, ge=1)


class Names(_Section):
    """Names of what remediation creates."""

    mfa_policy: str = "trailguard-require-mfa"
    trail: str = "trailguard"
    rule: str = "trailguard-high-severity"
    topic: str = "trailguard-alerts"
    target_id: str = "trailguard-sns"
    forward_target_id: str = "trailguard-forward"
    forward_role: str = "trailguard-events-forward"


class RemediateConfig(_Section):
    """Every remediation setting, with defaults."""

    password_policy: PasswordFlags = Field(default_factory=PasswordFlags)
    access_keys: AccessKeyConfig = Field(default_factory=AccessKeyConfig)
    names: Names = Field(default_factory=Names)


def load_settings(path: str | Path | None = None) -> tuple[AuditConfig, RemediateConfig]:
    """Load audit thresholds and remediation settings from one YAML file (None: defaults)."""
    if path is None:
        return AuditConfig(), RemediateConfig()
    p = Path(path)
    data = read_config_file(p)
    section = data.pop("remediate", None) or {}
    try:
        return AuditConfig.model_validate(data), RemediateConfig.model_validate(section)
    except ValidationError as exc:
        raise config_problems(p, exc) from exc
