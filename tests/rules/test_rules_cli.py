"""`trailguard rules`: listing, example testing and SIEM export through the root CLI."""

from __future__ import annotations

import json

import pytest
from rules_helpers import RECORD, make_rule
from sigma.backends.test import TextQueryTestBackend
from typer.testing import CliRunner

from trailguard.cli import app

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_json_listing_has_every_alerting_rule(catalog) -> None:
    result = runner.invoke(app, ["rules", "--format", "json"])
    assert result.exit_code == 0, result.output
    rules = json.loads(result.stdout)
    assert len(rules) == sum(1 for i in catalog.rules if i.kind != "correlation-input")
    stop = next(r for r in rules if r["title"] == "CloudTrail Logging Stopped")
    assert stop["level"] == "critical"  # as the knowledge base rates StopLogging
    assert stop["techniques"] == ["T1562.008"]
    assert stop["event_names"] == ["StopLogging"]
    assert stop["explain"] == ["StopLogging"]
    assert stop["examples"]["match"] >= 1 and stop["examples"]["no_match"] >= 1


def test_all_flag_adds_correlation_inputs(catalog) -> None:
    result = runner.invoke(app, ["rules", "--format", "json", "--all"])
    assert len(json.loads(result.stdout)) == len(catalog.rules)


def test_table_lists_ids_titles_levels_attack_and_events(catalog) -> None:
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0
    info = next(i for i in catalog.rules if i.name == "tg_iam_delete_ssh_public_key")
    line = next(ln for ln in result.stdout.splitlines() if info.id in ln)
    for text in ("IAM SSH Public Key Deleted", "medium", "T1531", "DeleteSSHPublicKey"):
        assert text in line


def test_level_and_event_filters() -> None:
    result = runner.invoke(
        app, ["rules", "-f", "json", "--level", "high", "--event", "StopLogging"]
    )
    rules = json.loads(result.stdout)
    titles = {r["title"] for r in rules}
    assert "CloudTrail Logging Stopped" in titles
    assert "Root User Changed Credentials or Logging" in titles
    assert all(r["level"] in ("high", "critical") for r in rules)
    assert "CloudTrail Trail Settings Changed" not in titles


def test_bad_level_is_a_usage_error() -> None:
    result = runner.invoke(app, ["rules", "--level", "severe"])
    assert result.exit_code == 2
    assert "--level must be one of" in result.stderr


def test_rules_test_passes_on_shipped_rules(catalog) -> None:
    result = runner.invoke(app, ["rules", "test"])
    assert result.exit_code == 0, result.output
    total = sum(len(i.examples) for i in catalog.rules)
    assert f"{total}/{total} examples passed across {len(catalog.rules)} rules" in result.stdout


def test_rules_test_fails_on_a_wrong_example(rules_dir) -> None:
    wrong = [
        {"name": "deleted", "match": True, "event": RECORD},
        {"name": "also deleted but declared silent", "match": False, "event": RECORD},
    ]
    result = runner.invoke(
        app, ["rules", "test", "--rules-dir", str(rules_dir(make_rule(examples=wrong)))]
    )
    assert result.exit_code == 1
    assert "also deleted but declared silent" in result.stdout
    assert "1 failed" in result.stdout


def test_invalid_extra_rules_exit_2_with_the_problem(rules_dir) -> None:
    d = rules_dir(make_rule(examples=None))
    result = runner.invoke(app, ["rules", "--rules-dir", str(d)])
    assert result.exit_code == 2
    assert "rule_0.yml" in result.stderr and "no 'examples'" in result.stderr
    assert "Traceback" not in result.output


def test_export_to_unknown_target_never_invents_a_package_name() -> None:
    result = runner.invoke(app, ["rules", "export", "--target", "nosuchsiem"])
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())  # rich wraps long lines
    assert "unknown export target 'nosuchsiem'" in err
    assert "Installed targets: duckdb" in err
    assert "pip install" not in err and "pysigma-backend-nosuchsiem" not in err
    assert "splunk (pysigma-backend-splunk)" in err
    assert "lucene/elasticsearch/eql/esql (pysigma-backend-elasticsearch)" in err


def test_export_to_a_known_missing_backend_names_its_package() -> None:
    result = runner.invoke(app, ["rules", "export", "--target", "esql"])
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    assert "pip install pysigma-backend-elasticsearch" in err
    result = runner.invoke(app, ["rules", "export", "--target", "splunkk"])
    assert "pip install" not in " ".join(result.stderr.split())  # near misses get no hint


def test_export_help_says_what_is_installed() -> None:
    result = runner.invoke(app, ["rules", "export", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.stdout.split())
    assert "duckdb (trailguard's SQL, always available)" in text
    assert "no pySigma backend is installed here" in text  # this machine has none


def test_listing_says_how_many_helper_rules_are_hidden(catalog) -> None:
    hidden = sum(1 for i in catalog.rules if i.kind == "correlation-input")
    assert hidden >= 1
    result = runner.invoke(app, ["rules", "-f", "json"])
    shown = len(json.loads(result.stdout))
    note = " ".join(result.stderr.split())
    assert f"{shown} rule(s) shown; {hidden} helper rule(s)" in note
    assert shown + hidden == len(catalog.rules)
    result = runner.invoke(app, ["rules", "-f", "json", "--all"])
    assert "helper" not in result.stderr
    result = runner.invoke(app, ["rules", "test"])
    out = " ".join(result.stdout.split())
    assert f"across {len(catalog.rules)} rules ({hidden} of them helper rules" in out


@pytest.fixture
def test_backend(monkeypatch):
    """Make pySigma's reference text backend available as export target "test"."""
    monkeypatch.setattr(
        "trailguard.sigma.export.installed_targets", lambda: {"test": TextQueryTestBackend}
    )


def test_export_writes_queries_to_a_file(test_backend, tmp_path, catalog) -> None:
    out = tmp_path / "rules.txt"
    result = runner.invoke(app, ["rules", "export", "--target", "test", "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert 'eventName="StopLogging"' in text
    assert "fieldref" in text  # the other-user rules compare actor and target
    assert "aggregate window=10min count()" in text  # the burst correlation
    assert "111122223333" not in text
    assert f"wrote {len(catalog.rules)} rules for test" in result.stderr


def test_export_to_stdout(test_backend) -> None:
    result = runner.invoke(app, ["rules", "export", "-t", "test"])
    assert result.exit_code == 0
    assert 'eventName="DeactivateMFADevice"' in result.stdout


def test_show_by_name_prints_yaml_and_example_names(catalog) -> None:
    result = runner.invoke(app, ["rules", "show", "tg_iam_deactivate_mfa_device"])
    assert result.exit_code == 0, result.output
    info = next(i for i in catalog.rules if i.name == "tg_iam_deactivate_mfa_device")
    assert info.id in result.stdout
    assert "eventName: DeactivateMFADevice" in result.stdout
    assert "trailguard explain DeactivateMFADevice" in result.stdout
    for ex in info.examples:
        assert ex.name[:40] in result.stdout
    assert "recipientAccountId" not in result.stdout  # records only with --examples


def test_show_by_id_prefix_with_examples(catalog) -> None:
    info = next(i for i in catalog.rules if i.name == "tg_burst_credential_deletions")
    result = runner.invoke(app, ["rules", "show", info.id[:8], "--examples"])
    assert result.exit_code == 0
    assert "type: event_count" in result.stdout
    assert "recipientAccountId: '111122223333'" in result.stdout


def test_show_unknown_rule_exits_2() -> None:
    result = runner.invoke(app, ["rules", "show", "tg_no_such_rule"])
    assert result.exit_code == 2
    assert "no rule with id or name" in result.stderr


EXPORT_FILTER = """
title: Deploy role deletes SSH keys
expires: {expires}
logsource: {{product: aws, service: cloudtrail}}
filter:
  rules: [tg_iam_delete_ssh_public_key]
  deploy:
    userIdentity.arn|startswith: 'arn:aws:sts::111122223333:assumed-role/deploy/'
  condition: not deploy
"""


def test_export_applies_filters_like_scan_and_skips_expired_ones(test_backend, tmp_path) -> None:
    def ssh_query(*args: str) -> tuple[str, str]:
        result = runner.invoke(app, ["rules", "export", "-t", "test", *args])
        assert result.exit_code == 0, result.output
        (line,) = [q for q in result.stdout.splitlines() if 'eventName="DeleteSSHPublicKey"' in q
                   and "userName" not in q]
        return line, result.stderr

    plain, _ = ssh_query()
    active = tmp_path / "active.yml"
    active.write_text(EXPORT_FILTER.format(expires="2999-01-01"))
    tuned, _ = ssh_query("--filters", str(active))
    assert "assumed-role/deploy/" not in plain
    assert tuned.startswith(plain + " and not 'userIdentity.arn' startswith ")
    assert tuned.replace("\\", "").endswith('"arn:aws:sts::111122223333:assumed-role/deploy/"')
    expired = tmp_path / "expired.yml"
    expired.write_text(EXPORT_FILTER.format(expires="2020-01-01"))
    untouched, warning = ssh_query("--filters", str(expired))
    assert untouched == plain
    assert "expired on 2020-01-01: not applied" in " ".join(warning.split())
