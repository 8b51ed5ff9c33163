"""Config file: CIS defaults, overrides, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailguard.audit.config import ConfigError, load_config


def test_defaults_follow_cis() -> None:
    cfg = load_config(None)
    assert cfg.password_policy.minimum_length == 14
    assert cfg.password_policy.reuse_prevention == 24
    assert cfg.credentials.unused_days == 45
    assert cfg.credentials.access_key_max_age_days == 90


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("credentials:\n  unused_days: 30\n")
    cfg = load_config(p)
    assert cfg.credentials.unused_days == 30
    assert cfg.credentials.access_key_max_age_days == 90


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("credentials:\n  unused_dayz: 30\n", "credentials.unused_dayz"),
        ("password_policy:\n  minimum_length: 2\n", "password_policy.minimum_length"),
        ("- a\n- b\n", "expected a mapping"),
        ("a: [1,\n", "not valid YAML"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(p)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_example_config_is_valid_and_equals_defaults() -> None:
    from trailguard.audit import config as config_module

    example = Path(config_module.__file__).with_name("audit.example.yaml")
    assert load_config(example) == load_config(None)
