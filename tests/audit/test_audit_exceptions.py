"""Audit exceptions (accepted risks): config validation, muting and splitting, the summary,
exit codes, and the `trailguard audit` command on a moto account."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trailguard.audit.config import AuditConfig, AuditException, ConfigError, load_config
from trailguard.audit.exceptions import apply_exceptions
from trailguard.cli import app
from trailguard.findings.model import Finding, Resource, Severity, Status

runner = CliRunner()
ACCT, OTHER = "123456789012", "111122223333"
MFA = "iam_user_mfa_enabled_console_access"
ROTATE = "iam_rotate_access_key_90_days"
TODAY = date(2026, 11, 24)


def user(name: str, account: str = ACCT) -> Resource:
    """An IAM user resource as the credential checks report it."""
    return Resource(type="AwsIamUser", id=f"arn:aws:iam::{account}:user/{name}", name=name,
                    account_id=account, details={"user_name": name})


def fail(check: str = MFA, *names: str, account: str = ACCT, reason: str | None = None
         ) -> Finding:
    """A FAIL of ``check`` listing the users ``names``."""
    return Finding(kind="posture", rule_id=check, title=check, severity=Severity.high,
                   status=Status.FAIL, account_id=account, reason=reason,
                   resources=[user(n, account) for n in names])


def exc(**kw) -> AuditException:
    """An exception; ``check`` defaults to the MFA check, ``reason`` to a ticket."""
    return AuditException.model_validate({"check": MFA, "reason": "SEC-1 by CISO", **kw})


def write(tmp_path: Path, text: str) -> Path:
    """Write an audit config file."""
    p = tmp_path / "audit.yaml"
    p.write_text(text)
    return p


# --- config ----------------------------------------------------------------------------------

def test_exceptions_load_from_yaml(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, f"""
exceptions:
  - check: {MFA}
    resource: "arn:aws:iam::*:user/break-glass"
    account: "{ACCT}"
    reason: "break-glass user, password in the safe; approved by CISO (RISK-42)"
    expires: 2027-06-30
  - check: {ROTATE}
    account: {OTHER}
    reason: vendor key, IP-restricted (RISK-43)
"""))
    first, second = cfg.exceptions
    assert (first.check, first.resource, first.account, first.expires) == (
        MFA, "arn:aws:iam::*:user/break-glass", ACCT, date(2027, 6, 30))
    assert (second.resource, second.account, second.expires) == (None, OTHER, None)


@pytest.mark.parametrize(("item", "message"), [
    ({"check": "iam_user_mfa_enabled", "reason": "x"},
     f"exceptions.0.check: unknown check id 'iam_user_mfa_enabled'; did you mean "
     f"iam_root_mfa_enabled, {MFA}, iam_root_hardware_mfa_enabled?"),
    ({"check": "no_such_check", "reason": "x"}, "valid check ids: iam_password_policy_exists,"),
    ({"check": MFA}, "exceptions.0.reason: Field required"),
    ({"check": MFA, "reason": "   "}, "exceptions.0.reason: reason must say who accepted"),
    ({"check": MFA, "reason": "x", "account": "1234"}, "exceptions.0.account: String should"),
    ({"check": MFA, "reason": "x", "account": 1234}, "write the 12-digit account id in quotes"),
    ({"check": MFA, "reason": "x", "expires": "2027-02-30"}, "exceptions.0.expires"),
    ({"check": MFA, "reason": "x", "resources": "a"}, "exceptions.0.resources: Extra inputs"),
])
def test_bad_exception_is_a_config_error(tmp_path: Path, item: dict, message: str) -> None:
    import yaml

    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, yaml.safe_dump({"exceptions": [item]})))
    assert message in str(info.value)


# --- muting and splitting ----------------------------------------------------------------------

def test_glob_on_arn_mutes_that_user_and_the_others_stay_fail() -> None:
    found = [fail(MFA, "alice", "break-glass", "bob")]
    out = apply_exceptions(found, [exc(resource="arn:aws:iam::*:user/break-glass",
                                       expires="2027-06-30")], TODAY)
    failed, muted = out.findings
    assert (failed.status, [r.name for r in failed.resources]) == (Status.FAIL, ["alice", "bob"])
    assert (muted.status, [r.name for r in muted.resources]) == (Status.MUTED, ["break-glass"])
    assert muted.reason == "accepted: SEC-1 by CISO (exception expires 2027-06-30)"
    assert muted.rule_id == failed.rule_id == MFA
    assert [r.name for r in found[0].resources] == ["alice", "break-glass", "bob"]  # untouched
    assert (out.muted_resources, out.stats()["exceptions_applied"]) == (1, 1)


def test_glob_on_name_and_whole_finding_muted() -> None:
    out = apply_exceptions([fail(MFA, "svc-a", "svc-b")], [exc(resource="svc-*")], TODAY)
    [muted] = out.findings
    assert muted.status is Status.MUTED and len(muted.resources) == 2
    assert muted.reason == "accepted: SEC-1 by CISO (exception has no expiry)"


def test_each_exception_gets_its_own_muted_part_first_match_wins() -> None:
    rules = [exc(resource="break-glass", reason="A"), exc(resource="*-bot", reason="B"),
             exc(resource="break-*", reason="C")]
    out = apply_exceptions([fail(MFA, "break-glass", "ci-bot", "alice")], rules, TODAY)
    assert [(f.status, [r.name for r in f.resources], f.reason) for f in out.findings] == [
        (Status.FAIL, ["alice"], None),
        (Status.MUTED, ["break-glass"], "accepted: A (exception has no expiry)"),
        (Status.MUTED, ["ci-bot"], "accepted: B (exception has no expiry)"),
    ]
    assert [(u.matched, u.muted) for u in out.uses] == [(1, 1), (1, 1), (1, 0)]
    assert out.unmatched() == []  # C matched break-glass, though A muted it first


def test_account_limits_the_exception() -> None:
    found = [fail(MFA, "break-glass"), fail(MFA, "break-glass", account=OTHER)]
    out = apply_exceptions(found, [exc(resource="break-glass", account=OTHER)], TODAY)
    assert [(f.account_id, f.status) for f in out.findings] == [
        (ACCT, Status.FAIL), (OTHER, Status.MUTED)]


def test_other_checks_pass_and_error_are_never_muted() -> None:
    passed = fail(MFA).model_copy(update={"status": Status.PASS})
    error = fail(MFA).model_copy(update={"status": Status.ERROR, "reason": "AccessDenied"})
    rotate = fail(ROTATE, "break-glass")
    out = apply_exceptions([passed, error, rotate], [exc()], TODAY)
    assert [f.status for f in out.findings] == [Status.PASS, Status.ERROR, Status.FAIL]
    assert out.muted_resources == 0


def test_expired_exception_is_not_applied_and_reported() -> None:
    out = apply_exceptions([fail(MFA, "break-glass", "alice")],
                           [exc(resource="break-glass", expires="2026-11-23")], TODAY)
    [finding] = out.findings
    assert finding.status is Status.FAIL and len(finding.resources) == 2
    expired_line = (f"exception #1 ({MFA}, break-glass) expired on 2026-11-23 and was not "
                    "applied: 1 resource(s) it covered FAIL again; renew it (new date, same or "
                    "new approval) or remove it")
    assert out.summary_lines() == [
        "muted: 0 failing resource(s) by 0 exception(s) of 1", expired_line]
    assert out.stats() == {"exceptions": 1, "exceptions_applied": 0, "muted_resources": 0,
                           "exceptions_expired": 1, "exceptions_unmatched": 0,
                           "exceptions_attention": expired_line}
    # valid through its last day
    same_day = apply_exceptions([fail(MFA, "break-glass")],
                                [exc(resource="break-glass", expires="2026-11-24")], TODAY)
    assert same_day.findings[0].status is Status.MUTED
    assert "expires on 2026-11-24 (0 day(s) left)" in same_day.summary_lines(TODAY)[1]
    gone = apply_exceptions([fail(MFA, "alice")], [exc(resource="bob", expires="2026-01-01")],
                            TODAY)
    assert gone.summary_lines(TODAY)[1] == (
        f"exception #1 ({MFA}, bob) expired on 2026-01-01 and was not applied; it covers no "
        "failing resource now: remove it")


def test_exception_matching_nothing_is_reported() -> None:
    found = [fail(MFA, "alice"), fail(ROTATE).model_copy(update={"status": Status.PASS}),
             fail("iam_user_accesskey_unused").model_copy(update={"status": Status.ERROR})]
    rules = [exc(resource="brake-glass"), exc(check=ROTATE),
             exc(check="iam_user_accesskey_unused"), exc(check="iam_root_mfa_enabled")]
    out = apply_exceptions(found, rules, TODAY)
    lines = out.summary_lines(TODAY)
    assert lines == [
        "muted: 0 failing resource(s) by 0 exception(s) of 4",
        f"exception #1 ({MFA}, brake-glass) matched no failing resource: fixed since (remove "
        "it) or mistyped (check the id or name glob)",
        f"exception #2 ({ROTATE}, any resource) matched no failing resource: fixed since "
        "(remove it) or mistyped (check the id or name glob)",
        "exception #3 (iam_user_accesskey_unused, any resource) not evaluated: its check "
        "could not run (ERROR)",
    ]  # #4: its check was not part of this run, so nothing is said
    assert out.stats()["exceptions_unmatched"] == 2


def test_fully_muted_partial_fail_keeps_an_error_for_what_was_not_read() -> None:
    f = fail(MFA, "break-glass", reason="partial: bob: AccessDenied")
    out = apply_exceptions([f], [exc(resource="break-glass")], TODAY)
    assert [(x.status, x.reason) for x in out.findings] == [
        (Status.ERROR, "bob: AccessDenied (the failing resources found are muted)"),
        (Status.MUTED, "accepted: SEC-1 by CISO (exception has no expiry)"),
    ]


def test_no_exceptions_changes_nothing() -> None:
    found = [fail(MFA, "alice")]
    out = apply_exceptions(found, [], TODAY)
    assert out.findings == found and out.stats() == {} and out.summary_lines(TODAY) == []


def test_fail_on_ignores_muted() -> None:
    from trailguard.audit.cli import exit_code

    out = apply_exceptions([fail(MFA, "break-glass")], [exc()], TODAY)
    assert exit_code(out.findings, "info") == 0
    assert exit_code([fail(MFA, "break-glass")], "info") == 1


def test_config_without_exceptions_key_has_none() -> None:
    assert AuditConfig().exceptions == []


def test_commented_example_in_audit_example_yaml_is_valid() -> None:
    import yaml

    from trailguard.audit import config as config_module

    text = Path(config_module.__file__).with_name("audit.example.yaml").read_text()
    block = text.split("# exceptions:\n", 1)[1]
    example = yaml.safe_load("\n".join(line[2:] for line in block.splitlines()))
    rules = AuditConfig.model_validate({"exceptions": example}).exceptions
    assert [(e.check, e.resource, e.account) for e in rules] == [
        (MFA, "arn:aws:iam::*:user/break-glass", None), (ROTATE, "vendor-sync", OTHER)]


# --- trailguard audit on a moto account -----------------------------------------------------------

@pytest.fixture()
def console_users(iam) -> None:
    """Three console users without MFA: alice, break-glass, bob."""
    for name in ("alice", "break-glass", "bob"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")


def _audit(cfg: Path, *extra: str):
    return runner.invoke(app, ["audit", "--format", "json", "--config", str(cfg),
                               "--check", MFA, *extra])


def test_cli_mutes_the_excepted_user_and_still_fails_on_the_others(
        aws, console_users, tmp_path: Path) -> None:
    cfg = write(tmp_path, f"""exceptions:
  - check: {MFA}
    resource: "arn:aws:iam::*:user/break-glass"
    reason: "break-glass, password in the safe (RISK-42)"
    expires: 2099-12-31
""")
    r = _audit(cfg)
    assert r.exit_code == 1, r.output  # alice and bob still FAIL (high)
    report = json.loads(r.stdout)
    got = [(f["status"], [x["name"] for x in f["resources"]], f["reason"])
           for f in report["findings"]]
    assert got == [
        ("FAIL", ["alice", "bob"], None),
        ("MUTED", ["break-glass"],
         "accepted: break-glass, password in the safe (RISK-42) (exception expires 2099-12-31)"),
    ]
    assert report["stats"]["muted_resources"] == 1 and report["stats"]["exceptions"] == 1
    assert "exceptions_attention" not in report["stats"]  # nothing expired or unmatched
    assert "MUTED    1  (1 high)" in r.stderr
    assert "muted: 1 failing resource(s) by 1 exception(s) of 1" in r.stderr


def test_cli_fail_on_ignores_a_fully_muted_check(aws, console_users, tmp_path: Path) -> None:
    cfg = write(tmp_path, f"exceptions:\n  - {{check: {MFA}, reason: 'all on SSO by Q1 (T-7)'}}\n")
    r = _audit(cfg, "--fail-on", "info")
    assert r.exit_code == 0, r.output
    assert [f["status"] for f in json.loads(r.stdout)["findings"]] == ["MUTED"]


def test_cli_expired_and_unmatched_exceptions(aws, console_users, tmp_path: Path) -> None:
    cfg = write(tmp_path, f"""exceptions:
  - {{check: {MFA}, resource: break-glass, reason: old approval, expires: 2020-01-31}}
  - {{check: {MFA}, resource: brake-glass, reason: typo}}
""")
    r = _audit(cfg)
    assert r.exit_code == 1
    [finding] = json.loads(r.stdout)["findings"]
    assert finding["status"] == "FAIL" and len(finding["resources"]) == 3
    err = " ".join(r.stderr.split())
    assert (f"exception #1 ({MFA}, break-glass) expired on 2020-01-31 and was not applied: "
            "1 resource(s) it covered FAIL again") in err
    assert f"exception #2 ({MFA}, brake-glass) matched no failing resource" in err
    attention = json.loads(r.stdout)["stats"]["exceptions_attention"]
    assert "#1" in attention and "expired on 2020-01-31" in attention and "#2" in attention


@pytest.mark.parametrize(("text", "message"), [
    ("exceptions:\n  - {check: iam_user_mfa_enabled, reason: x}\n",
     f"unknown check id 'iam_user_mfa_enabled'; did you mean iam_root_mfa_enabled, {MFA},"),
    (f"exceptions:\n  - {{check: {MFA}, resource: break-glass}}\n",
     "exceptions.0.reason: Field required"),
])
def test_cli_bad_exception_exits_2_without_traceback(aws, tmp_path: Path, text: str,
                                                      message: str) -> None:
    r = runner.invoke(app, ["audit", "--config", str(write(tmp_path, text))])
    assert r.exit_code == 2
    assert message in " ".join(r.stderr.split())
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)
