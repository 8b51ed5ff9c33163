"""Remediation settings: the ``remediate:`` section next to the audit thresholds, one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailguard.audit.config import AuditConfig, ConfigError
from trailguard.remediate.config import RemediateConfig, load_settings


def test_no_file_gives_defaults() -> None:
    assert load_settings(None) == (AuditConfig(), RemediateConfig())


def test_one_file_sets_audit_thresholds_and_remediate_section(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("credentials: {unused_days: 30}\n"
                 "remediate:\n  names: {trail: org-trail}\n"
                 "  access_keys: {delete_after_inactive_days: 60}\n")
    audit, remediate = load_settings(p)
    assert audit.credentials.unused_days == 30
    assert remediate.names.trail == "org-trail" and remediate.names.topic == "trailguard-alerts"
    assert remediate.access_keys.delete_after_inactive_days == 60


@pytest.mark.parametrize("text", ["", "remediate:\n"])
def test_empty_file_or_section_gives_defaults(tmp_path: Path, text: str) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    assert load_settings(p) == (AuditConfig(), RemediateConfig())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("remediate:\n  names: {trial: x}\n", "names.trial: Extra inputs are not permitted"),
        ("remediate:\n  access_keys: {delete_after_inactive_days: 0}\n",
         "access_keys.delete_after_inactive_days"),
        ("[]\n", "expected a mapping at the top level"),
        ("a: [1,\n", "not valid YAML"),
    ],
)
def test_bad_file_is_a_clear_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(p)
    assert str(err.value).startswith(f"{p}: ") and message in str(err.value)
