"""Password policy checks: missing, weak and strong policies built through the IAM API."""

from __future__ import annotations

from pathlib import Path

from trailguard.audit.config import load_config
from trailguard.findings.model import Severity, Status

POLICY_CHECKS = [
    "iam_password_policy_exists",
    "iam_password_policy_minimum_length_14",
    "iam_password_policy_reuse_24",
    "iam_password_policy_uppercase",
    "iam_password_policy_lowercase",
    "iam_password_policy_symbol",
    "iam_password_policy_number",
    "iam_password_policy_expires_passwords_within_90_days_or_less",
]

STRONG = dict(
    MinimumPasswordLength=14, PasswordReusePrevention=24, RequireUppercaseCharacters=True,
    RequireLowercaseCharacters=True, RequireSymbols=True, RequireNumbers=True, MaxPasswordAge=90,
)


def test_no_policy_fails_every_policy_check(iam, audit) -> None:
    found = audit(*POLICY_CHECKS)
    assert {c: f.status for c, f in found.items()} == {c: Status.FAIL for c in POLICY_CHECKS}
    res = found["iam_password_policy_minimum_length_14"].resources[0]
    assert res.details["problem"] == "no password policy is set"
    assert res.details["expected"] == {"MinimumPasswordLength": 14}


def test_strong_policy_passes_every_policy_check(iam, audit) -> None:
    iam.update_account_password_policy(**STRONG)
    found = audit(*POLICY_CHECKS)
    assert {c: f.status for c, f in found.items()} == {c: Status.PASS for c in POLICY_CHECKS}
    assert all(not f.resources for f in found.values())


def test_weak_policy_fails_length_and_reuse_only(iam, audit) -> None:
    iam.update_account_password_policy(**{**STRONG, "MinimumPasswordLength": 8,
                                          "PasswordReusePrevention": 5})
    found = audit(*POLICY_CHECKS)
    failed = {c for c, f in found.items() if f.status is Status.FAIL}
    assert failed == {"iam_password_policy_minimum_length_14", "iam_password_policy_reuse_24"}
    length = found["iam_password_policy_minimum_length_14"]
    assert length.cis == ["1.8"] and length.severity is Severity.medium
    assert length.remediation == "password-policy"
    assert length.resources[0].details["current"]["MinimumPasswordLength"] == 8


def test_composition_and_expiry_are_low_severity_items(iam, audit) -> None:
    iam.update_account_password_policy(MinimumPasswordLength=14, PasswordReusePrevention=24)
    found = audit(*POLICY_CHECKS)
    failed = {c: f.severity for c, f in found.items() if f.status is Status.FAIL}
    assert failed == {c: Severity.low for c in POLICY_CHECKS[3:]}


def test_thresholds_come_from_the_config_file(iam, audit, tmp_path: Path) -> None:
    iam.update_account_password_policy(**{**STRONG, "MinimumPasswordLength": 16})
    cfg = tmp_path / "audit.yaml"
    cfg.write_text("password_policy:\n  minimum_length: 20\n")
    found = audit("iam_password_policy_minimum_length_14", config=load_config(cfg))
    f = found["iam_password_policy_minimum_length_14"]
    assert f.status is Status.FAIL
    assert f.resources[0].details["expected"] == {"MinimumPasswordLength": 20}
